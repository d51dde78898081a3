"""Files known to compile cleanly have their lambda bodies compiled when first called
(syntax.cache.CleanMark, Compiler(lazy_bodies=True))."""

from __future__ import annotations

from pathlib import Path

import pytest
from tvix_eval.api import Evaluator
from tvix_eval.compiler.compiler import Compiler
from tvix_eval.errors import NixError
from tvix_eval.io import FilesystemIO

LIB = "{ a = x: x + 1; b = y: y * 2; c = z: { inherit z; w = z; }; d = { p ? 1 }: p; }"


def _evaluator() -> Evaluator:
    """Closures only: a lambda compiled to Python source at once never needs its body
    closure-compiled (tested separately)."""
    return Evaluator(io=FilesystemIO(), tier_threshold=None)


@pytest.fixture
def lib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TVIX_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "lib.nix"
    path.write_text(LIB)
    return path


def _compiled_later(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The source offsets of the nodes compiled when first run, from now on."""
    seen: list[int] = []
    original = Compiler._compile_later

    def spy(self: Compiler, node: object, scope: object) -> object:
        seen.append(node.start)  # type: ignore[attr-defined]
        return original(self, node, scope)  # type: ignore[arg-type]

    monkeypatch.setattr(Compiler, "_compile_later", spy)
    return seen


def test_second_evaluation_compiles_only_the_called_bodies(
    lib: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    later = _compiled_later(monkeypatch)
    assert _evaluator().evaluate(f"(import {lib}).a 1") == 2
    assert later == []  # first time: the whole file, so its errors show before it runs
    assert len(list((lib.parent / "cache").glob("*.clean"))) == 1
    ev = _evaluator()
    assert ev.evaluate(f"(import {lib}).a 1") == 2
    assert later == [LIB.index("x + 1")]
    assert ev.print(
        ev.evaluate(f"[ ((import {lib}).d {{ }}) ((import {lib}).c 3) ]", strict=True)
    ) == ("[ 1 { w = 3; z = 3; } ]")
    assert sorted(later) == sorted(
        [LIB.index("x + 1"), LIB.index("{ inherit z"), LIB.index("1 }"), LIB.index("p; }")]
    )


def test_undefined_variables_are_reported_before_evaluation_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TVIX_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "bad.nix"
    path.write_text("{ ok = 1; never = x: undefinedName; }")
    for _ in range(2):
        with pytest.raises(NixError, match="undefined variable 'undefinedName'"):
            _evaluator().evaluate(f"(import {path}).ok")
    assert list((tmp_path / "cache").glob("*.clean")) == []


def test_the_mark_depends_on_the_names_in_scope(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TVIX_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "uses-host.nix"
    path.write_text("{ ok = 1; f = x: hostBuiltin x; }")
    host = _evaluator()
    host.define_builtin("hostBuiltin", 7, global_=True)
    assert host.evaluate(f"(import {path}).ok") == 1
    with pytest.raises(NixError, match="undefined variable 'hostBuiltin'"):
        _evaluator().evaluate(f"(import {path}).ok")


def test_a_forged_chunk_read_later_is_parsed_afresh(
    lib: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tvix_eval.syntax.cache import CacheEntryCorrupt

    assert _evaluator().evaluate(f"(import {lib}).b 2") == 4
    original = Compiler.compile
    body = LIB.index("y * 2")
    failed: list[int] = []

    def compile_(self: Compiler, node: object, scope: object) -> object:
        if getattr(node, "start", None) == body and not failed:
            failed.append(body)
            raise CacheEntryCorrupt(str(lib.parent / "cache" / "missing.parse"), "forged")
        return original(self, node, scope)  # type: ignore[arg-type]

    monkeypatch.setattr(Compiler, "compile", compile_)
    assert _evaluator().evaluate(f"(import {lib}).b 2") == 4
    assert failed == [body]


def test_a_forged_chunk_read_by_the_python_compiler_is_parsed_afresh(
    lib: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tvix_eval.compiler import tiering
    from tvix_eval.syntax.cache import CacheEntryCorrupt

    assert Evaluator(io=FilesystemIO()).evaluate(f"(import {lib}).b 2") == 4
    original = tiering.compile_lambda
    failed: list[object] = []

    def compile_lambda(compiler: object, node: object, scope: object, site: object) -> object:
        if not failed:
            failed.append(node)
            raise CacheEntryCorrupt(str(lib.parent / "cache" / "missing.parse"), "forged")
        return original(compiler, node, scope, site)  # type: ignore[arg-type]

    monkeypatch.setattr(tiering, "compile_lambda", compile_lambda)
    ev = Evaluator(io=FilesystemIO(), tier_threshold=1)
    assert ev.evaluate(f"(import {lib}).b 2") == 4
    assert len(failed) == 1
