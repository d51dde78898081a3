# ruff: noqa: E501  (expected outputs are kept verbatim)
"""Where C++ Nix 2.8 says things are defined: ``unsafeGetAttrPos``, ``__curPos`` and
"already defined" errors, including its quirks (inherited attributes are located after the
``inherit`` keyword or the ``(e)``; code given as text is named by its text)."""

from __future__ import annotations

import pytest
from tvix_eval.api import Evaluator
from tvix_eval.errors import NixError

from .conftest import requires_nix, run_nix

# (expression, what ``nix-instantiate --eval --strict -E`` prints: stdout, or all of stderr)
CASES: list[tuple[str, str]] = [
    (
        'let f = 1; in builtins.unsafeGetAttrPos "f" { inherit f; }',
        '{ column = 54; file = "let f = 1; in builtins.unsafeGetAttrPos \\"f\\" { inherit f; }"; line = 1; }',
    ),
    (
        'let f = 1; in builtins.unsafeGetAttrPos "f" {   inherit   f; }',
        '{ column = 56; file = "let f = 1; in builtins.unsafeGetAttrPos \\"f\\" {   inherit   f; }"; line = 1; }',
    ),
    (
        'let e = { f = 1; g = 2; }; in builtins.unsafeGetAttrPos "g" { inherit (e)  f   g; }',
        '{ column = 74; file = "let e = { f = 1; g = 2; }; in builtins.unsafeGetAttrPos \\"g\\" { inherit (e)  f   g; }"; line = 1; }',
    ),
    (
        'let e = { f = 1; g = 2; }; in builtins.unsafeGetAttrPos "g" { inherit ( e ) /* c */ f g; }',
        '{ column = 76; file = "let e = { f = 1; g = 2; }; in builtins.unsafeGetAttrPos \\"g\\" { inherit ( e ) /* c */ f g; }"; line = 1; }',
    ),
    (
        "let a = 1; in { inherit a; a = 1; }",
        "error: attribute 'a' already defined at (string):1:24\n\n       at «string»:1:28:\n\n            1| let a = 1; in { inherit a; a = 1; }\n             |                            ^",
    ),
    (
        "let a = 1; in { a = 1; inherit a; }",
        "error: attribute 'a' already defined at (string):1:17\n\n       at «string»:1:31:\n\n            1| let a = 1; in { a = 1; inherit a; }\n             |                               ^",
    ),
    (
        'builtins.unsafeGetAttrPos "a" { a = 1; }',
        '{ column = 33; file = "builtins.unsafeGetAttrPos \\"a\\" { a = 1; }"; line = 1; }',
    ),
    (
        'builtins.unsafeGetAttrPos "a" (builtins.listToAttrs [ { name = "a"; value = 1; } ])',
        '{ column = 69; file = "builtins.unsafeGetAttrPos \\"a\\" (builtins.listToAttrs [ { name = \\"a\\"; value = 1; } ])"; line = 1; }',
    ),
    ("__curPos", '{ column = 1; file = "__curPos"; line = 1; }'),
]


def _render(evaluator: Evaluator, src: str) -> str:
    try:
        return evaluator.print(evaluator.evaluate(src, strict=True))
    except NixError as e:
        return str(e.render()) if hasattr(e, "render") else str(e)


@pytest.mark.parametrize(("src", "want"), CASES, ids=[c[0][:50] for c in CASES])
def test_position(evaluator: Evaluator, src: str, want: str) -> None:
    assert _render(evaluator, src) == want


@requires_nix
@pytest.mark.nix
@pytest.mark.parametrize(("src", "want"), CASES, ids=[c[0][:50] for c in CASES])
def test_cases_are_what_nix_prints(src: str, want: str) -> None:
    assert run_nix(src) == want.split("\n", maxsplit=1)[0]
