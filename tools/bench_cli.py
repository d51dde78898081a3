"""Benchmark the ``tvix`` command against C++ Nix's ``nix-instantiate``.

Rows: startup (``tvix --version``; ``tvix eval -E 1`` against ``nix-instantiate --eval -E 1``)
and ../shared/bench/drv.nix instantiated into a fresh store by both (the embedded lmdb store in
a throwaway XDG data dir for tvix, ``local?root=<tmp>`` for Nix; both write the 1001 .drv
files). Times are the best of ``--repeat`` runs, each in its own process with byte-code caching
enabled in a private cache directory. ``run()`` returns dicts: name, ours_s, nix_s, ratio (wall
clock), and ours_cpu_s, nix_cpu_s (user + system time, steadier on a busy machine).

Usage: ``python tools/bench_cli.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DRV_NIX = ROOT.parent / "shared" / "bench" / "drv.nix"


def _tvix() -> list[str]:
    exe = shutil.which("tvix", path=str(Path(sys.executable).parent)) or shutil.which("tvix")
    return [exe] if exe else [sys.executable, "-m", "tvix_cli"]


def _time(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system) and stdout of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[:500]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, proc.stdout


def _env(tmp: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "tvix-bench-pycache")
    env["XDG_DATA_HOME"] = os.path.join(tmp, "xdg")
    env["NIX_REMOTE"] = f"local?root={os.path.join(tmp, 'nix')}"
    env.pop("NIX_PATH", None)
    return env


def _best(cmd: list[str], repeat: int, fresh_store: bool) -> tuple[float, float, str]:
    """Best wall time, best CPU time and the output over ``repeat`` runs."""
    times: list[float] = []
    cpus: list[float] = []
    out = ""
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="tvix-bench-") as tmp:
            env = _env(tmp)
            if not fresh_store:
                _time(cmd, env)  # warm the byte-code cache
            elapsed, cpu, out = _time(cmd, env)
            times.append(elapsed)
            cpus.append(cpu)
    return min(times), min(cpus), out


def run(repeat: int = 3) -> list[dict[str, object]]:
    """Benchmark startup and drv.nix instantiation; one dict per row."""
    nix = shutil.which("nix-instantiate")
    tvix = _tvix()
    with tempfile.TemporaryDirectory() as tmp:
        _time([*tvix, "eval", "-E", "1"], _env(tmp))  # fill the byte-code cache
    cases: list[tuple[str, list[str], list[str] | None, bool]] = [
        ("startup --version", [*tvix, "--version"], None, False),
        ("startup eval -E 1", [*tvix, "eval", "-E", "1"], ["--eval", "-E", "1"], False),
    ]
    if DRV_NIX.exists():
        cases.append(
            ("drv.nix instantiate", [*tvix, "instantiate", str(DRV_NIX)], [str(DRV_NIX)], True)
        )
    rows: list[dict[str, object]] = []
    for name, ours_cmd, nix_args, fresh in cases:
        ours_s, ours_cpu, ours_out = _best(ours_cmd, repeat, fresh)
        nix_s: float | None = None
        nix_cpu: float | None = None
        if nix is not None and nix_args is not None:
            nix_s, nix_cpu, nix_out = _best([nix, *nix_args], repeat, fresh)
            if fresh and nix_out.strip() != ours_out.strip():
                raise RuntimeError(f"{name}: tvix printed {ours_out!r}, Nix {nix_out!r}")
        rows.append(
            {
                "name": name,
                "ours_s": ours_s,
                "nix_s": nix_s,
                "ratio": ours_s / nix_s if nix_s else None,
                "ours_cpu_s": round(ours_cpu, 3),
                "nix_cpu_s": round(nix_cpu, 3) if nix_cpu is not None else None,
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for row in run(args.repeat):
        nix_s = row["nix_s"]
        ref = f"{nix_s:.3f}" if isinstance(nix_s, float) else "-"
        ratio = row["ratio"]
        ratio_text = f"{ratio:.2f}" if isinstance(ratio, float) else "-"
        print(
            f"{row['name']:24} ours {row['ours_s']:.3f}s  nix {ref}s  ratio {ratio_text}  "
            f"cpu ours {row['ours_cpu_s']}s nix {row['nix_cpu_s']}s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
