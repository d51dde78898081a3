# ruff: noqa: E501  (expected outputs are kept verbatim)
"""Error reports: the exact text C++ Nix 2.8 prints (message, location, source line, caret)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tvix_eval.api import Evaluator
from tvix_eval.errors import NixError
from tvix_eval.io import FilesystemIO
from tvix_eval.runtime.errors import CatchableError, EvalError, InfiniteRecursion, ThrownError

from .conftest import requires_nix, run_nix

# (expression, what nix-instantiate --eval --strict prints on stderr)
CASES: list[tuple[str, str]] = [
    (
        "let f = x: x.a; in f 1",
        "error: value is an integer while a set was expected\n\n       at «string»:1:12:\n\n            1| let f = x: x.a; in f 1\n             |            ^",
    ),
    ('throw "foo"', "error: foo"),
    ('abort "foo"', "error: evaluation aborted with the following error message: 'foo'"),
    (
        "assert 1 == 2; 1",
        "error: assertion '(1 == 2)' failed\n\n       at «string»:1:1:\n\n            1| assert 1 == 2; 1\n             | ^",
    ),
    (
        "let x = x; in x",
        "error: infinite recursion encountered\n\n       at «string»:1:9:\n\n            1| let x = x; in x\n             |         ^",
    ),
    (
        '1 + "a"',
        'error: cannot add a string to an integer\n\n       at «string»:1:5:\n\n            1| 1 + "a"\n             |     ^',
    ),
    (
        "1 / 0",
        "error: division by zero\n\n       at «string»:1:1:\n\n            1| 1 / 0\n             | ^",
    ),
    (
        "1 2",
        "error: attempt to call something which is not a function but an integer\n\n       at «string»:1:1:\n\n            1| 1 2\n             | ^",
    ),
    (
        "{}.a",
        "error: attribute 'a' missing\n\n       at «string»:1:1:\n\n            1| {}.a\n             | ^",
    ),
    (
        '"${{}}"',
        'error: cannot coerce a set to a string\n\n       at «string»:1:2:\n\n            1| "${{}}"\n             |  ^',
    ),
    (
        "if 1 then 1 else 2",
        "error: value is an integer while a Boolean was expected\n\n       at «string»:1:1:\n\n            1| if 1 then 1 else 2\n             | ^",
    ),
    (
        "x",
        "error: undefined variable 'x'\n\n       at «string»:1:1:\n\n            1| x\n             | ^",
    ),
    (
        "with {}; x",
        "error: undefined variable 'x'\n\n       at «string»:1:10:\n\n            1| with {}; x\n             |          ^",
    ),
    (
        "builtins.head []",
        "error: list index 0 is out of bounds\n\n       at «string»:1:1:\n\n            1| builtins.head []\n             | ^",
    ),
    (
        "let f = {a}: a; in f {}",
        "error: 'f' at (string):1:9 called without required argument 'a'\n\n       at «string»:1:20:\n\n            1| let f = {a}: a; in f {}\n             |                    ^",
    ),
    (
        "[ (builtins.elemAt [1] 5) ]",
        "error: list index 5 is out of bounds\n\n       at «string»:1:4:\n\n            1| [ (builtins.elemAt [1] 5) ]\n             |    ^",
    ),
    (
        "{ a = 1; }.b.c",
        "error: attribute 'b' missing\n\n       at «string»:1:1:\n\n            1| { a = 1; }.b.c\n             | ^\n       Did you mean a?",
    ),
    (
        "let s = { f = {a}: a; }; in s.f {}",
        "error: 'f' at (string):1:15 called without required argument 'a'\n\n       at «string»:1:29:\n\n            1| let s = { f = {a}: a; }; in s.f {}\n             |                             ^",
    ),
    (
        "true && 1",
        "error: value is an integer while a Boolean was expected\n\n       at «string»:1:1:\n\n            1| true && 1\n             | ^",
    ),
    ('1 < "a"', "error: cannot compare an integer with a string"),
    (
        "builtins.tail []",
        "error: 'tail' called on an empty list\n\n       at «string»:1:1:\n\n            1| builtins.tail []\n             | ^",
    ),
]


def _render(evaluator: Evaluator, src: str) -> str:
    try:
        value = evaluator.evaluate(src, strict=True)
    except NixError as e:
        return e.render()
    return evaluator.print(value)


@pytest.mark.parametrize(("src", "want"), CASES, ids=[c[0][:40] for c in CASES])
def test_render(evaluator: Evaluator, src: str, want: str) -> None:
    assert _render(evaluator, src) == want


@requires_nix
@pytest.mark.nix
@pytest.mark.parametrize(("src", "want"), CASES[:6], ids=[c[0][:40] for c in CASES[:6]])
def test_first_line_against_nix(src: str, want: str) -> None:
    assert run_nix(src) == want.splitlines()[0]


def test_catchable_classes(evaluator: Evaluator) -> None:
    with pytest.raises(ThrownError):
        evaluator.evaluate('throw "x"')
    with pytest.raises(CatchableError):
        evaluator.evaluate("assert false; 1")
    with pytest.raises(InfiniteRecursion):
        evaluator.evaluate("let x = x; in x")
    with pytest.raises(EvalError) as info:
        evaluator.evaluate('abort "x"')
    assert not isinstance(info.value, CatchableError)


def test_try_eval_catches_only_catchable(evaluator: Evaluator) -> None:
    ok = evaluator.evaluate('builtins.tryEval (throw "x")', strict=True)
    assert evaluator.print(ok) == "{ success = false; value = false; }"
    with pytest.raises(EvalError, match="aborted"):
        evaluator.evaluate('builtins.tryEval (abort "x")', strict=True)
    with pytest.raises(EvalError, match="missing"):
        evaluator.evaluate("builtins.tryEval {}.a", strict=True)


def test_undefined_variable_in_dead_code(evaluator: Evaluator) -> None:
    """Undefined variables are found before anything runs, even where never evaluated."""
    with pytest.raises(EvalError, match="undefined variable 'nope'"):
        evaluator.evaluate("if true then 1 else nope")


def test_thunk_error_is_repeatable(evaluator: Evaluator) -> None:
    """A thunk whose evaluation failed fails again (it is not left as a blackhole)."""
    src = 'let x = throw "boom"; in [ (builtins.tryEval x).success (builtins.tryEval x).success ]'
    assert evaluator.print(evaluator.evaluate(src, strict=True)) == "[ false false ]"


SHOW_TRACE = """error: value is an integer while a set was expected

       at «string»:1:12:

            1| let f = x: x.a; in f 1
             |            ^

       … while evaluating 'f'

       at «string»:1:9:

            1| let f = x: x.a; in f 1
             |         ^

       … from call site

       at «string»:1:20:

            1| let f = x: x.a; in f 1
             |                    ^"""


def test_show_trace(evaluator: Evaluator) -> None:
    """``--show-trace`` output, as printed by nix-instantiate 2.8."""
    with pytest.raises(EvalError) as info:
        evaluator.evaluate("let f = x: x.a; in f 1")
    assert info.value.render(show_trace=True) == SHOW_TRACE


HINT = "(use '--show-trace' to show detailed location information)"


@pytest.mark.parametrize(
    ("src", "want"),
    [
        ('let s = { a = throw "x"; }; in s.a', f"error: x\n{HINT}"),
        ('let { body = throw "x"; }', f"error: x\n{HINT}"),
        ('builtins.deepSeq { a = { b = throw "deep"; }; } 1', f"error: deep\n{HINT}"),
        ('let s = { a = throw "x"; }; in s', f"error: x\n{HINT}"),
    ],
)
def test_trace_hint(evaluator: Evaluator, src: str, want: str) -> None:
    """C++ Nix records some trace frames even without --show-trace and then prints a hint."""
    assert _render(evaluator, src) == want


def test_did_you_mean_several(evaluator: Evaluator) -> None:
    with pytest.raises(EvalError) as info:
        evaluator.evaluate("({ x, z }: x) { x = 1; y = 2; z = 3; }")
    assert info.value.hint == "Did you mean one of x or z?"


# Source text ending at the error line in the ways that change which code lines Nix shows: from
# a file it prints only LF-terminated lines, from `-E` every line getline yields.
LAST_LINE_SOURCES = [
    "let\n  f = {a}: a;\nin\nf {}\n",
    "let\n  f = {a}: a;\nin\nf {}\n\n",
    "let\n  f = {a}: a;\nin\nf {}",
]


@requires_nix
@pytest.mark.nix
@pytest.mark.parametrize("text", LAST_LINE_SOURCES)
def test_code_lines_at_end_of_input_match_nix(text: str, tmp_path: Path) -> None:
    import subprocess

    file = tmp_path / "last.nix"
    file.write_text(text)
    ev = Evaluator(io=FilesystemIO())
    for args, ours in (
        ([str(file)], lambda: ev.evaluate_file(str(file))),
        (["-E", text], lambda: ev.evaluate(text)),
    ):
        nix = subprocess.run(
            ["nix-instantiate", "--eval", *args], capture_output=True, text=True, check=False
        )
        with pytest.raises(NixError) as excinfo:
            ours()
        assert excinfo.value.render() == nix.stderr.rstrip("\n")


# Calls and selections are reported at their first token, an opening parenthesis included.
PAREN_POSITIONS = ["(1) 2", "((1)) 2", "(1).a", "(x: x.a) 1", "let f = {a}: a; in (f) {}"]


@requires_nix
@pytest.mark.nix
@pytest.mark.parametrize("src", PAREN_POSITIONS)
def test_parenthesised_call_positions_match_nix(evaluator: Evaluator, src: str) -> None:
    import subprocess

    nix = subprocess.run(
        ["nix-instantiate", "--eval", "-E", src], capture_output=True, text=True, check=False
    )
    assert _render(evaluator, src) == nix.stderr.rstrip("\n")


# `assertion '…' failed` quotes the condition as Nix's Expr::show prints its desugared tree.
ASSERTIONS = [
    "assert let b = 1; a = 2; in a < b; 1",
    'assert ./x == "a" + "b"; 1',
    "assert {a.b=1;} == {}; 1",
    "assert (x: x) == 1; 1",
    'assert "${toString 1}x" == 2 * 3 - 1; 1',
]


@requires_nix
@pytest.mark.nix
@pytest.mark.parametrize("src", ASSERTIONS)
def test_assertion_text_matches_nix(src: str, tmp_path: Path) -> None:
    import subprocess

    nix = subprocess.run(
        ["nix-instantiate", "--eval", "-E", src],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    ev = Evaluator(io=FilesystemIO())
    with pytest.raises(NixError) as excinfo:
        ev.evaluate(src, path=str(tmp_path / "expr.nix"))  # relative paths resolve in tmp_path
    assert excinfo.value.render().splitlines()[0] == nix.stderr.splitlines()[0]
