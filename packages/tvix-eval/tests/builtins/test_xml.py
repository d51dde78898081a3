"""toXML: byte-identical to C++ Nix, derivations included."""

from __future__ import annotations

import random

import pytest

from .conftest import Run, batch, nix_string

FAKE_DRV = (
    '{ type = "derivation"; drvPath = "/nix/store/aaa-x.drv"; outPath = "/nix/store/bbb-x"; '
    'name = "x"; }'
)

CASES = [
    'builtins.toXML [ 1 1.5 2.0 1.0e20 "a<>&\\"\'\\n\\t\\ré" true null /a/b ]',
    "builtins.toXML [ (x: x) ({a, b ? 1, ...}: a) ({a}@z: a) (z@{b, a}: a) builtins.map ]",
    'builtins.toXML { a = 1; "b c" = [ ]; d = { }; }',
    f"let d = {FAKE_DRV}; in builtins.toXML [ d d {{ x = d; y = d; }} ]",
    f"let d = {FAKE_DRV} // {{ all = [ d ]; }}; in builtins.toXML d",
    'builtins.toXML { type = "derivation"; outPath = 1; }',
    'builtins.getContext (builtins.toXML "${builtins.toFile "x" "y"}")',
]


@pytest.mark.nix
@pytest.mark.parametrize("src", CASES)
def test_xml_matches_nix(tvix: Run, nix: Run, src: str) -> None:
    assert tvix(src) == nix(src)


def test_xml_layout(tvix: Run) -> None:
    assert tvix("builtins.toXML [ ]") == (
        "\"<?xml version='1.0' encoding='utf-8'?>\\n<expr>\\n  <list>\\n  </list>\\n</expr>\\n\""
    )


def random_expr(r: random.Random, depth: int = 3) -> str:
    """A random Nix expression over every kind of value toXML prints."""
    kind = r.randrange(10 if depth > 0 else 7)
    if kind == 0:
        return r.choice(["null", "true", "false"])
    if kind == 1:
        return f"({r.randint(-1000, 1000)})"
    if kind == 2:
        return r.choice(["0.1", "1.5", "1.0e20", "1.0e-7", "123456789.0", "2.0", "(-3.25)"])
    if kind == 3:
        alphabet = ["a", "é", "<", ">", "&", '"', "'", "\n", "\t", "\r", "\x01", "€"]
        return nix_string("".join(r.choice(alphabet) for _ in range(r.randint(0, 5))))
    if kind == 4:
        return r.choice(["/a/b", "/", "/x/y/z.nix"])
    if kind == 5:
        return r.choice(
            [
                "(x: x)",
                "({ a, b ? 1 }: a)",
                "({ z, a, ... }@args: a)",
                "builtins.map",
                "(builtins.map (x: x))",
            ]
        )
    if kind == 6:
        return '{ type = "derivation"; drvPath = "/nix/store/a.drv"; outPath = "/nix/store/b"; }'
    if kind in (7, 8):
        return "[ " + " ".join(random_expr(r, depth - 1) for _ in range(r.randint(0, 3))) + " ]"
    names = ["a", "b", "x y", "", "é"]
    return (
        "{ "
        + "".join(
            f"{nix_string(n)} = {random_expr(r, depth - 1)}; "
            for n in r.sample(names, r.randint(0, 3))
        )
        + "}"
    )


@pytest.mark.nix
@pytest.mark.parametrize("seed", range(2))
def test_random_to_xml_matches_nix(tvix: Run, nix: Run, seed: int) -> None:
    r = random.Random(seed)
    src = batch([f"builtins.toXML {random_expr(r)}" for _ in range(40)])
    assert tvix(src) == nix(src)
