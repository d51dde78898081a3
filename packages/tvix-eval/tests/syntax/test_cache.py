"""The on-disk parse cache: hits, misses, and damaged or racing entries."""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import threading
from pathlib import Path

import pytest
from tvix_eval.errors import NixParseError
from tvix_eval.syntax import cache
from tvix_eval.syntax.ast import Source, to_data
from tvix_eval.syntax.cache import cache_dir, decode, encode, parse_cached
from tvix_eval.syntax.parser import parse

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
    monkeypatch.setattr(cache, "parse_source", calls.append)
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
    other = cache.encode(parse("1 + 2"))
    entry.write_bytes(cache._MAGIC + hashlib.sha256(other).digest() + other)
    assert to_data(parse_cached(TEXT, directory=tmp_path)) == to_data(parse(TEXT))


def test_too_deep_to_cache_still_parses(tmp_path: Path) -> None:
    text = "[" * 20_000 + "]" * 20_000
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # other tests may have raised it
    try:
        e = parse_cached(text, directory=tmp_path)
    finally:
        sys.setrecursionlimit(old)
    assert entries(tmp_path) == []
    for _ in range(20_000):
        e = e.items[0] if e.items else e  # type: ignore[union-attr]
    assert e.items == ()  # type: ignore[union-attr]


def test_errors_are_not_cached(tmp_path: Path) -> None:
    for _ in range(2):
        with pytest.raises(NixParseError):
            parse_cached("{ a = ", directory=tmp_path)
    assert entries(tmp_path) == []


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
