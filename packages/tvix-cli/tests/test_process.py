"""The installed command: ``python -m tvix_cli``, exit codes and no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_files_are_parsed_once_and_output_survives_the_fast_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "parse-cache"
    monkeypatch.setenv("TVIX_CACHE_DIR", str(cache))
    f = tmp_path / "big.nix"
    f.write_text("{ " + " ".join(f"a{i} = {{ v = {i}; }};" for i in range(3000)) + " }")
    by_name = sorted(range(3000), key=lambda i: f"a{i}")
    expected = "[ " + " ".join(f"{i}" for i in by_name) + " ]\n"
    expr = f"map (n: n.v) (builtins.attrValues (import {f}))"
    for _ in range(2):
        r = _run("eval", "--store", "memory://", "--strict", "-E", expr)
        assert (r.returncode, r.stderr) == (0, "")
        assert r.stdout == expected
    assert len(list(cache.glob("*.parse"))) == 1


def test_evaluation_error_in_a_cached_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TVIX_CACHE_DIR", str(tmp_path / "parse-cache"))
    f = tmp_path / "bad.nix"
    f.write_text('{ x = 1;\n  y = throw "no"; }.y\n')
    for _ in range(2):
        r = _run("eval", str(f))
        assert r.returncode == 1
        assert r.stderr == "error: no\n(use '--show-trace' to show detailed location information)\n"
        r = _run("eval", "--show-trace", str(f))
        assert r.stderr == (  # as nix-instantiate --eval --show-trace prints it
            "error: no\n\n       … while evaluating the attribute 'y'\n\n"
            f"       at {f}:2:3:\n\n"
            "            1| { x = 1;\n"
            '            2|   y = throw "no"; }.y\n'
            "             |   ^\n"
        )


def _modules_loaded_by(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``tvix ARGS`` in a fresh interpreter; also the modules it loaded beyond start-up."""
    script = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from tvix_cli.main import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stdout.write('\\n' + ' '.join(sorted(set(sys.modules) - before)))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    output, _, loaded = r.stdout.rpartition("\n")
    r.stdout = output
    return r, set(loaded.split())


def test_evaluating_an_expression_loads_no_store_and_no_command_line_framework() -> None:
    r, loaded = _modules_loaded_by("eval", "-E", "1 + 1")
    assert (r.returncode, r.stdout, r.stderr) == (0, "2\n", "")
    unwanted = {
        "typer", "click", "rich", "grpc", "lmdb", "cryptography", "tvix_store", "tvix_castore",
        "nix_compat", "json", "hashlib", "pickle", "queue", "tvix_eval.syntax.cache",
        "tvix_eval.builtins.derivation", "tvix_eval.builtins.json", "tvix_eval.builtins.xml",
        "tvix_eval.builtins.regex", "tvix_eval.builtins.toml", "tvix_eval.builtins.hashing",
    }  # fmt: skip
    assert sorted(m for m in loaded if m in unwanted or m.partition(".")[0] in unwanted) == []


def test_version_loads_neither_evaluator_nor_typing() -> None:
    r, loaded = _modules_loaded_by("--version")
    assert r.stdout == "tvix 0.1.0\n"
    assert not {m for m in loaded if m.startswith("tvix_eval") or m == "typing"}
