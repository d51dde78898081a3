"""Deep recursion: Nix programs recurse far deeper than Python's default stack allows."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from tvix_eval.api import Evaluator
from tvix_eval.io import FilesystemIO
from tvix_eval.runtime.errors import EvalError, InfiniteRecursion, StackOverflow

CORPUS = Path(__file__).resolve().parents[5] / "shared/seed/tvix/eval/src/tests/nix_tests"


def test_non_tail_recursion_100k(evaluator: Evaluator) -> None:
    src = "let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 100000"
    assert evaluator.evaluate(src, strict=True) == 100000


@pytest.mark.skipif(sys.platform != "linux", reason="counts Linux page faults")
def test_recursion_up_and_down_stays_in_one_frame_block(evaluator: Evaluator) -> None:
    """Going 40 Nix calls deep and back 20,000 times must not map and unmap CPython's frame
    chunks each time (each new chunk costs page faults; there were ~40k here before)."""
    import resource

    src = (
        "let f = n: if n == 0 then 0 else 1 + f (n - 1);"
        " in builtins.foldl' (acc: i: acc + f 40) 0 (builtins.genList (x: x) 20000)"
    )
    assert evaluator.evaluate(src, strict=True) == 800000  # compiled and warmed up
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    assert evaluator.evaluate(src, strict=True) == 800000
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 5000


def test_tail_call_corpus_test() -> None:
    path = CORPUS / "eval-okay-tail-call-1.nix"
    if not path.exists():
        pytest.skip("the seed corpus is not available")
    ev = Evaluator(io=FilesystemIO())
    assert ev.evaluate_file(str(path), strict=True) == 100000


def test_deep_lazy_chain(evaluator: Evaluator) -> None:
    """A 50k-long chain of thunks, each depending on the previous one."""
    src = """
      let xs = builtins.genList (i: if i == 0 then 0 else builtins.elemAt xs (i - 1) + 1) 50000;
      in builtins.elemAt xs 49999
    """
    assert evaluator.evaluate(src, strict=True) == 49999


def test_deeply_nested_value_prints(evaluator: Evaluator) -> None:
    src = "builtins.foldl' (acc: x: [ acc ]) [ ] (builtins.genList (x: x) 50000)"
    value = evaluator.evaluate(src, strict=True)
    text = evaluator.print(value)
    assert text.startswith("[ [ [ ") and text.endswith(" ] ] ]")
    assert text.count("[") == 50001


def test_too_deep_is_a_clean_stack_overflow() -> None:
    evaluator = Evaluator(recursion_limit=100_000)
    src = "let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 10000000"
    with pytest.raises(StackOverflow) as info:
        evaluator.evaluate(src, strict=True)
    assert info.value.render() == "error: stack overflow"
    # the evaluator is still usable afterwards
    assert evaluator.evaluate("1 + 1") == 2


def test_default_limit_overflows_cleanly(evaluator: Evaluator) -> None:
    """With the default (large) limit, running out is still the Nix error, not a crash."""
    src = "let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 10000000"
    with pytest.raises(StackOverflow):
        evaluator.evaluate(src, strict=True)


def test_infinite_recursion_is_detected(evaluator: Evaluator) -> None:
    with pytest.raises(InfiniteRecursion):
        evaluator.evaluate("rec { a = a; }.a")
    with pytest.raises(EvalError, match="infinite recursion encountered"):
        evaluator.evaluate("let xs = [ (builtins.elemAt xs 0) ]; in builtins.elemAt xs 0")
