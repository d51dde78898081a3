"""Benchmark the evaluator against C++ Nix on ../shared/bench/*.nix.

Each program runs in its own subprocess, once with tvix_eval and once with
``nix-instantiate --eval --strict``; wall time and peak RSS are measured for both (the best of
``--repeat`` runs). ``run()`` returns one dict per program: name, ours_s, nix_s, ratio,
ours_peak_mb, nix_peak_mb (nix figures are None when nix-instantiate is absent).

Usage: ``python tools/bench_eval.py [--repeat N] [NAME…]``
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT.parent / "shared" / "bench"
PROGRAMS = ("fib25", "fib30", "recursion", "attrs", "fixpoint")

_OURS = """
import sys
from tvix_eval.api import Evaluator
from tvix_eval.io import FilesystemIO
ev = Evaluator(io=FilesystemIO(), impure=True)
value = ev.evaluate_file(sys.argv[1], strict=True)
sys.stdout.write(ev.print(value) + "\\n")
"""


def _run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB (of exactly this child, via wait4) and stdout."""
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
    return elapsed, usage.ru_maxrss / 1024, out.strip()


def _best(
    cmd: list[str], repeat: int, env: dict[str, str] | None = None
) -> tuple[float, float, str]:
    runs = [_run_child(cmd, env) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[0][2]


def run(names: tuple[str, ...] = PROGRAMS, repeat: int = 1) -> list[dict[str, object]]:
    """Benchmark each program; one result dict per program."""
    nix = shutil.which("nix-instantiate")
    results: list[dict[str, object]] = []
    for name in names:
        path = BENCH_DIR / f"{name}.nix"
        ours_s, ours_mb, ours_out = _best([sys.executable, "-c", _OURS, str(path)], repeat)
        row: dict[str, object] = {
            "name": name,
            "ours_s": round(ours_s, 3),
            "nix_s": None,
            "ratio": None,
            "ours_peak_mb": round(ours_mb, 1),
            "nix_peak_mb": None,
        }
        if nix is not None:
            env = dict(os.environ, NIX_REMOTE=os.environ.get("NIX_REMOTE", "dummy://"))
            nix_s, nix_mb, nix_out = _best([nix, "--eval", "--strict", str(path)], repeat, env)
            row.update(
                nix_s=round(nix_s, 3),
                ratio=round(ours_s / nix_s, 2),
                nix_peak_mb=round(nix_mb, 1),
                same_output=nix_out == ours_out,
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
    print(f"{'program':<12}{'ours s':>9}{'nix s':>9}{'ratio':>8}{'ours MiB':>10}{'nix MiB':>9}")
    ratios = []
    for r in rows:
        print(
            f"{r['name']!s:<12}{r['ours_s']!s:>9}{r['nix_s']!s:>9}{r['ratio']!s:>8}"
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
