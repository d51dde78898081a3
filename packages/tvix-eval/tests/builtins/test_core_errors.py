# ruff: noqa: E501  (expected outputs are kept verbatim)
"""Builtins given wrong arguments: the whole report C++ Nix 2.8 prints (message, location, the
``(use '--show-trace' …)`` hint of its trace frames), and ``forceFunction``'s rules (the function
is checked first; ``__functor`` sets pass)."""

from __future__ import annotations

import subprocess

import pytest
from tvix_eval.api import Evaluator
from tvix_eval.errors import NixError

from .conftest import NIX_INSTANTIATE

# (expression, what ``nix-instantiate --eval --strict -E`` prints: stdout, or all of stderr)
CASES: list[tuple[str, str]] = [
    # the context message is evaluated only when the value fails
    ('builtins.addErrorContext (throw "ctx") 1', "1"),
    (
        'builtins.addErrorContext "while doing ${"x"}" (throw "boom")',
        "error: boom\n(use '--show-trace' to show detailed location information)",
    ),
    ('builtins.elem "a" [ 1 (throw "boom") ]', "error: boom"),
    ('builtins.elem (throw "x") [ 1 ]', "error: x"),
    (
        "builtins.genericClosure {}",
        "error: attribute 'startSet' missing for call to 'genericClosure'\n\n       at «string»:1:25:\n\n            1| builtins.genericClosure {}\n             |                         ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        "builtins.genericClosure { startSet = [ ]; }",
        "error: attribute 'operator' missing for call to 'genericClosure'\n\n       at «string»:1:25:\n\n            1| builtins.genericClosure { startSet = [ ]; }\n             |                         ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        "builtins.genericClosure { startSet = 1; }",
        "error: value is an integer while a list was expected\n\n       at «string»:1:1:\n\n            1| builtins.genericClosure { startSet = 1; }\n             | ^",
    ),
    (
        "builtins.genericClosure { startSet = [ { } ]; operator = x: [ ]; }",
        "error: attribute 'key' required\n\n       at «string»:1:1:\n\n            1| builtins.genericClosure { startSet = [ { } ]; operator = x: [ ]; }\n             | ^",
    ),
    (
        "builtins.genericClosure { startSet = [ { key = 1; } ]; operator = 1; }",
        "error: attempt to call something which is not a function but an integer",
    ),
    (
        "builtins.functionArgs 1",
        "error: 'functionArgs' requires a function\n\n       at «string»:1:1:\n\n            1| builtins.functionArgs 1\n             | ^",
    ),
    (
        'builtins.ceil "a"',
        'error: value is a string while a float was expected\n\n       at «string»:1:1:\n\n            1| builtins.ceil "a"\n             | ^',
    ),
    (
        "builtins.floor null",
        "error: value is null while a float was expected\n\n       at «string»:1:1:\n\n            1| builtins.floor null\n             | ^",
    ),
    (
        'builtins.getAttr "a" { }',
        "error: attribute 'a' missing for call to 'getAttr'\n\n       at «string»:1:22:\n\n            1| builtins.getAttr \"a\" { }\n             |                      ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        'builtins.getAttr "b" rec { a = 1; }',
        "error: attribute 'b' missing for call to 'getAttr'\n\n       at «string»:1:26:\n\n            1| builtins.getAttr \"b\" rec { a = 1; }\n             |                          ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        'builtins.getAttr "a" (builtins.removeAttrs { a = 1; } [ "a" ])',
        "error: attribute 'a' missing for call to 'getAttr'\n\n       at «string»:1:1:\n\n            1| builtins.getAttr \"a\" (builtins.removeAttrs { a = 1; } [ \"a\" ])\n             | ^",
    ),
    (
        "builtins.listToAttrs [ { } ]",
        "error: attribute 'name' missing for call to 'listToAttrs'\n\n       at «string»:1:24:\n\n            1| builtins.listToAttrs [ { } ]\n             |                        ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        'builtins.listToAttrs [ { name = "a"; } ]',
        "error: attribute 'value' missing for call to 'listToAttrs'\n\n       at «string»:1:24:\n\n            1| builtins.listToAttrs [ { name = \"a\"; } ]\n             |                        ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        "builtins.listToAttrs [ { name = 1; value = 1; } ]",
        "error: value is an integer while a string was expected\n\n       at «string»:1:26:\n\n            1| builtins.listToAttrs [ { name = 1; value = 1; } ]\n             |                          ^",
    ),
    (
        "builtins.listToAttrs [ (builtins.mapAttrs (n: v: v) { name = 1; value = 1; }) ]",
        "error: value is an integer while a string was expected",
    ),
    (
        "builtins.sort 1 [ 1 2 ]",
        "error: value is an integer while a function was expected\n\n       at «string»:1:1:\n\n            1| builtins.sort 1 [ 1 2 ]\n             | ^",
    ),
    (
        "builtins.sort 1 [ ]",
        "error: value is an integer while a function was expected\n\n       at «string»:1:1:\n\n            1| builtins.sort 1 [ ]\n             | ^",
    ),
    (
        "builtins.foldl' 1 0 [ ]",
        "error: value is an integer while a function was expected\n\n       at «string»:1:1:\n\n            1| builtins.foldl' 1 0 [ ]\n             | ^",
    ),
    (
        "builtins.foldl' 1 0 1",
        "error: value is an integer while a function was expected\n\n       at «string»:1:1:\n\n            1| builtins.foldl' 1 0 1\n             | ^",
    ),
    (
        "builtins.filter 1 [ ]",
        "error: value is an integer while a function was expected\n\n       at «string»:1:1:\n\n            1| builtins.filter 1 [ ]\n             | ^",
    ),
    (
        "builtins.concatMap 1 1",
        "error: value is an integer while a function was expected\n\n       at «string»:1:1:\n\n            1| builtins.concatMap 1 1\n             | ^",
    ),
    (
        "builtins.any 1 [ ]",
        "error: value is an integer while a function was expected\n\n       at «string»:1:1:\n\n            1| builtins.any 1 [ ]\n             | ^",
    ),
    (
        "builtins.all 1 [ ]",
        "error: value is an integer while a function was expected\n\n       at «string»:1:1:\n\n            1| builtins.all 1 [ ]\n             | ^",
    ),
    (
        "builtins.partition 1 [ ]",
        "error: value is an integer while a function was expected\n\n       at «string»:1:1:\n\n            1| builtins.partition 1 [ ]\n             | ^",
    ),
    (
        "builtins.groupBy 1 [ ]",
        "error: value is an integer while a function was expected\n\n       at «string»:1:1:\n\n            1| builtins.groupBy 1 [ ]\n             | ^",
    ),
    (
        "builtins.zipAttrsWith 1 [ ]",
        "error: value is an integer while a function was expected\n\n       at «string»:1:1:\n\n            1| builtins.zipAttrsWith 1 [ ]\n             | ^",
    ),
    ("builtins.sort { __functor = self: a: b: a > b; } [ 1 3 2 ]", "[ 3 2 1 ]"),
    (
        "builtins.sort { } [ 1 3 2 ]",
        "error: value is a set while a function was expected\n\n       at «string»:1:1:\n\n            1| builtins.sort { } [ 1 3 2 ]\n             | ^",
    ),
    ("builtins.filter { __functor = self: x: x > 1; } [ 1 3 2 ]", "[ 3 2 ]"),
    (
        "builtins.import 1",
        "error: cannot coerce an integer to a string\n\n       at «string»:1:1:\n\n            1| builtins.import 1\n             | ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        'builtins.import "a"',
        "error: string 'a' doesn't represent an absolute path\n\n       at «string»:1:1:\n\n            1| builtins.import \"a\"\n             | ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        "builtins.scopedImport { } 1",
        "error: cannot coerce an integer to a string\n\n       at «string»:1:1:\n\n            1| builtins.scopedImport { } 1\n             | ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        "builtins.readFile 1",
        "error: cannot coerce an integer to a string\n\n       at «string»:1:1:\n\n            1| builtins.readFile 1\n             | ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        'builtins.readFile "a"',
        "error: string 'a' doesn't represent an absolute path\n\n       at «string»:1:1:\n\n            1| builtins.readFile \"a\"\n             | ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        "builtins.readDir 1",
        "error: cannot coerce an integer to a string\n\n       at «string»:1:1:\n\n            1| builtins.readDir 1\n             | ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        "builtins.pathExists 1",
        "error: cannot coerce an integer to a string\n\n       at «string»:1:1:\n\n            1| builtins.pathExists 1\n             | ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        'builtins.pathExists "a"',
        "error: string 'a' doesn't represent an absolute path\n\n       at «string»:1:1:\n\n            1| builtins.pathExists \"a\"\n             | ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        'builtins.hashFile "sha256" 1',
        "error: cannot coerce an integer to a string\n\n       at «string»:1:1:\n\n            1| builtins.hashFile \"sha256\" 1\n             | ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        "builtins.path { path = 1; }",
        "error: cannot coerce an integer to a string\n\n       at «string»:1:17:\n\n            1| builtins.path { path = 1; }\n             |                 ^",
    ),
    (
        'builtins.path { path = "a"; }',
        "error: string 'a' doesn't represent an absolute path\n\n       at «string»:1:17:\n\n            1| builtins.path { path = \"a\"; }\n             |                 ^",
    ),
    (
        "builtins.filterSource (p: t: true) 1",
        "error: cannot coerce an integer to a string\n\n       at «string»:1:1:\n\n            1| builtins.filterSource (p: t: true) 1\n             | ^",
    ),
    (
        'builtins.filterSource (p: t: true) "a"',
        "error: string 'a' doesn't represent an absolute path\n\n       at «string»:1:1:\n\n            1| builtins.filterSource (p: t: true) \"a\"\n             | ^",
    ),
    (
        "builtins.storePath 1",
        "error: cannot coerce an integer to a string\n\n       at «string»:1:1:\n\n            1| builtins.storePath 1\n             | ^",
    ),
    (
        'builtins.storePath "a"',
        "error: string 'a' doesn't represent an absolute path\n\n       at «string»:1:1:\n\n            1| builtins.storePath \"a\"\n             | ^",
    ),
    (
        "builtins.zipAttrsWith (n: v: v) [ 1 ]",
        "error: value is an integer while a set was expected\n(use '--show-trace' to show detailed location information)",
    ),
    (
        "builtins.concatMap (x: x) [ 1 ]",
        "error: value is an integer while a list was expected\n\n       at «string»:1:21:\n\n            1| builtins.concatMap (x: x) [ 1 ]\n             |                     ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        "builtins.concatMap builtins.head [ [ 1 ] ]",
        "error: value is an integer while a list was expected\n\n       at «string»:1:1:\n\n            1| builtins.concatMap builtins.head [ [ 1 ] ]\n             | ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        "builtins.toJSON (x: x)",
        "error: cannot convert a function to JSON\n\n       at «string»:1:18:\n\n            1| builtins.toJSON (x: x)\n             |                  ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        "builtins.toJSON [ (x: x) ]",
        "error: cannot convert a function to JSON\n\n       at «string»:1:20:\n\n            1| builtins.toJSON [ (x: x) ]\n             |                    ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        "builtins.toJSON builtins.map",
        "error: cannot convert the built-in function 'map' to JSON\n\n       at «string»:1:1:\n\n            1| builtins.toJSON builtins.map\n             | ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        'builtins.fromJSON "{"',
        "error: [json.exception.parse_error.101] parse error at line 1, column 2: syntax error while parsing object key - unexpected end of input; expected string literal\n(use '--show-trace' to show detailed location information)",
    ),
    (
        'map (builtins.getAttr "a") [ { } ]',
        "error: attribute 'a' missing for call to 'getAttr'\n\n       at «string»:1:30:\n\n            1| map (builtins.getAttr \"a\") [ { } ]\n             |                              ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        'let g = builtins.getAttr; in g "a" { }',
        "error: attribute 'a' missing for call to 'getAttr'\n\n       at «string»:1:36:\n\n            1| let g = builtins.getAttr; in g \"a\" { }\n             |                                    ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        'builtins.getAttr "c" { a.b = 1; }.a',
        "error: attribute 'c' missing for call to 'getAttr'\n\n       at «string»:1:1:\n\n            1| builtins.getAttr \"c\" { a.b = 1; }.a\n             | ^",
    ),
    (
        'builtins.getAttr "c" { a = { b = 1; }; a.d = 2; }.a',
        "error: attribute 'c' missing for call to 'getAttr'\n\n       at «string»:1:28:\n\n            1| builtins.getAttr \"c\" { a = { b = 1; }; a.d = 2; }.a\n             |                            ^\n(use '--show-trace' to show detailed location information)",
    ),
    (
        'builtins.getAttr "c" { a = rec /* { */ { b = 1; }; a.d = 2; }.a',
        "error: attribute 'c' missing for call to 'getAttr'\n\n       at «string»:1:40:\n\n            1| builtins.getAttr \"c\" { a = rec /* { */ { b = 1; }; a.d = 2; }.a\n             |                                        ^\n(use '--show-trace' to show detailed location information)",
    ),
]


def render(evaluator: Evaluator, src: str, *, show_trace: bool = False) -> str:
    """What ``nix-instantiate --eval --strict`` would print for ``src``: the value or the error."""
    try:
        return evaluator.print(evaluator.evaluate(src, strict=True))
    except NixError as e:
        return str(e.render(show_trace)) if hasattr(e, "render") else str(e)


@pytest.mark.parametrize(("src", "want"), CASES, ids=[c[0][:50] for c in CASES])
def test_report(evaluator: Evaluator, src: str, want: str) -> None:
    assert render(evaluator, src) == want


def test_while_invoking_frame(evaluator: Evaluator) -> None:
    # the error points at the set; the call is a trace frame
    assert render(evaluator, 'builtins.getAttr "a" { }', show_trace=True) == (
        "error: attribute 'a' missing for call to 'getAttr'\n\n"
        "       at «string»:1:22:\n\n"
        '            1| builtins.getAttr "a" { }\n'
        "             |                      ^\n\n"
        "       … while invoking 'getAttr'\n\n"
        "       at «string»:1:1:\n\n"
        '            1| builtins.getAttr "a" { }\n'
        "             | ^"
    )


def test_error_context_is_a_trace_frame(evaluator: Evaluator) -> None:
    # what nix-instantiate --eval --show-trace prints
    src = 'builtins.addErrorContext "while doing ${"x"}" ({}.a)'
    assert render(evaluator, src, show_trace=True) == (
        "error: attribute 'a' missing\n\n"
        "       at «string»:1:48:\n\n"
        f"            1| {src}\n"
        "             |                                                ^\n\n"
        "       … while doing x"
    )


def nix_report(src: str) -> str:
    """What ``nix-instantiate --eval --strict -E src`` prints: stdout, or all of stderr."""
    assert NIX_INSTANTIATE is not None
    r = subprocess.run(
        [NIX_INSTANTIATE, "--eval", "--strict", "-E", src],
        capture_output=True,
        text=True,
        cwd="/",
        check=False,
    )
    return r.stdout.strip() if r.returncode == 0 else r.stderr.rstrip("\n")


@pytest.mark.nix
@pytest.mark.skipif(NIX_INSTANTIATE is None, reason="nix-instantiate is not installed")
@pytest.mark.parametrize(("src", "want"), CASES, ids=[c[0][:50] for c in CASES])
def test_cases_are_what_nix_prints(src: str, want: str) -> None:
    assert nix_report(src) == want
