"""Helpers for the builtin tests: evaluate with tvix_eval, and (where installed) with C++ Nix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tvix_eval.api import RECURSION_LIMIT, Evaluator
from tvix_eval.errors import NixError
from tvix_eval.io import FilesystemIO

NIX_INSTANTIATE = shutil.which("nix-instantiate")

# The evaluator raises the (process-wide) recursion limit on first use; raising it up front keeps
# hypothesis from warning that a test changed it.
sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))

requires_nix = pytest.mark.skipif(
    NIX_INSTANTIATE is None, reason="nix-instantiate is not installed"
)


def nix_string(text: str) -> str:
    """A Nix string literal denoting ``text``."""
    return (
        '"'
        + text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("${", "\\${")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
        + '"'
    )


def error_text(e: NixError) -> str:
    """``error: <message>`` as the first line of C++ Nix's report."""
    return "error: " + str(getattr(e, "message", e))


@pytest.fixture(scope="session")
def evaluator() -> Evaluator:
    """An impure evaluator reading the real file system."""
    return Evaluator(io=FilesystemIO(), impure=True, trace=lambda s: None)


Run = Callable[[str], str]


@pytest.fixture(scope="session")
def tvix(evaluator: Evaluator) -> Run:
    """Evaluate strictly; the printed value, or ``error: <message>``."""

    def run(src: str) -> str:
        try:
            return str(evaluator.print(evaluator.evaluate(src, strict=True)))
        except NixError as e:
            return error_text(e)

    return run


def run_nix(src: str, cwd: Path | None = None) -> str:
    """What ``nix-instantiate --eval --strict`` prints, or the first line of its error."""
    assert NIX_INSTANTIATE is not None
    r = subprocess.run(
        [NIX_INSTANTIATE, "--eval", "--strict", "-E", src],
        capture_output=True,
        text=True,
        errors="surrogateescape",
        cwd=cwd,
        check=False,
        timeout=120,
    )
    if r.returncode == 0:
        return r.stdout.strip()
    return error_message(r.stderr)


def error_message(stderr: str) -> str:
    """The ``error: …`` message in C++ Nix's report: its first line and the indented lines
    continuing it (before the blank line that precedes the location)."""
    lines = stderr.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("error:"):
            message = [line]
            for more in lines[i + 1 :]:
                if not more.startswith(" ") or not more.strip():
                    break
                message.append(more)
            return "\n".join(message)
    return stderr.strip()


@pytest.fixture(scope="session")
def nix() -> Iterator[Run]:
    """C++ Nix as an oracle (the test skips where it is not installed)."""
    if NIX_INSTANTIATE is None:
        pytest.skip("nix-instantiate is not installed")
    yield run_nix


def batch(exprs: list[str]) -> str:
    """One Nix list holding every expression, so one ``nix-instantiate`` call checks them all."""
    return "[ " + " ".join(f"({e})" for e in exprs) + " ]"
