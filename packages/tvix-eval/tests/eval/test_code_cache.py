"""Compiled generated code kept between runs (compiler.code_cache)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tvix_eval.api import Evaluator
from tvix_eval.compiler import code_cache
from tvix_eval.io import FilesystemIO

SOURCE = "def f(frame):\n    return frame + 1\n"


@pytest.fixture(autouse=True)
def no_memory_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: nothing compiled in memory."""
    monkeypatch.setattr(code_cache, "_memory", {})


def _run(code: object) -> object:
    ns: dict[str, object] = {}
    exec(code, ns)  # type: ignore[arg-type]
    return ns["f"](41)  # type: ignore[operator]


def test_compiled_code_is_stored_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run(code_cache.compiled(SOURCE, "<t>", str(tmp_path))) == 42
    (entry,) = tmp_path.iterdir()
    assert entry.suffix == ".code"
    assert entry.stat().st_mode & 0o777 == 0o600
    monkeypatch.setattr(code_cache, "_memory", {})

    def no_compile(*args: object) -> object:
        raise AssertionError("compiled again")

    monkeypatch.setattr(code_cache, "compile", no_compile, raising=False)
    assert _run(code_cache.compiled(SOURCE, "<t>", str(tmp_path))) == 42


def test_a_used_entry_is_marked_used_now_and_then(tmp_path: Path) -> None:
    code_cache.compiled(SOURCE, "<t>", str(tmp_path))
    (entry,) = tmp_path.iterdir()
    os.utime(entry, (1000, 1000))  # long unused
    code_cache._memory.clear()
    code_cache.compiled(SOURCE, "<t>", str(tmp_path))
    recent = entry.stat().st_mtime
    assert recent > 1000
    code_cache._memory.clear()
    code_cache.compiled(SOURCE, "<t>", str(tmp_path))
    assert entry.stat().st_mtime == recent  # marked again only after TOUCH_AFTER


def test_file_name_is_part_of_the_key(tmp_path: Path) -> None:
    a = code_cache.compiled(SOURCE, "<a>", str(tmp_path))
    b = code_cache.compiled(SOURCE, "<b>", str(tmp_path))
    assert a.co_filename == "<a>" and b.co_filename == "<b>"
    assert len(list(tmp_path.iterdir())) == 2


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-3],  # torn write
        lambda blob: blob[:12] + bytes([blob[12] ^ 1]) + blob[13:],  # flipped bit in the checksum
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),  # flipped bit in the payload
        lambda blob: b"not a code file",
    ],
)
def test_damaged_entry_is_recompiled(tmp_path: Path, damage: object) -> None:
    code_cache.compiled(SOURCE, "<t>", str(tmp_path))
    (entry,) = tmp_path.iterdir()
    entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    code_cache._memory.clear()
    assert _run(code_cache.compiled(SOURCE, "<t>", str(tmp_path))) == 42
    assert code_cache._load(str(entry), "<t>", SOURCE) is not None  # rewritten whole


def test_entry_of_another_source_under_the_same_key_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(code_cache, "_file_key", lambda filename, source: "same")
    other = "def f(frame):\n    return frame - 1\n"
    assert _run(code_cache.compiled(other, "<t>", str(tmp_path))) == 40
    code_cache._memory.clear()
    assert _run(code_cache.compiled(SOURCE, "<t>", str(tmp_path))) == 42
    code_cache._memory.clear()
    assert _run(code_cache.compiled(SOURCE, "<t>", str(tmp_path))) == 42


def test_unwritable_directory_still_compiles(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert _run(code_cache.compiled(SOURCE, "<t>", str(blocker / "sub"))) == 42


def test_prune_keeps_the_most_recently_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(code_cache, "MAX_ENTRIES", 8)
    for i in range(12):
        path = tmp_path / f"{i:02x}.code"
        path.write_bytes(b"x")
        os.utime(path, (1000 + i, 1000 + i))
    (tmp_path / "other.parse").write_bytes(b"x")
    code_cache._prune(str(tmp_path))
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["06.code", "07.code", "08.code", "09.code", "0a.code", "0b.code", "other.parse"]


def test_evaluator_keeps_hot_lambdas_with_the_parse_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TVIX_CACHE_DIR", str(tmp_path))
    nix = tmp_path / "f.nix"
    nix.write_text("let f = x: x * 2; in f 1 + f 2 + f 3")
    assert Evaluator(io=FilesystemIO()).evaluate_file(str(nix)) == 12
    stored = set(tmp_path.glob("*.code"))
    assert stored  # the body of f, and the templates of its closures
    assert Evaluator(parse_cache=False).evaluate("let g = x: x - 1; in g 1 + g 2") == 1
    assert set(tmp_path.glob("*.code")) == stored
