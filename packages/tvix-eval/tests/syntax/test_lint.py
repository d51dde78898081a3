"""The compile-time warnings of :func:`tvix_eval.syntax.lint.lint`."""

from __future__ import annotations

import pytest
from tvix_eval.syntax import parse
from tvix_eval.syntax.lint import lint

GLOBALS = ("map", "toString", "__sub")


def codes(text: str) -> list[tuple[str, str]]:
    return [(w.code, w.message) for w in lint(parse(text), GLOBALS)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("let a = 1; in 2", [("W003", "variable 'a' is declared, but never used")]),
        ("let a = 1; b = a; in b", []),
        ("let _a = 1; in 2", []),
        ("let a = 1; in with {}; a", []),
        ("let a.b = 1; in a", []),
        (
            "let inherit ({ a = 1; }) a; in 2",
            [("W003", "variable 'a' is declared, but never used")],
        ),
        ("rec { a = 1; b = 2; }", []),
        ("x: 1", []),
        ("{ a, b ? a }: 1", []),
        (
            "http://example.org",
            [("W001", "URL literal syntax is deprecated, use a quoted string instead")],
        ),
        (
            "x: let inherit x; in x",
            [("W002", "inherit does nothing (this variable already exists with the same value)")],
        ),
        ("{ inherit; }", [("W009", "this `inherit` statement is empty")]),
        ("let in 1", [("W010", "this `let`-expression contains no bindings")]),
        (
            "let { body = 1; }",
            [("W005", "legacy `let` syntax used, please rewrite this as `let .. in ...`")],
        ),
        ("map: map", [("W004", "declared variable 'map' shadows a built-in global!")]),
        (
            "let true = 1; in true",
            [("W004", "declared variable 'true' shadows a built-in global!")],
        ),
        ("let sub = 1; in sub", []),
    ],
)
def test_warnings(text: str, expected: list[tuple[str, str]]) -> None:
    assert codes(text) == expected


def test_warnings_are_in_source_order_and_render_with_position() -> None:
    warnings = lint(parse("let b = 1; a = 2; in 3"), GLOBALS)
    assert [w.message for w in warnings] == [
        "variable 'b' is declared, but never used",
        "variable 'a' is declared, but never used",
    ]
    assert warnings[0].render() == (
        "warning: variable 'b' is declared, but never used [W003]\n\n"
        "       at «string»:1:5:\n\n"
        "            1| let b = 1; a = 2; in 3\n"
        "             |     ^"
    )


def test_deep_nesting_does_not_overflow() -> None:
    text = "let a = 1; in " + "[" * 200 + "a" + "]" * 200
    assert lint(parse(text), GLOBALS) == []
