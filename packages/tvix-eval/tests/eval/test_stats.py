"""Counts of evaluation work (tvix_eval.stats), against known programs and C++ Nix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from tvix_eval.api import Evaluator

FIB = "let f = n: if n < 2 then n else f (n - 1) + f (n - 2); in f 10"


def _stats(src: str) -> dict[str, object]:
    ev = Evaluator(stats=True)
    ev.evaluate(src, strict=True)
    assert ev.stats is not None
    return ev.stats.as_nix()


def test_counts_of_a_known_program() -> None:
    stats = _stats(
        "let s = { a = 1; b = 2; } // { c = 3; }; in"
        " [ s.a (builtins.map (x: x) [ 1 2 3 ]) ([ 1 ] ++ [ 2 ]) ]"
    )
    assert stats["nrFunctionCalls"] == 3  # x: x, forced three times by --strict
    assert stats["nrPrimOpCalls"] == 1  # map
    assert stats["nrOpUpdates"] == 1
    assert stats["nrOpUpdateValuesCopied"] == 3
    assert stats["nrLookups"] == 1
    assert stats["list"] == {"concats": 1}
    assert stats["sets"] == {"number": 3, "elements": 6}  # the two literals and the result


def test_curried_calls_count_each_application() -> None:
    # foldl' calls a: x: … with two arguments: two function calls per element
    stats = _stats("builtins.foldl' (a: x: a + x) 0 [ 1 2 3 ]")
    assert stats["nrFunctionCalls"] == 6


def test_off_by_default() -> None:
    assert Evaluator().stats is None


@pytest.mark.nix
@pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="C++ Nix is not installed")
@pytest.mark.parametrize(
    "src",
    [
        FIB,
        "builtins.foldl' (a: x: a ++ [ x ]) [ ] (builtins.genList (i: i) 20)",
        "let g = { a, b ? 2, ... }: a; in builtins.map (x: g { a = x; c = 1; }) [ 1 2 3 ]",
        "builtins.mapAttrs (n: v: v // { inherit n; }) { a = { }; b = { x = 1; }; }",
    ],
)
def test_function_calls_and_updates_match_nix(src: str) -> None:
    env = dict(os.environ, NIX_SHOW_STATS="1", NIX_REMOTE="dummy://")
    out = subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "-E", src],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    nix = json.loads(out.stderr[out.stderr.index("{") :])
    ours = _stats(src)
    for key in ("nrFunctionCalls", "nrOpUpdates", "nrOpUpdateValuesCopied"):
        assert ours[key] == nix[key], key
