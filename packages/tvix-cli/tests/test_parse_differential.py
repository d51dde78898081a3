"""``tvix instantiate --parse`` against ``nix-instantiate --parse``: byte-identical output."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Run = Callable[..., Any]

# Free variables are bound by a prefix of lambdas so that Nix's variable check passes.
_BIND = "a: b: c: d: f: x: y: z: "

PARSE_CORPUS = [
    "{ b = 1; a = 2; c = 3; }",
    "{ a.b = 1; a.c = 2; }",
    "{ a.b.c = 1; a.b.d = 2; }",
    "{ x.a = 1; x = { b = 2; }; }",
    "{ a = rec { x = 1; }; a.y = 2; }",
    "rec { a.b = 1; }",
    "{ inherit (y) a; inherit z; }",
    "{ a = 1; inherit b; inherit (c) d; }",
    "rec { inherit b; }",
    '{ inherit (x) "a b"; }',
    'rec { "a b" = 1; ${x} = 2; "a${x}" = 3; }',
    '{ "a-b" = 1; "1a" = 2; "if" = 3; "a.b" = 4; a-b_c = 5; "" = 6; }',
    '{ "then" = 1; "else" = 2; "let" = 3; "or" = 4; "rec" = 5; "__a" = 6; }',
    '{ ${a} = 1; b = 2; ${"c"} = 3; }',
    "{ ${x}.a = 1; }",
    "{ a.${x} = 1; }",
    "let a.b = 1; in a",
    "let y.a = 1; y.b = 2; in y",
    "let inherit z; in 1",
    "let inherit ({}) a; in 1",
    "let zz = 1; aa = 2; in 1",
    "let value = 1; aaa = 2; in 1",
    "let aaa = 1; value = 2; in 1",
    "let zzz = 1; map = 2; in 1",
    "let zzz = 1; outPath = 2; in 1",
    "let { body = 1; }",
    "let { y = 1; body = y; }",
    "./foo",
    "./a/../b",
    "./a/${b}",
    "./a/../b/${x}",
    "/abs/path",
    '"${./a}"',
    "<nixpkgs>",
    "<nixpkgs/lib>",
    "x.${y}.z or 3",
    'x."a b"',
    'x."if"',
    "x.or",
    'x.${"a"}',
    'x.a.${"b c"}',
    "x ? a.b",
    "a.b.c",
    "[ 1 2 ]",
    "[ a (f a) ]",
    "[ [ ] { } ]",
    "{ b, a ? 1, ... }@x: x",
    "x@{ ... }: x",
    "{}: 1",
    "{ zz, aa, mm }: 1",
    "{ a, ... }: 1",
    "a: b: a",
    "-x",
    "-1",
    "- 1.5",
    "f -1",
    "a: -a.b",
    "!x",
    "a - b * c / d",
    "a < b",
    "a <= b",
    "a > b",
    "a >= b",
    "a + b",
    "a + b + c",
    "a ++ b",
    "a // b",
    "a && b || c -> d",
    "a == b",
    "a != b",
    '"a${b}c"',
    '"${a}"',
    '"${a}${b}"',
    "''  x${y}''",
    "''${a}''",
    "''${\"y\"}''",
    "''a${\"y\"}''",
    "''a\\nb''",
    '""',
    "''''",
    "''a''$b''",
    "''a'''b''",
    "''a''\\nb''",
    "''\n  a\n  ''${b}\n''",
    "''\n    a\n  b''${x}\n    c''",
    "''\n  ''\\n  x\n  ''",
    "''a'${x}''",
    "''a${''b''}c''",
    '"a\\nb\\"\\$"',
    '"a\\${b}"',
    '"\\t\\r\\\\"',
    '"a$b"',
    '{ "a$" = 1; "x\\ny" = 2; }',
    '"a${"b"}c"',
    "\"${''x''}\"",
    "1.5",
    "1.0",
    "0.1",
    ".5",
    "1.e3",
    "1.5e-7",
    "100000.0",
    "1000000.0",
    "123456789.0",
    "3.14159265",
    "1.0e300",
    "123",
    "null",
    "true",
    "http://x.org/y",
    "__curPos",
    "with x; y",
    "assert x; y",
    "if a then b else c",
    "f a b",
    "(f a) b",
    "{ x = 1; y = 2; }.x",
    "builtins.map",
    "{ a = 1; } // { }",
]


@pytest.mark.nix
@pytest.mark.parametrize("expr", PARSE_CORPUS)
def test_parse_matches_nix(tvix: Run, nix: Run, expr: str) -> None:
    theirs = nix("--parse", "-E", _BIND + expr)
    ours = tvix("instantiate", "--parse", "-E", _BIND + expr)
    assert theirs.code == 0, theirs.err
    assert (ours.code, ours.out) == (theirs.code, theirs.out)


@pytest.mark.nix
def test_parse_of_a_file_matches_nix(tvix: Run, nix: Run, tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "default.nix").write_text("{ src = ./data; up = ../x; home = ~/y; s = <p>; }\n")
    theirs = nix("--parse", str(sub / "default.nix"))
    ours = tvix("instantiate", "--parse", str(sub / "default.nix"))
    assert (ours.code, ours.out) == (theirs.code, theirs.out)


def test_parse_paths_are_absolute(tvix: Run, tmp_path: Path) -> None:
    ours = tvix("instantiate", "--parse", "-E", "{ a = ./x; inherit (y) b; }")
    assert ours.code == 1 or ours.out == f"{{ a = {tmp_path}/x; b = (y).b; }}\n"
    ours = tvix("instantiate", "--parse", "-E", "y: { a = ./x; inherit (y) b; }")
    assert ours.out == f"(y: {{ a = {tmp_path}/x; b = (y).b; }})\n"
