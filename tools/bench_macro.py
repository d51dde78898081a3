"""Benchmark the evaluator against C++ Nix on real Nix library code (../shared/bench/macro).

The micro programs of tools/bench_eval.py measure single language features; these measure what
users run: nixpkgs' lib tests, ``lib.evalModules`` over NixOS-like modules and a nixpkgs-like
package set (see that folder's README.md). Each program runs in its own subprocess with tvix_eval
and with ``nix-instantiate --eval --strict``, interleaved, best of ``--repeat`` runs, through the
child runner of tools/bench_eval.py (so our child runs as the installed package would, warmed by an
untimed first run of every case, which fills the byte-code and parse caches).

Rows (``run()``): ``ours_s``, ``nix_s`` and ``ratio`` are *user* CPU seconds, as the project's
issue compares user CPU; ``ours_cpu_s``, ``nix_cpu_s`` and ``cpu_ratio`` are user + system;
then wall seconds, peak RSS (MiB) of both with ``mem_ratio``, and ``same_output`` (the printed
value byte-identical to Nix's). Nix's figures are None when nix-instantiate is absent.

Scaling: the generators run at a small and a large size (``-E 'import <abs path>/gen.nix N'`` for
both evaluators), one row per size; the large size's row adds ``ours_growth`` and ``nix_growth``
(user CPU at the large size / at the small one; ``*_cpu_growth`` the same for user + system), to
show whether our cost grows as Nix's does. Each figure includes its process's start-up.

Without ../shared/bench/macro the suite says so and returns no rows.

Usage: ``python tools/bench_macro.py [--repeat N] [--markdown] [--no-scaling] [NAME…]``
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence

from bench_eval import BENCH_DIR, Run, compare, geometric_mean, ratio, warm_up

MACRO_DIR = BENCH_DIR / "macro"
PROGRAMS = ("lib-misc-tests", "nixos-like", "pkgset")
# generator, small size, large size
SCALING = (("nixos-like-gen", 150, 600), ("pkgset-gen", 2000, 8000))


def _gen_args(generator: str, size: int) -> list[str]:
    """The expression of one generator run; the path is absolute, so the working directory and
    the ``path`` an evaluator gives ``-E`` source do not matter."""
    return ["-E", f"import {MACRO_DIR.resolve() / generator}.nix {size}"]


def _row(name: str, ours: Run, ref: Run | None) -> dict[str, object]:
    row: dict[str, object] = {
        "name": name,
        "ours_s": round(ours.user_s, 3),
        "nix_s": None,
        "ratio": None,
        "ours_cpu_s": round(ours.cpu_s, 3),
        "nix_cpu_s": None,
        "cpu_ratio": None,
        "ours_wall_s": round(ours.wall_s, 3),
        "nix_wall_s": None,
        "ours_peak_mb": round(ours.peak_mb, 1),
        "nix_peak_mb": None,
        "mem_ratio": None,
        "same_output": None,
    }
    if ref is not None:
        row.update(
            nix_s=round(ref.user_s, 3),
            ratio=ratio(ours.user_s, ref.user_s),
            nix_cpu_s=round(ref.cpu_s, 3),
            cpu_ratio=ratio(ours.cpu_s, ref.cpu_s),
            nix_wall_s=round(ref.wall_s, 3),
            nix_peak_mb=round(ref.peak_mb, 1),
            mem_ratio=ratio(ours.peak_mb, ref.peak_mb),
            same_output=ours.out == ref.out,
        )
    return row


def _growth(large: float, small: float) -> float:
    return round(large / max(small, 1e-3), 2)


def run(
    names: tuple[str, ...] = PROGRAMS, repeat: int = 1, scaling: bool = True
) -> list[dict[str, object]]:
    """Benchmark each program, then the generators at both sizes; one dict per measurement."""
    if not MACRO_DIR.is_dir():
        print(f"macro: skipped, {MACRO_DIR} not found", file=sys.stderr)
        return []
    nix = shutil.which("nix-instantiate")
    programs = [[str((MACRO_DIR / f"{name}.nix").resolve())] for name in names]
    scaled = list(SCALING) if scaling else []
    # The small sizes import the same files as the large ones.
    warm_up([*programs, *(_gen_args(gen, small) for gen, small, _ in scaled)], nix)
    rows = [
        _row(name, *compare(args, repeat, nix)) for name, args in zip(names, programs, strict=True)
    ]
    for gen, small, large in scaled:
        small_row = _row(f"{gen} {small}", *compare(_gen_args(gen, small), repeat, nix))
        large_row = _row(f"{gen} {large}", *compare(_gen_args(gen, large), repeat, nix))
        small_row["size"], large_row["size"] = small, large
        for side in ("ours", "nix"):
            for kind, key in (("growth", "s"), ("cpu_growth", "cpu_s")):
                lo, hi = small_row[f"{side}_{key}"], large_row[f"{side}_{key}"]
                grown = _growth(hi, lo) if isinstance(lo, float) and isinstance(hi, float) else None
                large_row[f"{side}_{kind}"] = grown
        rows += [small_row, large_row]
    return rows


def summary(rows: Sequence[dict[str, object]]) -> list[str]:
    """Geometric means of both ratio kinds over the programs (scaling rows left out, as they
    would count the generators twice), then each generator's growth for us and for Nix."""
    programs = [r for r in rows if "size" not in r]
    lines = []
    for key, what in (("ratio", "user-CPU"), ("cpu_ratio", "total-CPU (user + sys)")):
        values = [float(v) for r in programs if isinstance(v := r.get(key), float) and v > 0]
        if values:
            mean = geometric_mean(values)
            count = f"{len(values)} program{'s' if len(values) > 1 else ''}"
            lines.append(f"macro: geometric mean {what} ratio {mean:.2f} over {count}")
    small = {str(r["name"]).split()[0]: r for r in rows if "size" in r and "ours_growth" not in r}
    for r in rows:
        if "ours_growth" not in r:
            continue
        gen = str(r["name"]).split()[0]
        lo = small[gen]
        size = f"{gen} {lo['size']} -> {r['size']}"
        lines.append(
            f"macro: scaling {size}: user CPU grows x{r['ours_growth']} for us, "
            f"x{r['nix_growth']} for Nix; user + sys x{r['ours_cpu_growth']} / "
            f"x{r['nix_cpu_growth']}"
        )
    return lines


