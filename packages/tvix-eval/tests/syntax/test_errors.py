"""Syntax errors: Nix's wording and positions, rendered like C++ Nix."""

from __future__ import annotations

import pytest
from tvix_eval import errors
from tvix_eval.errors import NixError, NixParseError
from tvix_eval.syntax import parse
from tvix_eval.syntax.ast import Source, Span

# (source, message, line, column) -- checked against nix-instantiate in test_nix.py
ERRORS = [
    ("{ a = 1", "syntax error, unexpected end of file, expecting ';'", 1, 7),
    ("(1", "syntax error, unexpected end of file, expecting ')'", 1, 2),
    ("1 +", "syntax error, unexpected end of file", 1, 3),
    ("if", "syntax error, unexpected end of file", 1, 1),
    ("{ a }", "syntax error, unexpected end of file, expecting ':' or '@'", 1, 5),
    (
        "a.b.c.",
        "syntax error, unexpected end of file, expecting ID or OR_KW or DOLLAR_CURLY or '\"'",
        1,
        6,
    ),
    ("let a = 1; in", "syntax error, unexpected end of file", 1, 12),
    ("[ 1 2 ", "syntax error, unexpected end of file", 1, 6),
    ("1 + # c\n", "syntax error, unexpected end of file", 1, 8),
    ("1 + /* c */ ", "syntax error, unexpected end of file", 1, 12),
    ("1 + # x", "syntax error, unexpected end of file", 1, 5),
    ("1 + }", "syntax error, unexpected '}'", 1, 5),
    ("a b c ]", "syntax error, unexpected ']', expecting end of file", 1, 7),
    ("{ x = ...; }", "syntax error, unexpected ELLIPSIS", 1, 7),
    ("rec", "syntax error, unexpected end of file, expecting '{'", 1, 1),
    ("1 == 2 == 3", "syntax error, unexpected EQ", 1, 8),
    ("1 < 2 > 3", "syntax error, unexpected '>'", 1, 7),
    ("{ a = 1; b }", "syntax error, unexpected '}', expecting '.' or '='", 1, 12),
    ("{ inherit (a; }", "syntax error, unexpected ';', expecting ')'", 1, 13),
    ("f x: y", "syntax error, unexpected ':', expecting end of file", 1, 4),
    ("[ -1 ]", "syntax error, unexpected '-'", 1, 3),
    ("if a then b", "syntax error, unexpected end of file, expecting ELSE", 1, 11),
    ("if a else b", "syntax error, unexpected ELSE, expecting THEN", 1, 6),
    ("assert a", "syntax error, unexpected end of file, expecting ';'", 1, 8),
    ("{ a, b c }: 1", "syntax error, unexpected ID, expecting '}'", 1, 8),
    ("{ a ? }: 1", "syntax error, unexpected '}'", 1, 7),
    ("a @ b", "syntax error, unexpected ID, expecting '{'", 1, 5),
    ("a.${b", "syntax error, unexpected end of file, expecting '}'", 1, 5),
    ("1 )", "syntax error, unexpected ')', expecting end of file", 1, 3),
    ("$x", "syntax error, unexpected invalid token", 1, 1),
    ("1 % 2", "syntax error, unexpected invalid token, expecting end of file", 1, 3),
    ("123 é 4", "syntax error, unexpected invalid token, expecting end of file", 1, 5),
    ("inherit a;", "syntax error, unexpected INHERIT", 1, 1),
    ("x: ${x}", "syntax error, unexpected DOLLAR_CURLY", 1, 4),
    (
        "\n\n  { a = 1; } ?",
        "syntax error, unexpected end of file, expecting ID or OR_KW or DOLLAR_CURLY or '\"'",
        3,
        14,
    ),
    ("{\r\n  a = ;\r\n}", "syntax error, unexpected ';'", 2, 7),
    ("{\r  a = 1;\r  b = ;\r}", "syntax error, unexpected ';'", 3, 7),
    ("9223372036854775808", "invalid integer '9223372036854775808'", 1, 1),
    ("1.0e999", "invalid float '1.0e999'", 1, 1),
    ("1.0e-400", "invalid float '1.0e-400'", 1, 1),
    ("a/b/ ", "path has a trailing slash", 1, 5),
    ("/a//b;", "syntax error, unexpected PATH_END, expecting DOLLAR_CURLY", 1, 4),
    ("{ a = 1; a = 2; }", "attribute 'a' already defined at (string):1:3", 1, 10),
    ("{ a.b = 1; a.b = 2; }", "attribute 'a.b' already defined at (string):1:3", 1, 12),
    ("{ a = 1; a.b = 2; }", "attribute 'a.b' already defined at (string):1:3", 1, 10),
    ("{ inherit a; inherit a; }", "attribute 'a' already defined at (string):1:10", 1, 21),
    ("{ x.z = 3; x = { y = 3; z = 3; }; }", "attribute 'z' already defined at (string):1:25", 1, 3),
    ("let ${a} = 1; in 1", "dynamic attributes not allowed in let", 1, 1),
    ("{ inherit ${a}; }", "dynamic attributes not allowed in inherit", 1, 11),
    ("{ x, y, x }: 1", "duplicate formal function argument 'x'", 1, 9),
    ("a@{ a }: 1", "duplicate formal function argument 'a'", 1, 1),
]


