#!/usr/bin/env python3
"""Benchmark NAR serialisation + sha256 (``nar_hash_path``) against ``nix-hash``.

Builds a tree of about 300 MB of real files copied from /usr/share and /usr/lib (cached between
runs), plus one large file, then times ``nix_compat.nar.nar_hash_path`` and
``nix-hash --type sha256 --base32`` on each, several times, and prints the best wall-clock
times, their ratio, and the CPU times. ``run()`` returns the figures for the main benchmark
runner. nar_hash_path hashes on a second thread when a core is idle, so on a busy machine its
wall-clock time rises more than nix-hash's; the CPU times show the work done.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

from nix_compat import nixbase32
from nix_compat.nar import nar_hash_path

TREE_SOURCES = (Path("/usr/share"), Path("/usr/lib"))
TREE_BYTES = 300 * 1024 * 1024
LARGE_FILE_BYTES = 256 * 1024 * 1024
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tvix-bench-nar"


def _copy_until(sources: tuple[Path, ...], dest: Path, budget: int) -> int:
    """Copy regular files and symlinks from ``sources`` into ``dest`` until ``budget`` bytes."""
    copied = 0
    for source in sources:
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames.sort()
            rel = Path(dirpath).relative_to(source.parent)
            target_dir = dest / rel
            target_dir.mkdir(parents=True, exist_ok=True)
            for name in sorted(filenames):
                src = Path(dirpath) / name
                try:
                    st = src.lstat()
                    if stat.S_ISLNK(st.st_mode):
                        (target_dir / name).symlink_to(os.readlink(src))
                    elif stat.S_ISREG(st.st_mode) and os.access(src, os.R_OK):
                        shutil.copyfile(src, target_dir / name)
                        os.chmod(target_dir / name, 0o755 if st.st_mode & 0o100 else 0o644)
                        copied += st.st_size
                except OSError:
                    continue
                if copied >= budget:
                    return copied
    return copied


def prepare_tree(cache: Path = DEFAULT_CACHE) -> Path:
    """The cached ~300 MB tree of real files, built on first use."""
    tree = cache / "tree"
    done = cache / "tree.complete"
    if not done.exists():
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir(parents=True)
        _copy_until(TREE_SOURCES, tree, TREE_BYTES)
        done.touch()
    return tree


def prepare_large_file(cache: Path = DEFAULT_CACHE) -> Path:
    """One cached file of pseudo-random bytes, to measure the streaming path on its own."""
    path = cache / "large.bin"
    if not path.exists() or path.stat().st_size != LARGE_FILE_BYTES:
        cache.mkdir(parents=True, exist_ok=True)
        block = os.urandom(1024 * 1024)
        with open(path, "wb") as out:
            for _ in range(LARGE_FILE_BYTES // len(block)):
                out.write(block)
    return path


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time_ours(path: Path) -> tuple[float, float, str]:
    cpu = _cpu_self()
    start = time.perf_counter()
    _, digest = nar_hash_path(path)
    return time.perf_counter() - start, _cpu_self() - cpu, nixbase32.encode(digest)


def _time_nix(nix_hash: str, path: Path) -> tuple[float, float, str]:
    cpu = _cpu_children()
    start = time.perf_counter()
    out = subprocess.run(
        [nix_hash, "--type", "sha256", "--base32", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return time.perf_counter() - start, _cpu_children() - cpu, out.strip()


def _measure(name: str, path: Path, nix_hash: str, repetitions: int) -> dict[str, object]:
    """Best wall-clock and CPU times of both, alternating runs so load hits both alike."""
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    for _ in range(repetitions):
        ours_s, ours_cpu, ours_hash = _time_ours(path)
        nix_s, nix_cpu, nix_hash_out = _time_nix(nix_hash, path)
        if ours_hash != nix_hash_out:
            raise RuntimeError(f"{name}: hash mismatch: ours {ours_hash}, nix-hash {nix_hash_out}")
        ours.append((ours_s, ours_cpu))
        theirs.append((nix_s, nix_cpu))
    best_ours, best_nix = min(t for t, _ in ours), min(t for t, _ in theirs)
    return {
        "name": name,
        "ours_s": best_ours,
        "nix_s": best_nix,
        "ratio": best_ours / best_nix,
        "ours_cpu_s": min(c for _, c in ours),
        "nix_cpu_s": min(c for _, c in theirs),
    }


def run(repetitions: int = 5, cache: Path = DEFAULT_CACHE) -> list[dict[str, object]]:
    """Time both implementations on the tree and on the large file; best of ``repetitions``."""
    nix_hash = shutil.which("nix-hash")
    if nix_hash is None:
        raise RuntimeError("nix-hash is not installed; cannot compare")
    tree = prepare_tree(cache)
    large = prepare_large_file(cache)
    return [
        _measure("nar_hash_tree_300MB", tree, nix_hash, repetitions),
        _measure("nar_hash_file_256MB", large, nix_hash, repetitions),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    tree = prepare_tree(args.cache)
    files = sum(len(f) for _, _, f in os.walk(tree))
    print(f"tree: {tree} ({files} files); load average {os.getloadavg()[0]:.2f}")
    for row in run(args.repetitions, args.cache):
        print(
            f"{row['name']:<22} ours {row['ours_s']:.3f}s  nix-hash {row['nix_s']:.3f}s  "
            f"ratio {row['ratio']:.2f}x   (CPU: ours {row['ours_cpu_s']:.3f}s, "
            f"nix-hash {row['nix_cpu_s']:.3f}s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
