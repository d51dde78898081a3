#!/usr/bin/env python3
"""Set up everything the project needs and run one of its jobs.

Needs only python3 (>= 3.11) with pip and venv. The first run creates
``.venv-tools`` (nox and uv) and ``.venv`` (every distribution installed
editable); later runs reuse them.

    python3 tools/dev.py run ARGS...   the `tvix` command with ARGS (the main job)
    python3 tools/dev.py test [ARGS]   the whole test suite (nox sessions tests, tests_compiled,
                                       conformance)
    python3 tools/dev.py nox ARGS...   any nox session, e.g. `nox -s bench` or `nox -s lint`
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS_VENV = ROOT / ".venv-tools"
DEV_VENV = ROOT / ".venv"
DISTRIBUTIONS = ["nix-compat", "tvix-eval", "tvix-castore", "tvix-store", "tvix-serde", "tvix-cli"]
MAIN_COMMAND = "tvix"


def bin_path(env: Path, name: str) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin") / name


def ensure_venv(env: Path, marker: str, packages: list[str], *, via_uv: bool = False) -> None:
    """Create `env` and install `packages` into it unless `marker` already exists."""
    if bin_path(env, marker).exists():
        return
    print(f"setting up {env.name} ...", file=sys.stderr)
    if via_uv:
        uv = str(bin_path(TOOLS_VENV, "uv"))
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(env)], check=True)
        subprocess.run(
            [uv, "pip", "install", "--quiet", "--python", str(bin_path(env, "python")), *packages],
            check=True,
            cwd=ROOT,
        )
    else:
        venv.create(env, with_pip=True)
        pip = [str(bin_path(env, "python")), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, *packages], check=True)


def ensure_tools() -> None:
    ensure_venv(TOOLS_VENV, "nox", ["nox>=2024.4", "uv>=0.4"])


def ensure_dev() -> None:
    ensure_tools()
    editable = [arg for dist in DISTRIBUTIONS for arg in ("-e", f"packages/{dist}")]
    ensure_venv(DEV_VENV, MAIN_COMMAND, editable, via_uv=True)


def run_nox(args: list[str]) -> int:
    ensure_tools()
    env = {**os.environ, "PATH": f"{bin_path(TOOLS_VENV, '')}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.call([str(bin_path(TOOLS_VENV, "nox")), *args], cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0 if argv else 2
    job, rest = argv[0], argv[1:]
    if job == "test":
        sessions = ["tests", "tests_compiled", "conformance"]
        return run_nox(["-s", *sessions, *(["--", *rest] if rest else [])])
    if job == "nox":
        return run_nox(rest)
    if job == "run":
        ensure_dev()
        return subprocess.call([str(bin_path(DEV_VENV, MAIN_COMMAND)), *rest])
    print(f"unknown job {job!r}; expected run, test or nox", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