@pytest.mark.parametrize(("text", "message", "line", "column"), ERRORS, ids=[e[0] for e in ERRORS])
def test_error(text: str, message: str, line: int, column: int) -> None:
    with pytest.raises(NixParseError) as info:
        parse(text)
    err = info.value
    assert err.message == message
    assert err.span is not None
    assert (err.span.line, err.span.column) == (line, column)


def test_dup_attr_in_file_names_the_file() -> None:
    with pytest.raises(NixParseError) as info:
        parse("{\n  a = 1;\n  a = 2;\n}\n", "/x/y.nix")
    assert info.value.message == "attribute 'a' already defined at /x/y.nix:2:3"


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ('x: "abc', "unterminated string", 3),
        ("x: ''abc", "unterminated indented string", 3),
        ("1 + /* abc", "unterminated comment", 4),
        ('"a ${ "b', "unterminated string", 6),
        ("1 \0 2", "NUL byte in source", 2),
    ],
)
def test_unterminated_points_at_start(text: str, message: str, offset: int) -> None:
    with pytest.raises(NixParseError) as info:
        parse(text)
    assert info.value.message == message
    assert info.value.span is not None and info.value.span.start == offset


def test_invalid_utf8() -> None:
    with pytest.raises(NixParseError) as info:
        parse(b'"ab\xff"', "f.nix")
    assert info.value.message == "invalid UTF-8 in source"
    assert info.value.span is not None
    assert (info.value.span.line, info.value.span.column) == (1, 4)


def test_render_like_nix() -> None:
    with pytest.raises(NixParseError) as info:
        parse("let\n  a = 1;\n  b = 2;\n  c = ;\n  d = 4;\nin a\n", "/tmp/e1.nix")
    assert info.value.render() == (
        "error: syntax error, unexpected ';'\n"
        "\n"
        "       at /tmp/e1.nix:4:7:\n"
        "\n"
        "            3|   b = 2;\n"
        "            4|   c = ;\n"
        "             |       ^\n"
        "            5|   d = 4;"
    )


def test_render_first_line_tabs_and_empty_lines() -> None:
    src = Source("«string»", "\n1 +")
    err = NixParseError("syntax error, unexpected end of file", Span(src, 3, 3))
    assert err.render() == (
        "error: syntax error, unexpected end of file\n\n"
        "       at «string»:2:3:\n\n"
        "            1|\n"
        "            2| 1 +\n"
        "             |   ^"
    )
    # From a file, Nix shows only lines that end in a newline (checked with nix-instantiate).
    src = Source("f", "{\n\ta = ;\n}\n")
    err = NixParseError("syntax error, unexpected ';'", Span(src, 7, 7))
    assert err.render().splitlines()[-3:] == [
        "            2|        a = ;",
        "             |      ^",
        "            3| }",
    ]
    src = Source("f", "{\n\ta = ;\n}")
    err = NixParseError("syntax error, unexpected ';'", Span(src, 7, 7))
    assert err.render().splitlines()[-2:] == [
        "            2|        a = ;",
        "             |      ^",
    ]


def test_error_without_span_and_str() -> None:
    assert NixError("boom").render() == "error: boom"
    assert str(NixError("boom")) == "boom"
    src = Source("f.nix", "x")
    assert str(NixParseError("bad", Span(src, 0, 0))) == "f.nix:1:1: bad"
    assert issubclass(errors.NixParseError, errors.NixError)
