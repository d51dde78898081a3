"""The installed command: ``python -m tvix_cli``, exit codes and no tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tvix_cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_module_entry_point() -> None:
    assert _run("--version").stdout == "tvix 0.1.0\n"
    r = _run("eval", "--store", "memory://", "-E", "6 * 7")
    assert (r.returncode, r.stdout) == (0, "42\n")


def test_help_lists_commands() -> None:
    r = _run("--help")
    assert r.returncode == 0
    for command in ("eval", "instantiate", "repl", "serve"):
        assert command in r.stdout


@pytest.mark.parametrize(
    "args",
    [("eval", "--bogus"), ("eval", "--arg", "x"), ("nonsense",), ("eval", "--raw", "--json")],
)
def test_usage_errors(args: tuple[str, ...]) -> None:
    r = _run(*args)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr


def test_evaluation_error_exit_1() -> None:
    r = _run("eval", "-E", 'abort "stop"')
    assert r.returncode == 1
    assert r.stderr.startswith("error: evaluation aborted with the following error message: 'stop'")
    assert "Traceback" not in r.stderr
