"""Benchmark the evaluator against C++ Nix on ../shared/bench/*.nix.

Each program runs in its own subprocess, once with tvix_eval and once with
``nix-instantiate --eval --strict`` (the two interleaved, run after run); CPU time (user + system,
of exactly that child), user CPU time, wall time and peak RSS are measured for both (each the best
of ``--repeat`` runs). CPU time is what the ratio compares: on a shared machine it is far steadier
than wall time. ``run()`` returns one dict per program: name, ours_s, nix_s, ratio (CPU seconds),
ours_user_s, nix_user_s, user_ratio, ours_wall_s, nix_wall_s, ours_peak_mb, nix_peak_mb (nix
figures are None when nix-instantiate is absent), same_output. Without ../shared/bench the suite
says so and returns no rows.

Our child runs as an installed package would: with a byte-code cache (kept outside the tree, and
filled by an untimed first run), and it ends with ``os._exit`` once its output is written, as
``nix-instantiate`` leaves its heap to the operating system instead of freeing it object by
object (for Python that is a final garbage collection of everything the evaluation built).
tools/bench_macro.py drives the same child through ``compare`` and ``warm_up``.

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
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT.parent / "shared" / "bench"
PROGRAMS = ("fib25", "fib30", "recursion", "attrs", "fixpoint", "strings", "lists", "json")

# Takes nix-instantiate's arguments after ``--eval --strict``: a file or ``-E EXPR`` (resolved
# against the working directory, as Nix does). A file is made absolute before evaluation.
_OURS = """
import os
import sys
from tvix_eval.api import Evaluator
from tvix_eval.io import FilesystemIO
ev = Evaluator(io=FilesystemIO(), impure=True, one_shot=True)
if sys.argv[1] == "-E":
    value = ev.evaluate(sys.argv[2], strict=True)
else:
    value = ev.evaluate_file(os.path.abspath(sys.argv[1]), strict=True)
sys.stdout.write(ev.print(value) + "\\n")
sys.stdout.flush()
os._exit(0)
"""


class Run(NamedTuple):
    """What one child cost (seconds, MiB) and what it printed."""

    user_s: float
    cpu_s: float  # user + system
    wall_s: float
    peak_mb: float
    out: str


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Measure one child through wait4, so the figures are exactly its own."""
    with tempfile.TemporaryFile() as err:  # a file, so a chatty stderr never blocks the child
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        if proc.returncode != 0:
            err.seek(0)
            message = err.read().decode(errors="replace").strip()[:500]
            raise RuntimeError(f"{cmd[0]} failed: {message}")
    return Run(
        usage.ru_utime,
        usage.ru_utime + usage.ru_stime,
        elapsed,
        usage.ru_maxrss / 1024,
        out.strip(),
    )


def best(runs: Sequence[Run]) -> Run:
    """Each figure the best of its runs (the least disturbed); peak memory the highest seen."""
    return Run(
        min(r.user_s for r in runs),
        min(r.cpu_s for r in runs),
        min(r.wall_s for r in runs),
        max(r.peak_mb for r in runs),
        runs[0].out,
    )


def ours_env() -> dict[str, str]:
    """The environment of our child: byte-code cached (outside the tree), as when installed."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "tvix-bench-pycache")
    return env


def nix_env() -> dict[str, str]:
    """Nix evaluates against a dummy store unless told otherwise: no daemon, nothing written."""
    return dict(os.environ, NIX_REMOTE=os.environ.get("NIX_REMOTE", "dummy://"))


def ours_cmd(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-c", _OURS, *args]


def nix_cmd(nix: str, args: Sequence[str]) -> list[str]:
    return [nix, "--eval", "--strict", *args]


def warm_up(cases: Iterable[Sequence[str]], nix: str | None) -> None:
    """One untimed run of each case, so that timed runs find the byte-code cache and
    tvix-eval's on-disk parse cache filled for every file the case imports (and the files
    in the page cache, for both evaluators)."""
    env, ref_env = ours_env(), nix_env()
    for args in cases:
        run_child(ours_cmd(args), env)
        if nix is not None:
            run_child(nix_cmd(nix, args), ref_env)


def compare(args: Sequence[str], repeat: int, nix: str | None) -> tuple[Run, Run | None]:
    """Best of ``repeat`` runs of ours and of Nix on the same arguments, interleaved so that
    a burst of load on the machine hits both sides alike. Nix's figures are None without it."""
    env, ref_env = ours_env(), nix_env()
    ours: list[Run] = []
    ref: list[Run] = []
    for _ in range(repeat):
        ours.append(run_child(ours_cmd(args), env))
        if nix is not None:
            ref.append(run_child(nix_cmd(nix, args), ref_env))
    return best(ours), best(ref) if ref else None


def ratio(ours: float, ref: float) -> float:
    return round(ours / max(ref, 1e-3), 2)


def geometric_mean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(x) for x in values) / len(values)) if values else math.nan


def run(names: tuple[str, ...] = PROGRAMS, repeat: int = 1) -> list[dict[str, object]]:
    """Benchmark each program; one result dict per program."""
    if not BENCH_DIR.is_dir():
        print(f"eval: skipped, {BENCH_DIR} not found", file=sys.stderr)
        return []
    nix = shutil.which("nix-instantiate")
    results: list[dict[str, object]] = []
    if names:  # fill the byte-code cache
        warm_up([[str(BENCH_DIR / "fib25.nix")]], None)
    for name in names:
        ours, ref = compare([str(BENCH_DIR / f"{name}.nix")], repeat, nix)
        row: dict[str, object] = {
            "name": name,
            "ours_s": round(ours.cpu_s, 3),
            "nix_s": None,
            "ratio": None,
            "ours_user_s": round(ours.user_s, 3),
            "nix_user_s": None,
            "user_ratio": None,
            "ours_wall_s": round(ours.wall_s, 3),
            "nix_wall_s": None,
            "ours_peak_mb": round(ours.peak_mb, 1),
            "nix_peak_mb": None,
        }
        if ref is not None:
            row.update(
                nix_s=round(ref.cpu_s, 3),
                ratio=ratio(ours.cpu_s, ref.cpu_s),
                nix_user_s=round(ref.user_s, 3),
                user_ratio=ratio(ours.user_s, ref.user_s),
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
        f"{'ours usr':>9}{'nix usr':>9}{'ratio':>8}"
        f"{'ours wall':>10}{'nix wall':>9}{'ours MiB':>10}{'nix MiB':>9}"
    )
    ratios: list[float] = []
    user_ratios: list[float] = []
    for r in rows:
        print(
            f"{r['name']!s:<12}{r['ours_s']!s:>9}{r['nix_s']!s:>9}{r['ratio']!s:>8}"
            f"{r['ours_user_s']!s:>9}{r['nix_user_s']!s:>9}{r['user_ratio']!s:>8}"
            f"{r['ours_wall_s']!s:>10}{r['nix_wall_s']!s:>9}"
            f"{r['ours_peak_mb']!s:>10}{r['nix_peak_mb']!s:>9}"
            + ("" if r.get("same_output", True) else "  (output differs!)")
        )
        if isinstance(r["ratio"], float):
            ratios.append(r["ratio"])
        if isinstance(r["user_ratio"], float):
            user_ratios.append(r["user_ratio"])
    if ratios:
        print(f"geometric mean ratio: {geometric_mean(ratios):.2f}")
    if user_ratios:
        print(f"geometric mean user-CPU ratio: {geometric_mean(user_ratios):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
