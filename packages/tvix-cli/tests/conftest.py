"""Fixtures: running ``tvix`` in-process and ``nix-instantiate`` on a throwaway store."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Result:
    """What a command printed and its exit status."""

    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own XDG data dir (so the default store is private) and no NIX_PATH."""
    data = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.delenv("NIX_PATH", raising=False)
    monkeypatch.delenv("TVIX_STORE_ADDR", raising=False)
    monkeypatch.delenv("NIX_REMOTE", raising=False)
    monkeypatch.chdir(tmp_path)
    return data


@pytest.fixture
def tvix(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``tvix ARGS`` in this process (stdin text optional)."""
    import sys

    from tvix_cli.main import main

    def run(*args: str, stdin: str = "") -> Result:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = 0
        try:
            main(list(args))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        return Result(code, out.getvalue(), err.getvalue())

    return run


NIX_INSTANTIATE = shutil.which("nix-instantiate")


@pytest.fixture
def nix_store(tmp_path: Path) -> Path:
    """The root of a throwaway local Nix store."""
    return tmp_path / "nix-root"


@pytest.fixture
def nix(nix_store: Path) -> Iterator[Callable[..., Result]]:
    """Run ``nix-instantiate ARGS`` against a throwaway store (skips when Nix is absent)."""
    if NIX_INSTANTIATE is None:
        pytest.skip("nix-instantiate is not installed")
    env = dict(os.environ)
    env["NIX_REMOTE"] = f"local?root={nix_store}"
    env.pop("NIX_PATH", None)

    def run(*args: str, stdin: str = "") -> Result:
        assert NIX_INSTANTIATE is not None
        proc = subprocess.run(
            [NIX_INSTANTIATE, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    yield run
