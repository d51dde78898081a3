"""The pretty printer round-trips: pretty(e) parses back to e."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from syntax_helpers import corpus_files, exprs
from tvix_eval.errors import NixParseError
from tvix_eval.syntax import parse
from tvix_eval.syntax.ast import to_data
from tvix_eval.syntax.printer import format_attr_name, pretty, quote_string


def _parses(path: Path) -> bool:
    try:
        parse(path.read_bytes(), str(path))
    except NixParseError:
        return False
    return True


# Files that are syntax errors by design are covered by test_peg.py.
CORPUS = [p for p in corpus_files() if _parses(p)]


@settings(max_examples=100, deadline=None)
@given(exprs(max_leaves=25))
def test_roundtrip_generated(e: object) -> None:
    assert to_data(parse(pretty(e))) == to_data(e)  # type: ignore[arg-type]


@pytest.mark.skipif(not CORPUS, reason="the seed test corpus (../shared) is not available")
@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_roundtrip_corpus(path: Path) -> None:
    e = parse(path.read_bytes(), str(path))
    assert to_data(parse(pretty(e))) == to_data(e)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", "1 + (2 * 3)"),
        ("f a b", "f a b"),
        ("f (g a)", "f (g a)"),
        ("(f a) or", "(f a) or"),
        ("f or", "f or"),
        ("a.b.c or d", "a.b.c or d"),
        (
            '{ "a b" = 1; ${x} = 2; "${y}" = 3; or = 4; }',
            '{ "a b" = 1; ${x} = 2; "${y}" = 3; or = 4; }',
        ),
        ('rec { inherit (a) b "c d"; }', 'rec { inherit (a) b "c d"; }'),
        ("{ a, b ? 1, ... }@c: a", "{ a, b ? 1, ... }@c: a"),
        ("c@{ ... }: 1", "c@{ ... }: 1"),
        ("{}: 1", "{ }: 1"),
        ("''\n  a ${b}\n  $${c}\n''", '"a ${b}\\n\\$\\${c}\\n"'),
        ("./a/${b}.nix", "./a/${b}.nix"),
        ("-(-1)", "-(-1)"),
        ("1.0e10", "10000000000.0"),
        ("1.5e300", "1.5e+300"),
        ("let { body = 1; }", "let { body = 1; }"),
        ("let a = 1; in a", "let a = 1; in a"),
        ("[ 1 (x: x) ]", "[ 1 (x: x) ]"),
        ("<nixpkgs>", "<nixpkgs>"),
    ],
)
def test_pretty_exact(text: str, expected: str) -> None:
    assert pretty(parse(text)) == expected


def test_quoting() -> None:
    assert quote_string('a"\\$\n\r\t') == '"a\\"\\\\\\$\\n\\r\\t"'
    assert format_attr_name("a-b'") == "a-b'"
    assert format_attr_name("or") == "or"
    assert format_attr_name("if") == '"if"'
    assert format_attr_name("") == '""'


def test_deep_pretty() -> None:
    text = pretty(parse("[" * 50_000 + "]" * 50_000))
    assert text == "[ " * 49_999 + "[ ]" + " ]" * 49_999
