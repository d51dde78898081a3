"""Helpers for the evaluator tests: evaluate with tvix_eval and, where installed, with C++ Nix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable

import pytest
from tvix_eval.api import RECURSION_LIMIT, Evaluator
from tvix_eval.errors import NixError

NIX_INSTANTIATE = shutil.which("nix-instantiate")

# The evaluator raises the (process-wide) recursion limit on first use; raising it up front keeps
# hypothesis from warning that a test changed it.
sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))

requires_nix = pytest.mark.skipif(
    NIX_INSTANTIATE is None, reason="nix-instantiate is not installed"
)

Run = Callable[[str], str]


@pytest.fixture(scope="session")
def evaluator() -> Evaluator:
    """A pure evaluator shared by the tests (no file access)."""
    return Evaluator(trace=lambda s: None)


def _runner(evaluator: Evaluator, strict: bool) -> Run:
    def run(src: str) -> str:
        try:
            return evaluator.print(evaluator.evaluate(src, strict=strict))
        except NixError as e:
            return "error: " + str(getattr(e, "message", e))

    return run


@pytest.fixture(scope="session")
def strict(evaluator: Evaluator) -> Run:
    """``--eval --strict``: the printed value, or ``error: <message>``."""
    return _runner(evaluator, True)


@pytest.fixture(scope="session")
def lazy(evaluator: Evaluator) -> Run:
    """``--eval``: the printed value, or ``error: <message>``."""
    return _runner(evaluator, False)


def run_nix(src: str, *, strict: bool = True) -> str:
    """What ``nix-instantiate --eval [--strict]`` prints, or the first line of its error."""
    assert NIX_INSTANTIATE is not None
    args = [NIX_INSTANTIATE, "--eval", "-E", src]
    if strict:
        args.insert(2, "--strict")
    r = subprocess.run(args, capture_output=True, text=True, cwd="/", check=False)
    if r.returncode == 0:
        return r.stdout.strip()
    lines = [line for line in r.stderr.split("\n") if line.startswith("error:")]
    return lines[0] if lines else r.stderr.strip()
