#!/usr/bin/env python3
"""Run every benchmark side by side with C++ Nix and print the ratios.

Benchmarks are never timed tests: this script measures and reports. Each
suite is a module in tools/ with a ``run() -> list[dict]`` function whose rows
carry at least ``name``, ``ours_s`` and ``ratio`` (ours / reference); the
reference time is ``nix_s`` (C++ Nix) or ``baseline_s`` (another tool named
in the row). A suite may define ``summary(rows) -> list[str]``, printed instead of the
geometric mean of all its ratios when some rows should not count (bench_macro's scaling rows).
Usage: ``python tools/bench.py [SUITE ...] [--markdown]``.
"""

from __future__ import annotations

import argparse
import importlib
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parent
SUITES = {
    "nar": "bench_nar",
    "parse": "bench_parse",
    "eval": "bench_eval",
    "macro": "bench_macro",
    "castore": "bench_castore",
    "store": "bench_store",
    "http": "bench_http",
    "serde": "bench_serde",
    "cli": "bench_cli",
}


def load_suite(module: str) -> Any:
    sys.path.insert(0, str(TOOLS))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(TOOLS))


def reference_time(row: dict[str, Any]) -> float | None:
    value = row.get("nix_s", row.get("baseline_s"))
    return float(value) if value is not None else None


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def format_rows(suite: str, rows: list[dict[str, Any]], markdown: bool) -> list[str]:
    lines = []
    if markdown:
        lines += [
            f"### {suite}",
            "",
            "| benchmark | ours (s) | reference (s) | ratio | notes |",
            "|---|---|---|---|---|",
        ]
    for row in rows:
        ref = reference_time(row)
        notes = ", ".join(
            f"{k}={v}"
            for k, v in row.items()
            if k not in {"name", "ours_s", "nix_s", "baseline_s", "ratio"}
        )
        ref_text = f"{ref:.3f}" if ref is not None else "-"
        ratio = row.get("ratio")
        ratio_text = f"{ratio:.2f}" if isinstance(ratio, (int, float)) else "-"
        if markdown:
            lines.append(
                f"| {row['name']} | {row['ours_s']:.3f} | {ref_text} | {ratio_text} | {notes} |"
            )
        else:
            times = f"ours {row['ours_s']:8.3f}s  ref {ref_text:>8}s"
            lines.append(f"{suite:8} {row['name']:28} {times}  ratio {ratio_text:>6}  {notes}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "suites", nargs="*", help=f"suites to run: {', '.join(SUITES)} (default: all)"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print markdown tables for docs/benchmarks.md"
    )
    args = parser.parse_args()
    chosen = args.suites or list(SUITES)
    unknown = [s for s in chosen if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(unknown)}")
    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"# {time.strftime('%Y-%m-%d')} on {platform.machine()}, {python}")
    failures = 0
    for suite in chosen:
        try:
            module = load_suite(SUITES[suite])
            rows = module.run()
        except Exception as error:  # a broken suite must not hide the others' figures
            print(f"{suite}: failed: {error!r}", file=sys.stderr)
            failures += 1
            continue
        for line in format_rows(suite, rows, args.markdown):
            print(line)
        if hasattr(module, "summary"):
            for line in module.summary(rows):
                print(line)
            print()
            continue
        ratios = [
            float(r["ratio"])
            for r in rows
            if isinstance(r.get("ratio"), (int, float)) and r["ratio"] > 0
        ]
        if ratios:
            mean = geometric_mean(ratios)
            print(f"{suite}: geometric mean ratio {mean:.2f} over {len(ratios)} benchmarks\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
