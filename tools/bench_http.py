"""Load test of the HTTP binary cache (``tvix-store serve-http``) on loopback.

Fills an lmdb store with store paths (many small trees and a few larger
files), serves it with ``tvix-store serve-http`` in its own process, and lets
64 concurrent clients fetch a random narinfo and then its NAR, as a Nix
substituter does, for a bounded time. Reports requests/s, MB/s of NAR data,
errors, and the server's peak RSS (VmHWM). There is no C++ Nix figure to set
beside it (``nix-serve`` is not installed here), so ``ratio`` is None.
MB/s counts the bytes on the wire (compressed, for zstd).

Usage: python tools/bench_http.py [--seconds 20] [--clients 64] [--compression none]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CLIENTS = 64
SECONDS = 20.0


def make_paths(root: Path, rng: random.Random) -> list[Path]:
    """60 small trees (a dozen files of 1-20 KB) and 4 files of 1-2 MiB."""
    paths = []
    for i in range(60):
        tree = root / f"small-{i:03}"
        (tree / "sub").mkdir(parents=True)
        for j in range(12):
            (tree / ("sub" if j % 2 else ".") / f"f{j:02}").write_bytes(
                rng.randbytes(rng.randint(1_000, 20_000))
            )
        paths.append(tree)
    for i in range(4):
        big = root / f"big-{i}.bin"
        big.write_bytes(rng.randbytes(rng.randint(1 << 20, 2 << 20)))
        paths.append(big)
    return paths


def fill_store(store_url: str, sources: list[Path]) -> list[str]:
    """Import ``sources`` like ``nix-store --add``; return the store path hash parts."""
    from tvix_castore.registry import blob_service_from_url, directory_service_from_url
    from tvix_store.importer import import_path
    from tvix_store.pathinfoservice import path_info_service_from_url

    blobs = blob_service_from_url(store_url)
    dirs = directory_service_from_url(store_url)
    infos = path_info_service_from_url(store_url, blobs, dirs)
    try:
        return [import_path(p, blobs, dirs, infos)[0].hash_part for p in sources]
    finally:
        infos.close()
        dirs.close()
        blobs.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    """VmHWM of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def load(url: str, hashes: list[str], clients: int, seconds: float) -> dict[str, Any]:
    import httpx

    counts: dict[str, float] = {
        "requests": 0,
        "errors": 0,
        "nar_bytes": 0,
        "narinfos": 0,
        "nars": 0,
    }
    deadline = 0.0
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    async def one_client(client: httpx.AsyncClient, seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            try:
                response = await client.get(f"/{rng.choice(hashes)}.narinfo")
                counts["requests"] += 1
                if response.status_code != 200:
                    counts["errors"] += 1
                    continue
                counts["narinfos"] += 1
                nar_url = next(
                    line[5:] for line in response.text.splitlines() if line.startswith("URL: ")
                )
                async with client.stream("GET", f"/{nar_url}") as nar:
                    size = 0
                    async for chunk in nar.aiter_raw():
                        size += len(chunk)
                counts["requests"] += 1
                if nar.status_code != 200:
                    counts["errors"] += 1
                    continue
                counts["nars"] += 1
                counts["nar_bytes"] += size
            except httpx.HTTPError:
                counts["errors"] += 1

    # One client (and connection) per task: a shared pool of 64 connections costs the
    # load generator more CPU than the server spends answering.
    clients_ = [httpx.AsyncClient(base_url=url, timeout=60, limits=limits) for _ in range(clients)]
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(*(one_client(c, i) for i, c in enumerate(clients_)))
    counts["elapsed"] = time.monotonic() - started
    for c in clients_:
        await c.aclose()
    return counts


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("tvix-store serve-http exited early")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("tvix-store serve-http did not start listening")


def run_load(
    seconds: float = SECONDS, clients: int = CLIENTS, compression: str = "none"
) -> dict[str, Any]:
    """One load test; the figures as a result row."""
    with tempfile.TemporaryDirectory(prefix="bench-http-") as d:
        work = Path(d)
        store = f"lmdb://{work / 'store'}"
        hashes = fill_store(store, make_paths(work / "src", random.Random(7)))
        port = free_port()
        tvix_store = shutil.which("tvix-store") or str(Path(sys.executable).parent / "tvix-store")
        proc = subprocess.Popen(
            [
                tvix_store,
                "serve-http",
                "--listen-address",
                f"127.0.0.1:{port}",
                "--compression",
                compression,
                "--no-access-log",
                "--log-level",
                "warning",
                "--upload-index",
                str(work / "uploads.sqlite"),
            ],
            env={
                **os.environ,
                "BLOB_SERVICE_ADDR": store,
                "DIRECTORY_SERVICE_ADDR": store,
                "PATH_INFO_SERVICE_ADDR": store,
            },
        )
        try:
            wait_listening(port, proc)
            cpu_before = cpu_seconds(proc.pid)
            counts = asyncio.run(load(f"http://127.0.0.1:{port}", hashes, clients, seconds))
            server_cpu = cpu_seconds(proc.pid) - cpu_before
            rss = peak_rss_mib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    elapsed = counts["elapsed"]
    return {
        "name": f"http load {clients} clients ({compression})",
        "ours_s": elapsed,
        "ratio": None,
        "requests_per_s": round(counts["requests"] / elapsed, 1),
        "narinfos": counts["narinfos"],
        "nars": counts["nars"],
        "wire_mb_per_s": round(counts["nar_bytes"] / elapsed / 1e6, 2),
        "errors": counts["errors"],
        "server_cpu_share": round(server_cpu / elapsed, 2),
        "server_peak_rss_mib": round(rss, 1),
    }


def run() -> list[dict[str, Any]]:
    """The benchmark rows for tools/bench.py: uncompressed and zstd, 20 s each."""
    seconds = float(os.environ.get("BENCH_HTTP_SECONDS", SECONDS))
    return [run_load(seconds, CLIENTS, "none"), run_load(seconds, CLIENTS, "zstd")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--compression", default="none")
    args = parser.parse_args()
    row = run_load(args.seconds, args.clients, args.compression)
    for key, value in row.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
