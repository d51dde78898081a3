"""The libstdc++ ``std::stable_sort`` replica that ``builtins.sort`` needs to match C++ Nix."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tvix_eval.builtins._sort import stable_sort

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
