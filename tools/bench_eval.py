"""Benchmark the evaluator against C++ Nix on ../shared/bench/*.nix.

Each program runs in its own subprocess, once with tvix_eval and once with
``nix-instantiate --eval --strict``; CPU time (user + system, of exactly that child), wall time
and peak RSS are measured for both (the best of ``--repeat`` runs). CPU time is what the ratio
compares: on a shared machine it is far steadier than wall time. ``run()`` returns one dict per
program: name, ours_s, nix_s, ratio (CPU seconds), ours_wall_s, nix_wall_s, ours_peak_mb,
nix_peak_mb (nix figures are None when nix-instantiate is absent).

Our child runs as an installed package would: with a byte-code cache (kept outside the tree, and
filled by an untimed first run), and it ends with ``os._exit`` once its output is written, as
``nix-instantiate`` leaves its heap to the operating system instead of freeing it object by
object (for Python that is a final garbage collection of everything the evaluation built).

Usage: ``python tools/bench_eval.py [--repeat N] [NAME…]``
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT.parent / "shared" / "bench"
PROGRAMS = ("fib25", "fib30", "recursion", "attrs", "fixpoint", "strings", "lists", "json")

_OURS = """
import os
import sys
from tvix_eval.api import Evaluator
from tvix_eval.io import FilesystemIO
ev = Evaluator(io=FilesystemIO(), impure=True)
value = ev.evaluate_file(sys.argv[1], strict=True)
sys.stdout.write(ev.print(value) + "\\n")
sys.stdout.flush()
os._exit(0)
"""


class _Run(NamedTuple):
    cpu_s: float
    wall_s: float
    peak_mb: float
    out: str


def _run_child(cmd: list[str], env: dict[str, str] | None = None) -> _Run:
    """CPU and wall seconds, peak RSS in MiB (of exactly this child, via wait4) and stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {err.strip()[:500]}")
    cpu = usage.ru_utime + usage.ru_stime
    return _Run(cpu, elapsed, usage.ru_maxrss / 1024, out.strip())


def _best(cmd: list[str], repeat: int, env: dict[str, str] | None = None) -> _Run:
    runs = [_run_child(cmd, env) for _ in range(repeat)]
    return _Run(
        min(r.cpu_s for r in runs),
        min(r.wall_s for r in runs),
        max(r.peak_mb for r in runs),
        runs[0].out,
    )


def _ours_env() -> dict[str, str]:
    """The environment of our child: byte-code cached (outside the tree), as when installed."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "tvix-bench-pycache")
    return env


def run(names: tuple[str, ...] = PROGRAMS, repeat: int = 1) -> list[dict[str, object]]:
    """Benchmark each program; one result dict per program."""
    nix = shutil.which("nix-instantiate")
    results: list[dict[str, object]] = []
    ours_env = _ours_env()
    if names:  # fill the byte-code cache
        _run_child([sys.executable, "-c", _OURS, str(BENCH_DIR / "fib25.nix")], ours_env)
    for name in names:
        path = BENCH_DIR / f"{name}.nix"
        ours = _best([sys.executable, "-c", _OURS, str(path)], repeat, ours_env)
        row: dict[str, object] = {
            "name": name,
            "ours_s": round(ours.cpu_s, 3),
            "nix_s": None,
            "ratio": None,
            "ours_wall_s": round(ours.wall_s, 3),
            "nix_wall_s": None,
            "ours_peak_mb": round(ours.peak_mb, 1),
            "nix_peak_mb": None,
        }
        if nix is not None:
            env = dict(os.environ, NIX_REMOTE=os.environ.get("NIX_REMOTE", "dummy://"))
            ref = _best([nix, "--eval", "--strict", str(path)], repeat, env)
            row.update(
                nix_s=round(ref.cpu_s, 3),
                ratio=round(ours.cpu_s / max(ref.cpu_s, 1e-3), 2),
                nix_wall_s=round(ref.wall_s, 3),
                nix_peak_mb=round(ref.peak_mb, 1),
                same_output=ref.out == ours.out,
            )
        results.append(row)
    return results


def main(argv: list[str] | None = None) -> int:
    """Print a table of the results and the geometric mean of the ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("names", nargs="*")
    args = ap.parse_args(argv)
    rows = run(tuple(args.names) or PROGRAMS, args.repeat)
    print(
        f"{'program':<12}{'ours cpu':>9}{'nix cpu':>9}{'ratio':>8}"
        f"{'ours wall':>10}{'nix wall':>9}{'ours MiB':>10}{'nix MiB':>9}"
    )
    ratios = []
    for r in rows:
        print(
            f"{r['name']!s:<12}{r['ours_s']!s:>9}{r['nix_s']!s:>9}{r['ratio']!s:>8}"
            f"{r['ours_wall_s']!s:>10}{r['nix_wall_s']!s:>9}"
            f"{r['ours_peak_mb']!s:>10}{r['nix_peak_mb']!s:>9}"
            + ("" if r.get("same_output", True) else "  (output differs!)")
        )
        if isinstance(r["ratio"], float):
            ratios.append(r["ratio"])
    if ratios:
        geo = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
        print(f"geometric mean ratio: {geo:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
