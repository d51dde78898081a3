"""Benchmark tvix-store against C++ Nix on a few-hundred-MB tree, side by side.

Measures, interleaving the two tools and keeping the best of several runs (the
machine may be shared):
  export  — rendering the stored path as NAR vs ``nix-store --dump`` of the tree;
  ingest  — NAR → a fresh store (until its data is durable: the services are
            closed) vs ``nix-store --restore`` into a fresh directory, which does
            not sync (a ``sync`` after each run is not timed), and vs the same
            followed by a timed ``sync``, durable like the store; and an ingest
            into a store opened with ``sync=none`` (never flushed, like the
            restored tree) vs the plain ``--restore``. The store (one
            file) is deleted after each run, the restored trees only at the end:
            for minutes after thousands of files were deleted, ext4's inode
            allocator skips the freed inodes one by one and ``--restore`` takes
            several times as long;
  fuse    — sequential read of the largest file through ``tvix-store mount``.

Each run records wall time and CPU time (this process's plus its children's,
all threads), so figures from a loaded machine can be told apart from real
changes; the load average is printed with them. ``run()`` returns one dict per
figure (name, ours_s, nix_s, ratio, CPU times, medians) for tools/bench.py.

Usage: python tools/bench_store.py [--size-mb 300] [--runs 5] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def make_tree(root: Path, size_mb: int) -> None:
    """Two large files (70% of the size) and many small ones in nested directories."""
    rng = random.Random(42)
    root.mkdir(parents=True)
    big = int(size_mb * 0.35) << 20
    for i in range(2):
        (root / f"big{i}.bin").write_bytes(os.urandom(big))
    small_budget = (size_mb << 20) - 2 * big
    d = 0
    while small_budget > 0:
        sub = root / f"dir{d:03}" / "sub"
        sub.mkdir(parents=True)
        for i in range(50):
            n = rng.randint(1_000, 60_000)
            (sub / f"file{i:03}").write_bytes(os.urandom(n))
            small_budget -= n
        os.symlink("../big0.bin", root / f"dir{d:03}" / "link")
        d += 1


def _cpu() -> float:
    """CPU seconds used so far by this process (all threads) and its waited-for children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


Timed = Callable[[], None] | tuple[Callable[[], None], Callable[[], None]]
"""What ``best_of`` runs: a function, or a function and its untimed clean-up."""


def best_of(runs: int, fns: dict[str, Timed]) -> dict[str, list[tuple[float, float]]]:
    """(wall, cpu) seconds of each function over ``runs`` interleaved rounds.

    A clean-up (deleting what a run wrote, or a ``sync``) is not timed and is
    followed by a ``sync``, so that no run pays for writing back what an
    earlier one left.
    """
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, timed in fns.items():
            fn, cleanup = timed if isinstance(timed, tuple) else (timed, None)
            cpu = _cpu()
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start, _cpu() - cpu))
            if cleanup is not None:
                cleanup()
                os.sync()
    return times


