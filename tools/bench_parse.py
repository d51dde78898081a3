#!/usr/bin/env python3
"""Parser benchmark: tvix_eval's run-time parser against `nix-instantiate --parse`.

Generates a 40,000-line Nix file with ../shared/bench/gen_nix.py and measures,
each in a fresh subprocess so that nothing is warm by accident:

- the cold parse (source text to syntax tree), best of a few runs;
- the cached load of the same file from the on-disk parse cache (the entry is read and
  checked; nodes are filled in lazily), and the cached load followed by a walk over every node
  (which fills in all of them), beside the same walk over a freshly parsed tree;
- the peak memory of a parse (tracemalloc peak, and the process's max RSS);
- C++ Nix parsing the same file (`nix-instantiate --parse`, best of a few runs);
- end to end: `tvix eval` of an expression importing the file (calling it and counting its
  attributes), with an empty and with a primed parse cache, against `nix-instantiate --eval`.

`run()` returns the rows for tools/bench.py; run directly to print them.
Targets (issue 3): >= 50,000 lines/s, cached load <= 30 ms, peak <= 150 MB.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GEN = ROOT.parent / "shared" / "bench" / "gen_nix.py"
LINES = 40_000
REPEAT = 3

# Runs in a child process: prints one JSON object.
_CHILD = r"""
import gc, json, resource, sys, time, tracemalloc
mode, path, cache_dir = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path, encoding="utf-8").read()
from tvix_eval.syntax import parse
from tvix_eval.syntax.cache import parse_cached
from pathlib import Path
out = {}
if mode == "cold":
    t0 = time.perf_counter(); c0 = time.process_time()
    parse(text, path)
    out["wall_s"] = time.perf_counter() - t0
    out["cpu_s"] = time.process_time() - c0
elif mode == "memory":
    tracemalloc.start()
    tree = parse(text, path)
    out["peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
elif mode == "prime":
    parse_cached(text, path, directory=Path(cache_dir))
else:  # cached, cached_walk or parsed_walk
    from tvix_eval.syntax.ast import Node
    def walk(tree):
        stack = [tree]
        while stack:
            item = stack.pop()
            if isinstance(item, Node):
                stack.extend(getattr(item, name) for name in type(item).__slots__)
            elif isinstance(item, tuple):
                stack.extend(item)
    tree = parse(text, path) if mode == "parsed_walk" else None
    gc.disable()
    t0 = time.perf_counter(); c0 = time.process_time()
    if tree is None:
        tree = parse_cached(text, path, directory=Path(cache_dir))
    if mode.endswith("walk"):
        walk(tree)
    out["wall_s"] = time.perf_counter() - t0
    out["cpu_s"] = time.process_time() - c0
out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def _child(mode: str, path: Path, cache_dir: Path) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(path), str(cache_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def _nix_time(path: Path) -> float | None:
    nix = shutil.which("nix-instantiate")
    if nix is None:
        return None
    best = float("inf")
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        subprocess.run([nix, "--parse", str(path)], capture_output=True, check=True)
        best = min(best, time.perf_counter() - t0)
    return best


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-parse-") as tmp:
        work = Path(tmp)
        src = work / "all-packages.nix"
        src.write_text(
            subprocess.run(
                [sys.executable, str(GEN), str(LINES)], capture_output=True, text=True, check=True
            ).stdout
        )
        lines = src.read_text().count("\n")
        cache_dir = work / "cache"
        cold = [_child("cold", src, cache_dir) for _ in range(REPEAT)]
        memory = _child("memory", src, cache_dir)
        _child("prime", src, cache_dir)
        cached = [_child("cached", src, cache_dir) for _ in range(REPEAT)]
        cached_walk = [_child("cached_walk", src, cache_dir) for _ in range(REPEAT)]
        parsed_walk = [_child("parsed_walk", src, cache_dir) for _ in range(REPEAT)]
        nix_s = _nix_time(src)
        end_to_end = _eval_rows(src, work)
    ours = min(r["wall_s"] for r in cold)
    ours_cpu = min(r["cpu_s"] for r in cold)
    row: dict[str, Any] = {
        "name": f"parse gen_nix.py {LINES}",
        "ours_s": round(ours, 3),
        "ours_cpu_s": round(ours_cpu, 3),
        "nix_s": None if nix_s is None else round(nix_s, 3),
        "ratio": None if nix_s is None else round(ours / nix_s, 1),
        "lines_per_s": round(lines / ours),
        "lines_per_cpu_s": round(lines / ours_cpu),
        "cached_load_ms": round(min(r["wall_s"] for r in cached) * 1000, 1),
        "cached_load_cpu_ms": round(min(r["cpu_s"] for r in cached) * 1000, 1),
        "cached_load_and_walk_ms": round(min(r["wall_s"] for r in cached_walk) * 1000, 1),
        "walk_of_parsed_tree_ms": round(min(r["wall_s"] for r in parsed_walk) * 1000, 1),
        "peak_mb": round(memory["peak_mb"], 1),
        "maxrss_mb": round(max(r["maxrss_mb"] for r in cold), 1),
    }
    return [row, *end_to_end]


def _best_wall(cmd: list[str], env: dict[str, str], before: Any = None) -> tuple[float, str]:
    """Best wall time of ``cmd`` over REPEAT runs (``before`` runs ahead of each) and its output."""
    best, out = float("inf"), ""
    for _ in range(REPEAT):
        if before is not None:
            before()
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
        best = min(best, time.perf_counter() - t0)
        out = proc.stdout
    return best, out


def _eval_rows(src: Path, work: Path) -> list[dict[str, Any]]:
    """``tvix eval`` of an import of ``src``, parse cache empty and primed, against Nix."""
    expr = (
        f"builtins.length (builtins.attrNames (import {src} {{ lib = {{}}; stdenv = {{}}; "
        "fetchurl = x: x; callPackage = a: b: b; pkgs = {}; darwin = {}; config = {}; }))"
    )
    cache_dir = work / "eval-cache"
    env = dict(os.environ, TVIX_CACHE_DIR=str(cache_dir))
    tvix = [sys.executable, "-m", "tvix_cli", "eval", "--store", "memory://", "-E", expr]
    cold, cold_out = _best_wall(tvix, env, lambda: shutil.rmtree(cache_dir, ignore_errors=True))
    warm, warm_out = _best_wall(tvix, env)
    rows: list[dict[str, Any]] = []
    nix = shutil.which("nix-instantiate")
    nix_s, nix_out = _best_wall([nix, "--eval", "-E", expr], env) if nix else (None, None)
    for name, ours, out in (("empty", cold, cold_out), ("primed", warm, warm_out)):
        rows.append(
            {
                "name": f"tvix eval importing gen_nix.py {LINES}, parse cache {name}",
                "ours_s": round(ours, 3),
                "nix_s": None if nix_s is None else round(nix_s, 3),
                "ratio": None if nix_s is None else round(ours / nix_s, 1),
                "same_output": None if nix_out is None else out == nix_out,
            }
        )
    return rows


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    for r in run():
        print(json.dumps(r, indent=2))
