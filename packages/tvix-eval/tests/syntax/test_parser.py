"""The run-time parser: exact trees for every construct of the language."""

from __future__ import annotations

import pytest
from tvix_eval.syntax import parse
from tvix_eval.syntax.ast import to_data

ID = lambda n: ("Ident", n)  # noqa: E731
N = lambda v: ("Int", v)  # noqa: E731


def d(text: str) -> object:
    return to_data(parse(text))


CASES = [
    # literals
    ("123", N(123)),
    ("9223372036854775807", N(9223372036854775807)),
    ("1.5", ("Float", 1.5)),
    (".5", ("Float", 0.5)),
    ("1.", ("Float", 1.0)),
    ("1.5e-3", ("Float", 0.0015)),
    ("2.E3", ("Float", 2000.0)),
    ("1e3", ("Apply", N(1), ID("e3"))),
    ("01.5", ("Apply", N(1), ("Float", 0.5))),
    ("true", ID("true")),
    ("__curPos", ID("__curPos")),
    ("x-1", ID("x-1")),
    ("a'", ID("a'")),
    ("http://x.org/a?b=1&c", ("Uri", "http://x.org/a?b=1&c")),
    ("x:y", ("Uri", "x:y")),
    ("<nixpkgs/lib>", ("SearchPath", "nixpkgs/lib")),
    # paths
    ("/a/b", ("Path", ("/a/b",))),
    ("./a", ("Path", ("./a",))),
    ("../a", ("Path", ("../a",))),
    ("a/b", ("Path", ("a/b",))),
    ("~/a", ("Path", ("~/a",))),
    ("1/2", ("Path", ("1/2",))),
    ("./a/${b}c", ("Path", ("./a/", ID("b"), "c"))),
    ("/x/${y}.nix", ("Path", ("/x/", ID("y"), ".nix"))),
    ("./${a}", ("Path", ("./", ID("a")))),
    ("~/${a}/b", ("Path", ("~/", ID("a"), "/b"))),
    ("a/${b}${c}", ("Path", ("a/", ID("b"), ID("c")))),
    ("a // b", ("BinOp", "//", ID("a"), ID("b"))),
    ("a//b", ("BinOp", "//", ID("a"), ID("b"))),
    # strings
    ('""', ("Str", ())),
    ('"a\\nb\\t\\r\\x\\\\\\"\\$"', ("Str", ('a\nb\t\rx\\"$',))),
    ('"a${b}c"', ("Str", ("a", ID("b"), "c"))),
    ('"${a}"', ("Str", (ID("a"),))),
    ('"$${a}"', ("Str", ("$${a}",))),
    ('"$"', ("Str", ("$",))),
    ('"a$"', ("Str", ("a$",))),
    ('"\\${a}"', ("Str", ("${a}",))),
    ('"a\r\nb\rc"', ("Str", ("a\nb\nc",))),
    ('"${"${x}"}"', ("Str", (("Str", (ID("x"),)),))),
    ("''''", ("Str", ())),
    ("''\n  a\n    b\n  ''", ("Str", ("a\n  b\n",))),
    ("''\n  a\n  b''", ("Str", ("a\nb",))),
    ("''  a''", ("Str", ("a",))),
    ("''\n\ta\n''", ("Str", ("\ta\n",))),
    ("''\n  a\n\n  b\n''", ("Str", ("a\n\nb\n",))),
    ("''\n  ${x}\n    a\n  ''", ("Str", (ID("x"), "\n  a\n"))),
    ("''a''$b''", ("Str", ("a$b",))),
    ("''a'''b''", ("Str", ("a''b",))),
    ("''a''\\nb''", ("Str", ("a\nb",))),
    ("''a''\\tb''\\\\''", ("Str", ("a\tb\\",))),
    ("''$${a}''", ("Str", ("$${a}",))),
    ("''a$''", ("Str", ("a$",))),
    ("''a'b''", ("Str", ("a'b",))),
    ("''\n  a\n ''\\n  b\n  ''", ("Str", (" a\n\n b\n",))),
    # operators, precedence, associativity
    ("1 + 2 * 3", ("BinOp", "+", N(1), ("BinOp", "*", N(2), N(3)))),
    ("1 - 2 - 3", ("BinOp", "-", ("BinOp", "-", N(1), N(2)), N(3))),
    ("a ++ b ++ c", ("BinOp", "++", ID("a"), ("BinOp", "++", ID("b"), ID("c")))),
    ("a // b // c", ("BinOp", "//", ID("a"), ("BinOp", "//", ID("b"), ID("c")))),
    ("a -> b -> c", ("BinOp", "->", ID("a"), ("BinOp", "->", ID("b"), ID("c")))),
    ("a || b && c", ("BinOp", "||", ID("a"), ("BinOp", "&&", ID("b"), ID("c")))),
    (
        "a == b && c != d",
        ("BinOp", "&&", ("BinOp", "==", ID("a"), ID("b")), ("BinOp", "!=", ID("c"), ID("d"))),
    ),
    ("a < b == c", ("BinOp", "==", ("BinOp", "<", ID("a"), ID("b")), ID("c"))),
    ("a // b < c", ("BinOp", "<", ("BinOp", "//", ID("a"), ID("b")), ID("c"))),
    ("!a + b", ("UnaryOp", "!", ("BinOp", "+", ID("a"), ID("b")))),
    ("!a // b", ("BinOp", "//", ("UnaryOp", "!", ID("a")), ID("b"))),
    ("!a == b", ("BinOp", "==", ("UnaryOp", "!", ID("a")), ID("b"))),
    ("a * !b + c", ("BinOp", "*", ID("a"), ("UnaryOp", "!", ("BinOp", "+", ID("b"), ID("c"))))),
    ("-a + b", ("BinOp", "+", ("UnaryOp", "-", ID("a")), ID("b"))),
    ("-a ? b", ("HasAttr", ("UnaryOp", "-", ID("a")), ("b",))),
    ("- -1", ("UnaryOp", "-", ("UnaryOp", "-", N(1)))),
    ("-f x", ("UnaryOp", "-", ("Apply", ID("f"), ID("x")))),
    ("f -1", ("BinOp", "-", ID("f"), N(1))),
    ("a ++ b ? c", ("BinOp", "++", ID("a"), ("HasAttr", ID("b"), ("c",)))),
    ("a ? b.c", ("HasAttr", ID("a"), ("b", "c"))),
    ("a ? b ? c", ("HasAttr", ("HasAttr", ID("a"), ("b",)), ("c",))),
    ("a ? ${b}", ("HasAttr", ID("a"), (ID("b"),))),
    ("a.b.c", ("Select", ID("a"), ("b", "c"), None)),
    ("a.b or c", ("Select", ID("a"), ("b",), ID("c"))),
    ('a."b c".${d}.${"e"}.or', ("Select", ID("a"), ("b c", ID("d"), "e", "or"), None)),
    ('a."${b}"', ("Select", ID("a"), (("Str", (ID("b"),)),), None)),
    ("f a b", ("Apply", ("Apply", ID("f"), ID("a")), ID("b"))),
    ("f a.b", ("Apply", ID("f"), ("Select", ID("a"), ("b",), None))),
    ("f or", ("Apply", ID("f"), ID("or"))),
    ("f a or b", ("Apply", ("Apply", ID("f"), ("Apply", ID("a"), ID("or"))), ID("b"))),
    ("[ a or b ]", ("List", (("Apply", ID("a"), ID("or")), ID("b")))),
    ("[]", ("List", ())),
    ("[ a.b ]", ("List", (("Select", ID("a"), ("b",), None),))),
    ("f <a> {}", ("Apply", ("Apply", ID("f"), ("SearchPath", "a")), ("AttrSet", False, ()))),
    ("a <b> c", ("Apply", ("Apply", ID("a"), ("SearchPath", "b")), ID("c"))),
    ("a < b", ("BinOp", "<", ID("a"), ID("b"))),
    ("a->b", ("BinOp", ">", ID("a-"), ID("b"))),
    # sets and bindings
    ("{}", ("AttrSet", False, ())),
    ("rec { a = 1; }", ("AttrSet", True, (("AttrBinding", ("a",), N(1)),))),
    ("{ a.b.c = 1; }", ("AttrSet", False, (("AttrBinding", ("a", "b", "c"), N(1)),))),
    (
        '{ "a" = 1; ${"b"} = 2; }',
        ("AttrSet", False, (("AttrBinding", ("a",), N(1)), ("AttrBinding", ("b",), N(2)))),
    ),
    ('{ "${a}" = 1; }', ("AttrSet", False, (("AttrBinding", (("Str", (ID("a"),)),), N(1)),))),
    ("{ ${a} = 1; }", ("AttrSet", False, (("AttrBinding", (ID("a"),), N(1)),))),
    ("{ ${http://x} = 1; }", ("AttrSet", False, (("AttrBinding", ("http://x",), N(1)),))),
    ("{ or = 1; }", ("AttrSet", False, (("AttrBinding", ("or",), N(1)),))),
    (
        '{ inherit a "b" or; }',
        ("AttrSet", False, (("Inherit", None, (ID("a"), ID("b"), ID("or"))),)),
    ),
    ("{ inherit (x) a; }", ("AttrSet", False, (("Inherit", ID("x"), (ID("a"),)),))),
    ("{ inherit; }", ("AttrSet", False, (("Inherit", None, ()),))),
    ("let a = 1; in a", ("Let", (("AttrBinding", ("a",), N(1)),), ID("a"))),
    ("let in 1", ("Let", (), N(1))),
    ("let { body = 1; }", ("LegacyLet", (("AttrBinding", ("body",), N(1)),))),
    (
        "{ a = 1; a.b = 2; }" if False else "{ a = { b = 1; }; a.c = 2; }",
        (
            "AttrSet",
            False,
            (
                ("AttrBinding", ("a",), ("AttrSet", False, (("AttrBinding", ("b",), N(1)),))),
                ("AttrBinding", ("a", "c"), N(2)),
            ),
        ),
    ),
    # control
    ("with a; b", ("With", ID("a"), ID("b"))),
    ("assert a; b", ("Assert", ID("a"), ID("b"))),
    ("if a then b else c", ("If", ID("a"), ID("b"), ID("c"))),
    ("if a then b else c + 1", ("If", ID("a"), ID("b"), ("BinOp", "+", ID("c"), N(1)))),
    # lambdas
    ("x: x", ("Lambda", ID("x"), ID("x"))),
    ("x: y: x", ("Lambda", ID("x"), ("Lambda", ID("y"), ID("x")))),
    ("{}: 1", ("Lambda", ("Formals", (), False, None, False), N(1))),
    ("{ ... }: 1", ("Lambda", ("Formals", (), True, None, False), N(1))),
    (
        "{ a, b ? 1, ... }@c: a",
        (
            "Lambda",
            ("Formals", (("Formal", "a", None), ("Formal", "b", N(1))), True, "c", False),
            ID("a"),
        ),
    ),
    ("c@{ a, }: a", ("Lambda", ("Formals", (("Formal", "a", None),), False, "c", True), ID("a"))),
    ("a: b: a + b", ("Lambda", ID("a"), ("Lambda", ID("b"), ("BinOp", "+", ID("a"), ID("b"))))),
    # comments and layout
    ("# c\n1 /* x */ + /* y\n */ 2 # z", ("BinOp", "+", N(1), N(2))),
    ("1\r\n+\r2", ("BinOp", "+", N(1), N(2))),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_parse(text: str, expected: object) -> None:
    assert d(text) == expected


def test_spans() -> None:
    e = parse("let\n  x = 1;\nin x  + 2", "f.nix")
    assert (e.start, e.end) == (0, 22)
    body = e.body  # type: ignore[union-attr]
    assert (body.start, body.end) == (16, 22)
    assert (body.lhs.start, body.lhs.end) == (16, 17)
    span = body.rhs.span
    assert (span.file, span.line, span.column) == ("f.nix", 3, 9)
    binding = e.bindings[0]  # type: ignore[union-attr]
    assert binding.span.line == 2 and binding.span.column == 3
    assert repr(span) == "Span(f.nix:3:9, 21..22)"


def test_parens_are_not_nodes() -> None:
    assert d("((1))") == N(1)
    e = parse("( 1 )")
    assert (e.start, e.end) == (2, 3)


def test_bytes_and_file_name() -> None:
    e = parse(b'"\xc3\xa9"', "x.nix")
    assert to_data(e) == ("Str", ("é",))
    assert e.source.name == "x.nix"
    assert parse("1").source.name == "«string»"


_NESTED = {
    "(": ("(", ")", lambda e: e),
    "[": ("[", "]", lambda e: e.items[0]),
    "{": ("{a=", ";}", lambda e: e.bindings[0].value),
    "x:": ("x: ", "", lambda e: e.body),
    "-": ("-", "", lambda e: e.expr),
}


@pytest.mark.parametrize(
    ("kind", "depth"),
    [("(", 100_000), ("[", 100_000), ("{", 100_000), ("x:", 10_000), ("-", 10_000)],
)
def test_deep_nesting(kind: str, depth: int) -> None:
    open_, close, inner = _NESTED[kind]
    e = parse(open_ * depth + "1" + close * depth)
    for _ in range(depth):
        e = inner(e)
    assert to_data(e) == N(1)
