"""``tvix eval`` and ``tvix instantiate --eval``: outputs, flags, errors and exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Tvix = Callable[..., Any]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 + 1", "2\n"),
        ('"a\\nb"', '"a\\nb"\n'),
        ("{ a = 1 + 1; b = 2; }", "{ a = <CODE>; b = 2; }\n"),
        ("[ (1 + 1) ]", "[ <CODE> ]\n"),
        ("x: x", "<LAMBDA>\n"),
        ("builtins.map", "<PRIMOP>\n"),
        ("1.5", "1.5\n"),
        ("null", "null\n"),
    ],
)
def test_eval_prints_like_nix(tvix: Tvix, expr: str, expected: str) -> None:
    r = tvix("eval", "-E", expr)
    assert (r.code, r.out) == (0, expected)


def test_strict(tvix: Tvix) -> None:
    r = tvix("eval", "--strict", "-E", "{ a = 1 + 1; b = [ (2 + 2) { c = 3; } ]; f = x: x; }")
    assert r.out == "{ a = 2; b = [ 4 { c = 3; } ]; f = <LAMBDA>; }\n"


def test_json_strict_and_lazy(tvix: Tvix) -> None:
    assert tvix("eval", "--strict", "--json", "-E", '{ a = [ 1 "x" ]; }').out == '{"a":[1,"x"]}'
    lazy = tvix("eval", "--json", "-E", "{ a = 1 + 1; }")
    assert lazy.code == 1
    assert "cannot convert a thunk to JSON" in lazy.err


def test_xml(tvix: Tvix) -> None:
    r = tvix("instantiate", "--eval", "--xml", "--no-location", "--strict", "-E", "{ a = 1; }")
    assert r.out == (
        "<?xml version='1.0' encoding='utf-8'?>\n<expr>\n  <attrs>\n    <attr name=\"a\">\n"
        '      <int value="1" />\n    </attr>\n  </attrs>\n</expr>\n'
    )
    lazy = tvix("eval", "--xml", "-E", "{ a = 1 + 1; }")
    assert "<unevaluated />" in lazy.out


def test_raw(tvix: Tvix) -> None:
    assert tvix("eval", "--raw", "-E", '"a\\nb"').out == "a\nb"
    bad = tvix("eval", "--raw", "-E", "1")
    assert bad.code == 1
    assert bad.err == "error: cannot coerce an integer to a string\n"


def test_attr_paths_and_auto_call(tvix: Tvix) -> None:
    expr = "{ a ? 1, b }: { x = [ a { y = b; } ]; }"
    assert tvix("eval", "-E", expr, "--arg", "b", "2 + 3", "-A", "x.1.y").out == "5\n"
    assert tvix("eval", "-E", expr, "--argstr", "b", "s", "-A", "x.1.y").out == '"s"\n'
    r = tvix("eval", "-E", "{ x = [ 1 ]; }", "-A", "x.3")
    assert (r.code, r.err) == (1, "error: list index 3 in selection path 'x.3' is out of range\n")
    r = tvix("eval", "-E", "{ x = 1; }", "-A", "z")
    assert r.err == (
        "error: attribute 'z' in selection path 'z' not found\n       Did you mean x?\n"
    )
    r = tvix("eval", "-E", "{ a }: a", "--argstr", "b", "c")
    assert r.code == 1
    assert "cannot evaluate a function that has an argument without a value ('a')" in r.err
    # without any --arg a function is printed, not called
    assert tvix("eval", "-E", "{ a }: a").out == "<LAMBDA>\n"


def test_several_attr_paths_and_inputs(tvix: Tvix) -> None:
    r = tvix("eval", "-E", "{ a = 1; b = 2; }", "{ a = 3; b = 4; }", "-A", "a", "-A", "b")
    assert r.out == "1\n2\n3\n4\n"


def test_files_directories_and_stdin(tvix: Tvix, tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "default.nix").write_text("{ v = import ./v.nix; }")
    (tmp_path / "d" / "v.nix").write_text("40 + 2")
    assert tvix("eval", "--strict", "d").out == "{ v = 42; }\n"
    assert tvix("eval", "-A", "v", str(tmp_path / "d" / "default.nix")).out == "42\n"
    assert tvix("eval", "-", stdin="6 * 7").out == "42\n"
    (tmp_path / "default.nix").write_text('"here"')
    assert tvix("eval").out == '"here"\n'


def test_search_path(tvix: Tvix, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "x.nix").write_text("7")
    assert tvix("eval", "-I", f"foo={tmp_path / 'lib'}", "-E", "import <foo/x.nix>").out == "7\n"
    monkeypatch.setenv("NIX_PATH", f"bar={tmp_path / 'lib'}")
    assert tvix("eval", "-E", "import <bar/x.nix>").out == "7\n"
    r = tvix("eval", "-E", "<nope>")
    assert r.code == 1
    assert "file 'nope' was not found in the Nix search path" in r.err


def test_corepkgs_fetchurl_is_bundled(tvix: Tvix) -> None:
    assert tvix("eval", "-E", "<nix/fetchurl.nix>").out == "/__corepkgs__/fetchurl.nix\n"
    assert tvix("eval", "-E", "import <nix/fetchurl.nix>").out == "<LAMBDA>\n"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("eval", "missing.nix"), "error: getting status of '"),
        (("eval", "-E", 'throw "boom"'), "error: boom"),
        (("eval", "-E", "1 +"), "error: syntax error"),
        (("eval", "-E", "{ a = 1; }.b"), "error: attribute 'b' missing"),
        (("eval", "--store", "nope://x", "-E", 'builtins.toFile "a" "b"'), "error:"),
    ],
)
def test_user_errors_exit_1_without_traceback(
    tvix: Tvix, args: tuple[str, ...], needle: str
) -> None:
    r = tvix(*args)
    assert r.code == 1
    assert needle in r.err
    assert "Traceback" not in r.err


@pytest.mark.parametrize(
    "args",
    [
        ("eval", "--no-such-flag"),
        ("eval", "--arg", "x"),
        ("frobnicate",),
        ("eval", "--json", "--xml", "-E", "1"),
    ],
)
def test_usage_errors_exit_2(tvix: Tvix, args: tuple[str, ...]) -> None:
    r = tvix(*args)
    assert r.code == 2
    assert "Traceback" not in r.err


def test_version(tvix: Tvix) -> None:
    assert tvix("--version").out == "tvix 0.1.0\n"


def test_parse(tvix: Tvix) -> None:
    r = tvix("instantiate", "--parse", "-E", "1 + 2")
    assert r.code == 0
    assert r.out.strip()


def test_attr_path_parsing() -> None:
    from tvix_cli.toplevel import parse_attr_path

    assert parse_attr_path("") == []
    assert parse_attr_path("a.b") == ["a", "b"]
    assert parse_attr_path("a.") == ["a"]
    assert parse_attr_path(".a") == ["", "a"]
    assert parse_attr_path('a."b.c".0') == ["a", "b.c", "0"]


def test_functor_auto_call(tvix: Tvix) -> None:
    assert tvix("eval", "-E", "{ __functor = s: x: x; }", "--arg", "x", "1").out == "<LAMBDA>\n"
    assert tvix("eval", "-E", "{ __functor = s: { x }: x; }", "--arg", "x", "1").out == "1\n"


def test_missing_argument_points_at_the_formal(tvix: Tvix, tmp_path: Path) -> None:
    (tmp_path / "f.nix").write_text("{ a ? 1, b }: a")
    r = tvix("eval", "f.nix", "--arg", "a", "2")
    assert f"at {tmp_path}/f.nix:1:10:" in r.err


def test_empty_selection_component(tvix: Tvix) -> None:
    assert tvix("eval", "-E", "{ a = { b = 1; }; }", "-A", "a.").out == "{ b = 1; }\n"
    r = tvix("eval", "-E", "{ a = 1; }", "-A", ".a")
    assert r.err == "error: empty attribute name in selection path '.a'\n"


def test_search_path_file_argument(tvix: Tvix, tmp_path: Path) -> None:
    (tmp_path / "sp" / "pkgs").mkdir(parents=True)
    (tmp_path / "sp" / "pkgs" / "default.nix").write_text("{ v = 5; }")
    r = tvix("eval", "-I", f"p={tmp_path / 'sp'}", "<p/pkgs>", "-A", "v")
    assert (r.code, r.out) == (0, "5\n")
    r = tvix("eval", "<nothere>")
    assert r.code == 1
    assert r.err.startswith("error: file 'nothere' was not found in the Nix search path")


def test_add_root_symlinks(tvix: Tvix, tmp_path: Path) -> None:
    drv = 'derivation { name = "foo"; builder = "/bin/sh"; system = "x86_64-linux"; }'
    r = tvix("instantiate", "--store", "memory://", "--add-root", "res", "-E", drv, drv)
    assert r.out == f"{tmp_path}/res\n{tmp_path}/res-2\n"
    assert str((tmp_path / "res").readlink()).endswith("-foo.drv")
    assert "--add-root" not in r.err


def test_parse_checks_variables(tvix: Tvix) -> None:
    r = tvix("instantiate", "--parse", "-E", "x: y")
    assert r.code == 1
    assert r.err.startswith("error: undefined variable 'y'")
    assert tvix("instantiate", "--parse", "-E", "x: x").out == "(x: x)\n"


def test_compile_only_and_display_ast(tvix: Tvix) -> None:
    r = tvix("eval", "--compile-only", "-E", 'throw "not run"')
    assert (r.code, r.out, r.err) == (0, "", "")
    r = tvix("eval", "--compile-only", "-E", "x: y")
    assert r.code == 1
    assert "undefined variable 'y'" in r.err
    r = tvix("eval", "--display-ast", "-E", "1")
    assert r.out == "1\n"
    assert r.err.startswith("AST: ")


def test_trace_runtime_and_no_warnings(tvix: Tvix) -> None:
    expr = (
        '(derivation { name = "t"; builder = "b"; system = "s"; '
        'outputHash = ""; outputHashAlgo = "sha256"; }).outPath'
    )
    r = tvix("eval", "--trace-runtime", "-E", expr)
    assert r.code == 0
    assert "trace: instantiated /nix/store/" in r.err
    assert "warning: found empty hash, assuming 'sha256-" in r.err
    quiet = tvix("eval", "--no-warnings", "-E", expr)
    assert (quiet.out, quiet.err) == (r.out, "")


def test_internal_errors_are_reported_not_raised(
    tvix: Tvix, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tvix_cli import runner

    def broken(*args: object) -> str:
        raise RuntimeError("bug")

    monkeypatch.setattr(runner, "render", broken)
    r = tvix("eval", "-E", "1")
    assert (r.code, r.err) == (1, "error: internal error: RuntimeError: bug\n")


def test_compile_only_prints_warnings(tvix: Tvix) -> None:
    r = tvix("eval", "--compile-only", "-E", "let a = 1; url = http://x.org; in url")
    assert r.code == 0
    assert r.out == ""
    assert "warning: variable 'a' is declared, but never used [W003]" in r.err
    assert "warning: URL literal syntax is deprecated" in r.err
    assert "at «string»:1:5:" in r.err
    quiet = tvix("eval", "--compile-only", "--no-warnings", "-E", "let a = 1; in 2")
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "")
    # like C++ Nix, a plain evaluation prints none of them
    plain = tvix("eval", "-E", "let a = 1; in 2")
    assert (plain.out, plain.err) == ("2\n", "")


def test_trace_runtime_reports_calls_and_forced_thunks(tvix: Tvix) -> None:
    r = tvix("eval", "--trace-runtime", "-E", "let f = x: x + 1; in f 2")
    assert (r.code, r.out) == (0, "3\n")
    assert r.err.splitlines() == [
        "trace: force thunk at (string):1:9",
        "trace: call 'f' at (string):1:22",
    ]
    plain = tvix("eval", "-E", "let f = x: x + 1; in f 2")
    assert (plain.code, plain.out, plain.err) == (0, "3\n", "")


def test_show_stats(tvix: Tvix, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """NIX_SHOW_STATS=1, as with C++ Nix: the counts of the evaluation's work as JSON on stderr,
    or in NIX_SHOW_STATS_PATH."""
    src = "builtins.foldl' (a: x: a // { ${toString x} = x; }) { } [ 1 2 3 ]"
    monkeypatch.setenv("NIX_SHOW_STATS", "1")
    r = tvix("eval", "--strict", "-E", src)
    assert r.code == 0
    assert r.out == '{ "1" = 1; "2" = 2; "3" = 3; }\n'
    stats = json.loads(r.err)
    assert stats["nrFunctionCalls"] == 6
    assert stats["nrOpUpdates"] == 3
    assert stats["nrOpUpdateValuesCopied"] == 5  # { } // … copies nothing, then 2 and 3
    assert stats["cpuTime"] > 0
    path = tmp_path / "stats.json"
    monkeypatch.setenv("NIX_SHOW_STATS_PATH", str(path))
    r = tvix("eval", "--strict", "-E", src)
    assert r.err == ""
    assert json.loads(path.read_text())["nrFunctionCalls"] == 6


def test_no_stats_by_default(tvix: Tvix, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NIX_SHOW_STATS", raising=False)
    r = tvix("eval", "-E", "1")
    assert (r.code, r.out, r.err) == (0, "1\n", "")
