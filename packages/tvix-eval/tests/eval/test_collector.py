"""The collector's budget while evaluating (runtime.collector)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from tvix_eval.api import Evaluator
from tvix_eval.runtime import collector

#: many let-bound lambdas: each call leaves a frame <-> closure cycle behind
CYCLES = (
    "builtins.foldl' (acc: i: acc + (let f = x: x + i; in f 1)) 0 (builtins.genList (x: x) 20000)"
)


@pytest.mark.parametrize(
    ("text", "size"),
    [("123", 123), ("4k", 4096), ("384M", 384 << 20), ("1g", 1 << 30), (" 2K ", 2048)],
)
def test_parse_size(text: str, size: int) -> None:
    assert collector.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "k", "12x", "-5", "1.5m"])
def test_parse_size_rejects(text: str) -> None:
    assert collector.parse_size(text) is None


def test_budget_defaults_to_at_most_384_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GC_INITIAL_HEAP_SIZE", raising=False)
    assert 0 < collector.heap_budget() <= 384 << 20


def test_budget_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GC_INITIAL_HEAP_SIZE", "96m")
    assert collector.young_threshold() == (96 << 20) // collector.BYTES_PER_OBJECT
    monkeypatch.setenv("GC_INITIAL_HEAP_SIZE", "1")
    assert collector.young_threshold() == collector.MIN_THRESHOLD


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generations collected while an evaluation runs (with its collector budget)."""
    seen: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and gc.get_threshold()[0] == collector.young_threshold():
            seen.append(info["generation"])

    gc.callbacks.append(record)
    try:
        yield seen
    finally:
        gc.callbacks.remove(record)


def test_small_budget_collects_cycles_during_evaluation(
    monkeypatch: pytest.MonkeyPatch, collections: list[int]
) -> None:
    monkeypatch.setenv("GC_INITIAL_HEAP_SIZE", "100k")
    assert Evaluator().evaluate(CYCLES, strict=True) == sum(range(20000)) + 20000
    assert len(collections) >= 5


def test_default_budget_spares_small_evaluations(
    monkeypatch: pytest.MonkeyPatch, collections: list[int]
) -> None:
    monkeypatch.setenv("GC_INITIAL_HEAP_SIZE", "256m")
    ev = Evaluator()
    gc.collect()
    assert ev.evaluate(CYCLES, strict=True) == sum(range(20000)) + 20000
    assert collections == []


def test_threshold_is_restored_after_evaluation() -> None:
    before = gc.get_threshold()
    Evaluator().evaluate("1 + 1")
    assert gc.get_threshold() == before
