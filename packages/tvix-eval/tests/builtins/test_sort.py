"""The libstdc++ ``std::stable_sort`` replica that ``builtins.sort`` needs to match C++ Nix."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tvix_eval.api import Evaluator
from tvix_eval.builtins._sort import stable_sort
from tvix_eval.errors import NixError

from .conftest import Run, batch


@given(st.lists(st.integers(0, 20), max_size=80))
def test_sorts_stably(xs: list[int]) -> None:
    pairs = [(x, i) for i, x in enumerate(xs)]
    assert stable_sort(pairs, lambda a, b: a[0] < b[0]) == sorted(pairs, key=lambda p: p[0])


def quirky(a: int, b: int) -> bool:
    """Not a strict weak order, so the result depends on the exact algorithm."""
    return (a * 7 + b * 3) & 4 == 0


@pytest.mark.nix
def test_same_result_as_nix_for_any_comparator(nix: Run) -> None:
    r = random.Random(0)
    lists = []
    for n in [0, 1, 2, 5, 7, 8, 13, 14, 15, 16, 29, 30, 100]:
        xs = list(range(1, n + 1))
        r.shuffle(xs)
        lists.append(xs)
    exprs = [
        "builtins.sort (a: b: builtins.bitAnd (a * 7 + b * 3) 4 == 0) [ "
        + " ".join(map(str, xs))
        + " ]"
        for xs in lists
    ]
    ours = (
        "[ "
        + " ".join(
            "[ " + "".join(f"{x} " for x in stable_sort(xs, quirky)) + "]" if xs else "[ ]"
            for xs in lists
        )
        + " ]"
    )
    assert nix(batch(exprs)) == ours


def test_comparator_call_order() -> None:
    calls: list[tuple[int, int]] = []

    def lt(a: int, b: int) -> bool:
        calls.append((a, b))
        return quirky(a, b)

    assert stable_sort([1, 2, 4, 3, 5], lt) == [3, 4, 2, 1, 5]
    # the calls C++ Nix makes (seen with builtins.trace in the comparator)
    assert calls == [(2, 1), (4, 2), (5, 3), (5, 3), (5, 1), (3, 1), (3, 2), (3, 4)]


QUIRKY_NIX = "a: b: builtins.bitAnd (a * 7 + b * 3) 4 == 0"


def test_builtin_sort_is_libstdcxx_stable_sort(tvix: Run) -> None:
    # a comparator that is not a strict weak order: the result is what C++ Nix prints
    src = f"builtins.sort ({QUIRKY_NIX}) [ 9 3 14 1 7 12 5 2 10 13 8 6 4 11 ]"
    assert tvix(src) == "[ 1 14 6 3 9 12 13 5 2 10 7 8 11 4 ]"


def test_builtin_sort_calls_the_comparator_as_nix_does() -> None:
    traces: list[str] = []
    evaluator = Evaluator(trace=traces.append)
    src = (
        'builtins.sort (a: b: builtins.trace "${toString a} ${toString b}" '
        "(builtins.bitAnd (a * 7 + b * 3) 4 == 0)) [ 1 2 4 3 5 ]"
    )
    assert evaluator.print(evaluator.evaluate(src, strict=True)) == "[ 3 4 2 1 5 ]"
    # what nix-instantiate writes to stderr for the same expression
    assert traces == [
        "trace: 2 1",
        "trace: 4 2",
        "trace: 5 3",
        "trace: 5 3",
        "trace: 5 1",
        "trace: 3 1",
        "trace: 3 2",
        "trace: 3 4",
    ]


def test_builtin_sort_forces_every_element() -> None:
    # C++ Nix forces the elements before sorting, even a single one (here without --strict)
    evaluator = Evaluator()
    with pytest.raises(NixError, match=r"^x$"):
        evaluator.evaluate('builtins.length (builtins.sort (a: b: true) [ (throw "x") ])')


@pytest.mark.nix
def test_builtin_sort_cases_match_nix(tvix: Run, nix: Run) -> None:
    src = batch(
        [
            f"builtins.sort ({QUIRKY_NIX}) [ 9 3 14 1 7 12 5 2 10 13 8 6 4 11 ]",
            "builtins.sort builtins.lessThan [ 3 1 2 ]",
            'builtins.sort (a: b: a > b) [ "b" "a" "c" ]',
            "builtins.sort { __functor = self: a: b: a < b; } [ 2 1 ]",
        ]
    )
    assert tvix(src) == nix(src)