def show(
    title: str, ours: str, theirs: str, times: dict[str, list[tuple[float, float]]]
) -> dict[str, Any]:
    """Print one comparison; return it as a row for tools/bench.py."""
    print(f"{title} (load {os.getloadavg()[0]:.1f}):")
    stats = {}
    for name in (ours, theirs):
        walls = [w for w, _ in times[name]]
        cpus = [c for _, c in times[name]]
        stats[name] = (min(walls), statistics.median(walls), min(cpus), statistics.median(cpus))
        best, median, cpu, cpu_median = stats[name]
        print(
            f"  {name:34s} wall best {best:7.3f}s median {median:7.3f}s"
            f"   cpu best {cpu:7.3f}s median {cpu_median:7.3f}s"
        )
    ratio = stats[ours][0] / stats[theirs][0]
    cpu_ratio = stats[ours][2] / stats[theirs][2]
    print(f"  ratio (best/best) wall {ratio:.2f}x  cpu {cpu_ratio:.2f}x")
    return {
        "name": title,
        "ours_s": stats[ours][0],
        "nix_s": stats[theirs][0],
        "ratio": ratio,
        "ours_median_s": round(stats[ours][1], 3),
        "nix_median_s": round(stats[theirs][1], 3),
        "ours_cpu_s": round(stats[ours][2], 3),
        "nix_cpu_s": round(stats[theirs][2], 3),
        "cpu_ratio": round(cpu_ratio, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    if shutil.which("nix-store") is None:
        sys.exit("nix-store is not installed: nothing to compare with")
    run(args.size_mb, args.runs, args.workdir)


def run(size_mb: int = 300, runs: int = 5, workdir: Path | None = None) -> list[dict[str, Any]]:
    """Build (or reuse) the tree, import it, and compare export, ingest and FUSE reads."""
    from tvix_castore.registry import blob_service_from_url, directory_service_from_url
    from tvix_store.importer import import_path
    from tvix_store.nar import ingest_nar, write_nar
    from tvix_store.pathinfo import path_info_root_node
    from tvix_store.pathinfoservice import path_info_service_from_url

    work = workdir or Path(tempfile.mkdtemp(prefix="bench-store-"))
    tree = work / "tree"
    if not tree.exists():
        make_tree(tree, size_mb)
    store_url = f"lmdb://{work / 'store'}"
    blobs = blob_service_from_url(store_url)
    directories = directory_service_from_url(store_url)
    infos = path_info_service_from_url(store_url, blobs, directories)
    store_path, info = import_path(tree, blobs, directories, infos)
    root = path_info_root_node(info)
    nar_size = info.narinfo.nar_size
    print(f"tree: {tree} ({nar_size / 1e6:.0f} MB as NAR), store path {store_path}")
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")

    devnull = open(os.devnull, "wb")  # noqa: SIM115
    nar_file = work / "tree.nar"
    with open(nar_file, "wb") as f:
        subprocess.run(["nix-store", "--dump", str(tree)], stdout=f, check=True)

    def nix_dump() -> None:
        subprocess.run(["nix-store", "--dump", str(tree)], stdout=devnull, check=True)

    def tvix_render() -> None:
        write_nar(devnull, root, blobs, directories)

    def tvix_cli_export() -> None:
        subprocess.run(
            [sys.executable, "-m", "tvix_store", "export", store_path.to_absolute_path()],
            stdout=devnull,
            check=True,
            env={**os.environ, "BLOB_SERVICE_ADDR": store_url,
                 "DIRECTORY_SERVICE_ADDR": store_url, "PATH_INFO_SERVICE_ADDR": store_url},
        )  # fmt: skip

    times = best_of(
        runs,
        {
            "tvix-store render (in process)": tvix_render,
            "nix-store --dump": nix_dump,
            "tvix-store export (command)": tvix_cli_export,
        },
    )
    rows = [
        show("NAR export", "tvix-store render (in process)", "nix-store --dump", times),
        show("NAR export incl. start-up", "tvix-store export (command)", "nix-store --dump", times),
    ]

    target, restored = work / "target", work / "restored"
    for path in (target, restored):
        shutil.rmtree(path, ignore_errors=True)
    restored.mkdir()
    counter = [0]

    def remove_target() -> None:
        shutil.rmtree(target)

    def nix_restore() -> None:
        counter[0] += 1
        with open(nar_file, "rb") as f:
            subprocess.run(
                ["nix-store", "--restore", str(restored / str(counter[0]))], stdin=f, check=True
            )

    def tvix_ingest(query: str = "") -> None:
        url = f"lmdb://{target}{query}"
        b = blob_service_from_url(url)
        d = directory_service_from_url(url)
        with open(nar_file, "rb") as f:
            ingest_nar(f, b, d, b"x")
        d.close()
        b.close()

    def tvix_ingest_unsynced() -> None:
        tvix_ingest("?sync=none")

    def nix_restore_durably() -> None:
        nix_restore()
        os.sync()

    times = best_of(runs, {"tvix-store ingest (fresh lmdb)": (tvix_ingest, remove_target),
                           "tvix-store ingest (sync=none)": (tvix_ingest_unsynced, remove_target),
                           "nix-store --restore": (nix_restore, os.sync),
                           "nix-store --restore; sync": nix_restore_durably})  # fmt: skip
    shutil.rmtree(restored)
    rows.append(show("NAR ingest", "tvix-store ingest (fresh lmdb)", "nix-store --restore", times))
    rows.append(
        show(
            "NAR ingest, both durable",
            "tvix-store ingest (fresh lmdb)",
            "nix-store --restore; sync",
            times,
        )
    )
    rows.append(
        show(
            "NAR ingest, neither durable",
            "tvix-store ingest (sync=none)",
            "nix-store --restore",
            times,
        )
    )

    infos.close()
    directories.close()
    blobs.close()
    devnull.close()
    fuse = fuse_read(work, store_url, store_path.to_absolute_path(), runs)
    if fuse is not None:
        seconds, rate = fuse
        rows.append({"name": "FUSE sequential read", "ours_s": seconds, "ratio": None,
                     "best_mb_s": round(rate), "target_mb_s": 200})  # fmt: skip
    return rows


def fuse_read(work: Path, store_url: str, store_path: str, runs: int) -> tuple[float, float] | None:
    """Best (seconds, MB/s) of reading big1.bin through a fresh mount; None without FUSE."""
    from tvix_store.fs import fuse_unavailable_reason

    reason = fuse_unavailable_reason()
    if reason is not None:
        print(f"FUSE: skipped ({reason})")
        return None
    rates: list[tuple[float, float]] = []
    for i in range(runs):
        mnt = work / f"mnt{i}"
        mnt.mkdir(exist_ok=True)
        env = {**os.environ, "BLOB_SERVICE_ADDR": store_url, "DIRECTORY_SERVICE_ADDR": store_url,
               "PATH_INFO_SERVICE_ADDR": store_url}  # fmt: skip
        proc = subprocess.Popen([sys.executable, "-m", "tvix_store", "mount", str(mnt)], env=env)
        while not os.path.ismount(mnt):
            time.sleep(0.05)
        try:
            path = mnt / os.path.basename(store_path) / "big1.bin"
            size = path.stat().st_size
            start = time.perf_counter()
            with open(path, "rb", buffering=0) as f:
                while f.read(1 << 20):
                    pass
            seconds = time.perf_counter() - start
            rates.append((seconds, size / seconds / 1e6))
        finally:
            subprocess.run(["fusermount3", "-u", str(mnt)], check=False)
            proc.wait()
    print(f"FUSE sequential read (fresh mount, load {os.getloadavg()[0]:.1f}):")
    best = min(rates)
    median = statistics.median(rate for _, rate in rates)
    print(f"  best {best[1]:.0f} MB/s  median {median:.0f} MB/s")
    return best


if __name__ == "__main__":
    main()