def _table(rows: Sequence[dict[str, object]]) -> list[str]:
    columns = (
        ("program", "name", 20),
        ("ours usr", "ours_s", 9),
        ("ours cpu", "ours_cpu_s", 9),
        ("nix usr", "nix_s", 8),
        ("nix cpu", "nix_cpu_s", 8),
        ("ratio", "ratio", 7),
        ("cpu rt", "cpu_ratio", 7),
        ("ours wall", "ours_wall_s", 10),
        ("nix wall", "nix_wall_s", 9),
        ("ours MiB", "ours_peak_mb", 9),
        ("nix MiB", "nix_peak_mb", 8),
        ("mem rt", "mem_ratio", 7),
        ("same", "same_output", 6),
    )
    lines = [f"{columns[0][0]:<{columns[0][2]}}" + "".join(f"{t:>{w}}" for t, _, w in columns[1:])]
    for r in rows:
        first = f"{r['name']!s:<{columns[0][2]}}"
        lines.append(first + "".join(f"{r.get(k)!s:>{w}}" for _, k, w in columns[1:]))
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the rows (a table, or bench.py's markdown), the geometric means and the growth."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--markdown", action="store_true", help="bench.py's markdown table")
    ap.add_argument("--no-scaling", action="store_true", help="leave out the generators")
    ap.add_argument("names", nargs="*", metavar="NAME", help=", ".join(PROGRAMS))
    args = ap.parse_args(argv)
    unknown = sorted(set(args.names) - set(PROGRAMS))
    if unknown:
        ap.error(f"unknown program(s): {', '.join(unknown)}")
    rows = run(tuple(args.names) or PROGRAMS, args.repeat, not args.no_scaling)
    if args.markdown:
        from bench import format_rows

        lines = format_rows("macro", rows, markdown=True)
    else:
        lines = _table(rows)
    if rows:
        print("\n".join([*lines, "", *summary(rows)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
