"""The public API: evaluate, Evaluator (import cache, IO), to_python."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
import tvix_eval
from tvix_eval.api import Evaluator, evaluate, to_python
from tvix_eval.errors import NixError
from tvix_eval.io import FilesystemIO
from tvix_eval.runtime.values import NixAttrs, Thunk, force


def test_evaluate_returns_values() -> None:
    assert evaluate("1 + 2") == 3
    assert evaluate('"a" + "b"') == "ab"
    value = evaluate("{ a = 1 + 1; }")
    assert isinstance(value, NixAttrs)
    assert isinstance(value.d["a"], Thunk)
    strict = evaluate("{ a = 1 + 1; }", strict=True)
    assert force(strict.d["a"]) == 2


def test_to_python() -> None:
    value = evaluate('{ a = [ 1 2.5 "x" null true ]; b.c = /tmp; }')
    assert to_python(value) == {"a": [1, 2.5, "x", None, True], "b": {"c": PurePosixPath("/tmp")}}


def test_public_names() -> None:
    assert tvix_eval.evaluate("1") == 1
    assert isinstance(tvix_eval.Evaluator(), Evaluator)


def test_pure_by_default(tmp_path: Path) -> None:
    f = tmp_path / "a.nix"
    f.write_text("42")
    with pytest.raises(NixError, match="forbidden"):
        evaluate(f"import {f}")
    assert evaluate(f"import {f}", io=FilesystemIO()) == 42


def test_relative_paths_and_import_cache(tmp_path: Path) -> None:
    (tmp_path / "lib.nix").write_text("{ f = x: x; n = 1; }")
    (tmp_path / "main.nix").write_text("[ ./lib.nix ((import ./lib.nix).n) ]")
    ev = Evaluator(io=FilesystemIO())
    value = ev.evaluate_file(str(tmp_path / "main.nix"), strict=True)
    assert ev.print(value) == f"[ {tmp_path}/lib.nix 1 ]"
    # the import cache keeps the same value: functions inside compare equal
    same = ev.evaluate(f"[ (import {tmp_path}/lib.nix) ] == [ (import {tmp_path}/lib.nix) ]")
    assert same is True


def test_relative_file_name_is_taken_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lib.nix").write_text("{ n = 1; }")
    (tmp_path / "main.nix").write_text("[ ./lib.nix (import ./lib.nix).n ]")
    monkeypatch.chdir(tmp_path)
    ev = Evaluator(io=FilesystemIO())
    assert ev.print(ev.evaluate_file("main.nix", strict=True)) == f"[ {tmp_path}/lib.nix 1 ]"


def test_search_path(tmp_path: Path) -> None:
    (tmp_path / "pkgs").mkdir()
    (tmp_path / "pkgs" / "default.nix").write_text('"found"')
    ev = Evaluator(io=FilesystemIO(), search_path=[f"foo={tmp_path}/pkgs"])
    assert ev.evaluate("import <foo>") == "found"
    assert ev.print(ev.evaluate("builtins.tryEval <nope>", strict=True)) == (
        "{ success = false; value = false; }"
    )


def test_define_builtin() -> None:
    ev = Evaluator()
    ev.define_builtin_source("double", "x: x * 2", global_=True)
    assert ev.evaluate("double 21") == 42
    assert ev.evaluate("builtins.double 2") == 4


def test_to_python_lazy() -> None:
    ev = Evaluator()
    value = ev.evaluate('{ ok = [ 1 { b = "x"; } ]; bad = throw "never"; }')
    view = to_python(value, ev, lazy=True)
    assert sorted(view) == ["bad", "ok"]
    assert view["ok"][0] == 1
    assert view["ok"][1]["b"] == "x"
    with pytest.raises(NixError, match="never"):
        view["bad"]


def test_json_and_xml_printing() -> None:
    from tvix_eval.runtime.printer import print_json, print_xml

    ev = Evaluator()
    value = ev.evaluate('{ a = [ 1 2.5 "x" null true ]; }', strict=True)
    assert ev.run(lambda: print_json(value)) == '{"a":[1,2.5,"x",null,true]}'
    assert ev.run(lambda: print_xml(value)).startswith("<?xml version='1.0' encoding='utf-8'?>")


def test_print_value_deeply_nested() -> None:
    src = "builtins.foldl' (acc: x: [ acc ]) [ ] (builtins.genList (x: x) 20000)"
    text = tvix_eval.print_value(evaluate(src, strict=True))
    assert text.count("[") == 20001


def test_path_interpolation_copies_to_store(tmp_path: Path) -> None:
    """Store paths as C++ Nix computes them (NAR hash of the file, type "source")."""
    (tmp_path / "a").write_text("hi\n")
    ev = Evaluator(io=FilesystemIO())
    value = ev.evaluate(f'"${{{tmp_path}/a}}"')
    assert value == "/nix/store/miacmq2d49l5qm1xgkpr982m3rd9ax08-a"
    assert value.context == frozenset({"/nix/store/miacmq2d49l5qm1xgkpr982m3rd9ax08-a"})
    # path + string stays a path; toString does not copy
    assert ev.print(ev.evaluate(f'{tmp_path} + "/a"')) == f"{tmp_path}/a"
    assert ev.evaluate(f"toString {tmp_path}/a") == f"{tmp_path}/a"


_TRACE_PROGRAMS = [
    "let f = x: x + 1; in f 2",
    "{ a = 1 + 1; b = [ (2 + 2) ]; f = x: x; }",
    "builtins.map (x: x * 2) [ 1 2 3 ]",
    "let fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2); in fib 10",
    "let s = { a = 1; b = s.a + 1; }; in s.b",
    "({ a, b ? a + 1, ... }@args: [ a b args.c ]) { a = 1; c = 3; }",
    "builtins.foldl' (acc: x: acc + x) 0 (builtins.genList (i: i * i) 5)",
    '"${toString (1 + 2)}-${builtins.concatStringsSep "," [ "a" "b" ]}"',
    "rec { x = y; y = 1; }",
    "with { a = 1; }; a + (let g = a: b: a * b; in g 3 4)",
]


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("source", _TRACE_PROGRAMS)
def test_runtime_tracing_does_not_change_results(source: str, strict: bool) -> None:
    plain = Evaluator()
    events: list[str] = []
    traced = Evaluator(trace_runtime=events.append)
    expected = plain.print(plain.evaluate(source, strict=strict))
    assert traced.print(traced.evaluate(source, strict=strict)) == expected


@pytest.mark.parametrize(
    "source",
    ["let f = x: x.a; in f 1", "builtins.head []", "let f = { a }: a; in f { b = 1; }", "1 + null"],
)
def test_runtime_tracing_keeps_errors(source: str) -> None:
    with pytest.raises(NixError) as plain:
        Evaluator().evaluate(source)
    with pytest.raises(NixError) as traced:
        Evaluator(trace_runtime=lambda _: None).evaluate(source)
    assert str(traced.value) == str(plain.value)


def test_runtime_tracing_reports_calls_and_forced_thunks() -> None:
    events: list[str] = []
    ev = Evaluator(trace_runtime=events.append)
    assert ev.evaluate("let f = x: x + 1;\n  y = f 2;\nin [ y (builtins.head [ y ]) ]", strict=True)
    assert events == [
        "force thunk at (string):2:7",
        "force thunk at (string):1:9",
        "call 'f' at (string):2:7",
        "force thunk at (string):3:9",
        "call 'head' at (string):3:9",
        "force thunk at (string):3:23",
    ]


def test_runtime_tracing_is_off_by_default() -> None:
    from tvix_eval.compiler.compiler import Compiler

    ev = Evaluator()
    assert ev.trace_runtime is None
    compiler = Compiler(ev.globals, "/")
    assert "compile" not in vars(compiler)


# --- the parse cache and gc.freeze ------------------------------------------------------

_LIB = """{ lib ? {} }: rec {
  double = x: x * 2;
  values = builtins.genList (i: { n = i; d = double i; }) 50;
  total = builtins.foldl' (a: v: a + v.d) 0 values;
  where = __curPos;
  broken = assert total == 1; 1;
}
"""


def _run_lib(path: Path, **options: object) -> tuple[object, str]:
    ev = Evaluator(io=FilesystemIO(), **options)  # type: ignore[arg-type]
    total = ev.evaluate(f"(import {path} {{}}).total", strict=True)
    where = ev.evaluate(f"(import {path} {{}}).where", strict=True)
    with pytest.raises(NixError) as failure:
        ev.evaluate(f"(import {path} {{}}).broken", strict=True)
    return (total, to_python(where)), failure.value.render()


@pytest.fixture
def lib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``_LIB`` in a file, with a parse cache of its own in ``tmp_path/cache``."""
    monkeypatch.setenv("TVIX_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "lib.nix"
    path.write_text(_LIB)
    return path


def test_imported_files_go_through_the_parse_cache(
    lib: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tvix_eval.syntax import cache

    fresh = _run_lib(lib)
    assert len(list((tmp_path / "cache").glob("*.parse"))) == 1

    def no_parsing(*_: object) -> None:
        raise AssertionError("parsed although cached")

    monkeypatch.setattr(cache, "_parse", no_parsing)
    # Same values, positions and error messages from the lazily loaded tree.
    assert _run_lib(lib) == fresh
    assert fresh[0][0] == 2450
    assert fresh[0][1] == {"column": 11, "file": str(lib), "line": 5}
    assert f"at {lib}:6:12" in fresh[1]


@pytest.mark.parametrize("how", ["option", "environment"])
def test_parse_cache_can_be_turned_off(
    how: str, lib: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options: dict[str, object] = {}
    if how == "option":
        options["parse_cache"] = False
    else:
        monkeypatch.setenv("TVIX_PARSE_CACHE", "0")
    assert _run_lib(lib, **options)[0][0] == 2450
    assert not (tmp_path / "cache").exists()


def test_one_shot_moves_code_out_of_the_collector() -> None:
    import gc

    before = gc.get_freeze_count()
    threshold = gc.get_threshold()
    try:
        assert Evaluator(one_shot=True).evaluate("let f = x: x + 1; in f 1") == 2
        assert gc.get_freeze_count() > before
        # and the collector keeps the evaluation budget for the rest of the process
        assert gc.get_threshold()[0] > threshold[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    assert Evaluator().evaluate("let f = x: x + 1; in f 1") == 2
    assert gc.get_freeze_count() == 0


def test_forged_cache_entry_is_discarded_and_the_file_parsed_afresh(
    lib: Path, tmp_path: Path
) -> None:
    import hashlib

    from tvix_eval.syntax import cache

    fresh = _run_lib(lib)
    [entry] = (tmp_path / "cache").glob("*.parse")
    good = entry.read_bytes()
    payload = bytearray(good[len(cache._MAGIC) + 32 :])
    payload[-8:] = b"\xff" * 8  # a malformed chunk behind a valid checksum
    entry.write_bytes(cache._MAGIC + hashlib.sha256(payload).digest() + payload)
    assert _run_lib(lib) == fresh
    assert entry.read_bytes() == good  # discarded, then stored again
