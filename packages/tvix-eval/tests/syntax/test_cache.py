"""The on-disk parse cache: hits, misses, damaged or racing entries, and lazy loading."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import sys
import threading
from array import array
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from syntax_helpers import corpus_files, exprs
from tvix_eval.errors import NixParseError
from tvix_eval.syntax import ast as A
from tvix_eval.syntax import cache
from tvix_eval.syntax.ast import Source, to_data
from tvix_eval.syntax.cache import cache_dir, decode, encode, parse_cached
from tvix_eval.syntax.parser import parse
from tvix_eval.syntax.printer import pretty

TEXT = 'let f = { a, b ? 2, ... }@args: a + b; in [ (f { a = 1; }) "x${toString 1}" ./p/${"q"} ]'


def entries(d: Path) -> list[Path]:
    return sorted(d.glob("*.parse"))


def test_cache_dir_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TVIX_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("TVIX_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x" / "tvix-eval" / "parse"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert cache_dir() == tmp_path / "h" / ".cache" / "tvix-eval" / "parse"


def test_encode_decode_keeps_positions() -> None:
    e = parse(TEXT, "f.nix")
    src = Source("g.nix", TEXT)
    back = decode(encode(e), src)
    assert to_data(back) == to_data(e)
    assert back.source.name == "g.nix" and back.source.text == TEXT
    assert (back.start, back.end) == (e.start, e.end)
    assert back.body.items[1].span.column == TEXT.index('"x') + 1 == 60  # type: ignore[union-attr]


def test_miss_then_hit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TVIX_CACHE_DIR", str(tmp_path))
    first = parse_cached(TEXT, "a.nix")
    [entry] = entries(tmp_path)
    calls: list[object] = []
    monkeypatch.setattr(cache, "_parse", calls.append)
    second = parse_cached(TEXT, "b.nix")
    assert calls == []
    assert to_data(second) == to_data(first)
    assert second.source.name == "b.nix"
    assert entries(tmp_path) == [entry]


def test_parser_version_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    parse_cached(TEXT, directory=tmp_path)
    monkeypatch.setattr(cache, "PARSER_VERSION", "other")
    parse_cached(TEXT, directory=tmp_path)
    assert len(entries(tmp_path)) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: len(b) // 2],  # truncated
        lambda b: b[:-1] + bytes([b[-1] ^ 1]),  # flipped bit
        lambda b: b"garbage",
        lambda b: b"",
        lambda b: b[:6] + b"\0" * 32 + b[38:],  # wrong checksum
    ],
)
def test_damaged_entries_are_ignored_and_rewritten(damage: object, tmp_path: Path) -> None:
    expected = to_data(parse_cached(TEXT, directory=tmp_path))
    [entry] = entries(tmp_path)
    good = entry.read_bytes()
    entry.write_bytes(damage(good))  # type: ignore[operator]
    assert to_data(parse_cached(TEXT, directory=tmp_path)) == expected
    assert entry.read_bytes() == good


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps(("not", "a", "tree")),
        pickle.dumps(os.getcwd),  # a callable: refused by the restricted unpickler
        b"\x80\x05garbage",
    ],
)
def test_well_formed_but_wrong_payload_is_ignored(payload: bytes, tmp_path: Path) -> None:
    parse_cached(TEXT, directory=tmp_path)
    [entry] = entries(tmp_path)
    entry.write_bytes(cache._MAGIC + hashlib.sha256(payload).digest() + payload)
    assert to_data(parse_cached(TEXT, directory=tmp_path)) == to_data(parse(TEXT))


def test_entry_for_another_text_is_ignored(tmp_path: Path) -> None:
    parse_cached(TEXT, directory=tmp_path)
    [entry] = entries(tmp_path)
    other = cache.encode(parse("1 + 2"))  # the text's hash inside does not match
    entry.write_bytes(cache._MAGIC + hashlib.sha256(other).digest() + other)
    assert to_data(parse_cached(TEXT, directory=tmp_path)) == to_data(parse(TEXT))


def test_deep_trees_are_cached_in_chunks(tmp_path: Path) -> None:
    text = "[" * 20_000 + "]" * 20_000
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # other tests may have raised it
    try:
        first = parse_cached(text, directory=tmp_path)
        assert len(entries(tmp_path)) == 1
        e = parse_cached(text, directory=tmp_path)
        for _ in range(20_000):  # filling in one level never recurses into the next
            e = e.items[0] if e.items else e  # type: ignore[union-attr]
        assert e.items == ()  # type: ignore[union-attr]
    finally:
        sys.setrecursionlimit(old)
    assert positioned(parse_cached(text, directory=tmp_path)) == positioned(first)


def test_errors_are_not_cached(tmp_path: Path) -> None:
    for _ in range(2):
        with pytest.raises(NixParseError):
            parse_cached("{ a = ", directory=tmp_path)
    assert entries(tmp_path) == []


def test_no_home_directory_means_no_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TVIX_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cache, "cache_dir", lambda: Path("~/.cache/tvix-eval/parse"))
    assert to_data(parse_cached(TEXT)) == to_data(parse(TEXT))
    assert list(tmp_path.iterdir()) == []


def test_unwritable_directory_still_parses(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert to_data(parse_cached(TEXT, directory=blocker / "sub")) == to_data(parse(TEXT))


def test_concurrent_writers(tmp_path: Path) -> None:
    expected = to_data(parse(TEXT))
    results: list[object] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                results.append(to_data(parse_cached(TEXT, directory=tmp_path)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [expected] * 30
    assert len(entries(tmp_path)) == 1
    assert list(tmp_path.glob(".tmp-*")) == []


# --- lazy loading -------------------------------------------------------------------


def positioned(node: object) -> object:
    """``to_data`` with every node's class, offsets and source name (iteratively, for depth)."""
    out: list[object] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, A.Node):
            out.append((type(item).__name__, item.start, item.end, item.source.name))
            stack.extend(getattr(item, f) for f in item.__slots__)
        elif isinstance(item, tuple):
            out.append(len(item))
            stack.extend(item)
        else:
            out.append(item)
    return out


def round_trip(e: A.Expr, span: int, monkeypatch: pytest.MonkeyPatch) -> A.Expr:
    monkeypatch.setattr(cache, "CHUNK_SPAN", span)
    return decode(encode(e), Source(e.source.name, e.source.text))


CORPUS = corpus_files()


@pytest.mark.skipif(not CORPUS, reason="the seed test corpus (../shared) is not available")
@pytest.mark.parametrize("span", [1, 16, cache.CHUNK_SPAN])
def test_corpus_round_trips_with_positions(span: int, monkeypatch: pytest.MonkeyPatch) -> None:
    checked = 0
    for path in CORPUS:
        try:
            e = parse(path.read_bytes(), str(path))
        except NixParseError:
            continue
        assert positioned(round_trip(e, span, monkeypatch)) == positioned(e), path
        checked += 1
    assert checked > 300


@settings(max_examples=150)
@given(exprs(), st.integers(min_value=1, max_value=64))
def test_generated_trees_round_trip(e: A.Expr, span: int) -> None:
    text = pretty(e)
    parsed = parse(text)
    with pytest.MonkeyPatch.context() as mp:
        back = round_trip(parsed, span, mp)
    assert positioned(back) == positioned(parsed)


def test_loading_leaves_large_nodes_unfilled(monkeypatch: pytest.MonkeyPatch) -> None:
    body = "; ".join(f"a{i} = [ {i} {i + 1} ]" for i in range(200))
    text = f"{{ {body}; }}"
    root = round_trip(parse(text), 64, monkeypatch)
    assert hasattr(root, "_pending")  # nothing read yet: position only
    assert (root.start, root.end) == (0, len(text))
    first = root.bindings[0]  # type: ignore[union-attr]
    assert not hasattr(root, "_pending")
    assert first.path == ("a0",)
    assert to_data(root) == to_data(parse(text))


def test_missing_attribute_is_an_ordinary_error(monkeypatch: pytest.MonkeyPatch) -> None:
    root = round_trip(parse("[ " + "1 " * 1000 + "]"), 16, monkeypatch)
    for node in (root, parse("1")):
        with pytest.raises(AttributeError, match="has no attribute 'nope'"):
            node.nope  # type: ignore[union-attr] # noqa: B018
        assert getattr(node, "nope", None) is None


def test_concurrent_filling_in(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "[ " + " ".join(f"{{ a = {i}; b = [ {i} ]; }}" for i in range(2000)) + " ]"
    expected = to_data(parse(text))
    root = round_trip(parse(text), 32, monkeypatch)
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(to_data(root))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


def test_forged_chunk_is_reported_when_filled_in(tmp_path: Path) -> None:
    text = "[ " + "1 " * 2000 + "]"
    parse_cached(text, "f.nix", directory=tmp_path)
    [entry] = entries(tmp_path)
    payload = bytearray(entry.read_bytes()[len(cache._MAGIC) + 32 :])
    payload[-20:] = b"\xff" * 20  # inside the root's chunk; the table still checks out
    entry.write_bytes(cache._MAGIC + hashlib.sha256(payload).digest() + payload)
    root = parse_cached(text, "f.nix", directory=tmp_path)
    with pytest.raises(cache.CacheEntryCorrupt, match=re.escape(str(entry))):
        root.items  # type: ignore[union-attr] # noqa: B018


@pytest.mark.parametrize(
    "mutate",
    [
        lambda table: table.__setitem__(0, 10**9),  # chunk beyond the payload
        lambda table: table.__setitem__(2, 999),  # no such class
        lambda table: table.__setitem__(4, 10**9),  # end beyond the text
        lambda table: table.__setitem__(3, table[4] + 1),  # start after end
    ],
)
def test_bad_chunk_table_is_ignored(mutate: object, tmp_path: Path) -> None:
    parse_cached(TEXT, directory=tmp_path)
    [entry] = entries(tmp_path)
    payload = entry.read_bytes()[len(cache._MAGIC) + 32 :]
    count = cache._HEADER.unpack_from(payload)[1]
    table = array("q")
    end = cache._HEADER.size + count * cache._ROW * table.itemsize
    table.frombytes(payload[cache._HEADER.size : end])
    mutate(table)  # type: ignore[operator]
    forged = payload[: cache._HEADER.size] + table.tobytes() + payload[end:]
    entry.write_bytes(cache._MAGIC + hashlib.sha256(forged).digest() + forged)
    assert to_data(parse_cached(TEXT, directory=tmp_path)) == to_data(parse(TEXT))


def test_pruning_keeps_the_recently_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cache, "MAX_ENTRIES", 8)
    monkeypatch.setattr(cache, "_PRUNE_PREFIX", "-")  # prune only when told below
    texts = [f"[ {i} ]" for i in range(12)]
    for text in texts:
        parse_cached(text, directory=tmp_path)
    by_text = {t: tmp_path / f"{cache._key(cache._text_hash(t))}.parse" for t in texts}
    for age, text in enumerate(texts):  # oldest first
        os.utime(by_text[text], (1_000_000 + age, 1_000_000 + age))
    parse_cached(texts[0], directory=tmp_path)  # a hit: now the most recently used
    cache._prune(tmp_path)
    kept = {t for t, p in by_text.items() if p.exists()}
    assert kept == {texts[0], *texts[7:]}  # 6 = 3/4 of 8 entries, the least recently used gone
    cache._prune(tmp_path)  # within the limit: nothing more goes
    assert {t for t, p in by_text.items() if p.exists()} == kept


def test_some_stores_prune(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pruned: list[Path] = []
    monkeypatch.setattr(cache, "_prune", pruned.append)
    monkeypatch.setattr(cache, "_PRUNE_PREFIX", "")  # every key qualifies
    parse_cached(TEXT, directory=tmp_path)
    assert pruned == [tmp_path]
    monkeypatch.setattr(cache, "_PRUNE_PREFIX", "-")  # no hex key does
    parse_cached("1", directory=tmp_path)
    assert pruned == [tmp_path]
