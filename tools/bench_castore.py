"""Benchmarks of tvix-castore, side by side with a baseline measured in the same run.

1. Import of a few-hundred-MB tree of real files (a copy of this Python's
   standard library, without site-packages) into a fresh lmdb store, against
   ``cp -a`` of the same tree on the same filesystem, both from a warm page cache.
2. blake3 of a 1 GiB blob, against the 3 GiB/s target.
3. Streaming a 256 MiB blob through the ``tvix-castore daemon`` (a separate
   process, memory backends) over loopback TCP, each way, against bare grpcio
   moving the same bytes with the same channel options.

``run()`` returns one dict per figure: name, ours_s, baseline_s, ratio
(ours / baseline; below 1 is faster than the baseline) and throughput fields.
Run as a script to print a Markdown table.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

GIB = 1 << 30
MIB = 1 << 20
STREAM_BYTES = 256 * MIB


def _timed(fn: Any, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _tree_size(path: Path) -> tuple[int, int]:
    total = files = 0
    for root, _, names in os.walk(path):
        for name in names:
            st = os.lstat(os.path.join(root, name))
            total += st.st_size
            files += 1
    return total, files


def bench_import(workdir: Path, source: Path | None = None) -> dict[str, Any]:
    """Import a real tree into lmdb vs ``cp -a`` of it."""
    from tvix_castore import blob_service_from_url, directory_service_from_url, import_path

    source = source or Path(sysconfig.get_paths()["stdlib"])
    staged = workdir / "tree"
    shutil.copytree(source, staged, symlinks=True, ignore=shutil.ignore_patterns("site-packages"))
    size, files = _tree_size(staged)
    subprocess.run(["cp", "-a", str(staged), str(workdir / "warm")], check=True)
    shutil.rmtree(workdir / "warm")

    counter = iter(range(1000))

    def copy() -> None:
        subprocess.run(["cp", "-a", str(staged), str(workdir / f"copy{next(counter)}")], check=True)

    def ingest() -> None:
        url = f"lmdb://{workdir}/store{next(counter)}"
        blobs, directories = blob_service_from_url(url), directory_service_from_url(url)
        try:
            import_path(staged, blobs, directories)
        finally:
            directories.close()
            blobs.close()

    # Alternate the two, flushing dirty pages before each run so neither pays
    # for the other's writeback; keep the best of three.
    baseline = ours = float("inf")
    for _ in range(3):
        os.sync()
        baseline = min(baseline, _timed(copy))
        os.sync()
        ours = min(ours, _timed(ingest))
    return {
        "name": f"import {size / MIB:.0f} MiB, {files} files into lmdb (vs cp -a)",
        "ours_s": ours,
        "baseline_s": baseline,
        "ratio": ours / baseline,
        "ours_mib_s": size / MIB / ours,
        "baseline_mib_s": size / MIB / baseline,
        "bytes": size,
        "files": files,
    }


def bench_blake3() -> dict[str, Any]:
    """blake3 of 1 GiB through the digest helper the stores use, against 3 GiB/s."""
    from tvix_castore import B3Digest

    data = os.urandom(64 * MIB) * 16
    ours = _timed(lambda: B3Digest.of(data), repeat=5)
    target = 1 / 3
    return {
        "name": "blake3 of a 1 GiB blob (vs the 3 GiB/s target)",
        "ours_s": ours,
        "baseline_s": target,
        "ratio": ours / target,
        "ours_gib_s": 1 / ours,
        "baseline_gib_s": 3.0,
    }


_RAW_SERVER = textwrap.dedent(
    """
    import sys
    from concurrent.futures import ThreadPoolExecutor
    import grpc
    from tvix_castore.grpc_channel import CHANNEL_OPTIONS, STREAM_CHUNK_SIZE
    from tvix_castore.proto import rpc_blobstore_pb2 as pb, rpc_blobstore_pb2_grpc as pbg

    DATA = bytes(STREAM_CHUNK_SIZE)

    class Raw(pbg.BlobServiceServicer):
        def Read(self, request, context):
            for _ in range(int(sys.argv[2]) // STREAM_CHUNK_SIZE):
                yield pb.BlobChunk(data=DATA)

        def Put(self, request_iterator, context):
            for _ in request_iterator:
                pass
            return pb.PutBlobResponse(digest=bytes(32))

    server = grpc.server(ThreadPoolExecutor(8), options=CHANNEL_OPTIONS)
    pbg.add_BlobServiceServicer_to_server(Raw(), server)
    server.add_insecure_port(sys.argv[1])
    server.start()
    server.wait_for_termination()
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("benchmark server exited early")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("benchmark server did not start")


def bench_grpc_streaming() -> list[dict[str, Any]]:
    """256 MiB through the daemon each way, against bare grpcio over the same loopback."""
    import grpc
    from tvix_castore import blob_service_from_url
    from tvix_castore.grpc_channel import CHANNEL_OPTIONS, STREAM_CHUNK_SIZE
    from tvix_castore.proto import rpc_blobstore_pb2 as pb
    from tvix_castore.proto import rpc_blobstore_pb2_grpc as pbg

    pieces = (os.urandom(MIB), os.urandom(MIB))
    daemon_port, raw_port = _free_port(), _free_port()
    daemon = subprocess.Popen(
        [
            sys.executable, "-m", "tvix_castore", "daemon",
            "--listen-address", f"127.0.0.1:{daemon_port}",
            "--blob-service-addr", "memory://", "--directory-service-addr", "memory://",
            "--log-level", "warning",
        ],
    )  # fmt: skip
    raw = subprocess.Popen(
        [sys.executable, "-c", _RAW_SERVER, f"127.0.0.1:{raw_port}", str(STREAM_BYTES)]
    )
    try:
        _wait_listening(daemon_port, daemon)
        _wait_listening(raw_port, raw)
        client = blob_service_from_url(f"grpc+http://127.0.0.1:{daemon_port}")
        digest_holder: list[Any] = []

        def upload() -> None:
            with client.open_write() as writer:
                for i in range(STREAM_BYTES // MIB):
                    writer.write(pieces[i % 2])
                digest_holder[:] = [writer.close()]

        def download() -> None:
            reader = client.open_read(digest_holder[0])
            assert reader is not None
            with reader:
                while reader.read(MIB):
                    pass

        channel = grpc.insecure_channel(f"127.0.0.1:{raw_port}", options=CHANNEL_OPTIONS)
        stub = pbg.BlobServiceStub(channel)
        raw_chunk = bytes(STREAM_CHUNK_SIZE)

        def raw_upload() -> None:
            stub.Put(pb.BlobChunk(data=raw_chunk) for _ in range(STREAM_BYTES // STREAM_CHUNK_SIZE))

        def raw_download() -> None:
            for _ in stub.Read(pb.ReadBlobRequest()):
                pass

        # Interleave ours and the baseline so both see the same machine load.
        up = down = raw_up = raw_down = float("inf")
        for _ in range(5):
            up, raw_up = min(up, _timed(upload)), min(raw_up, _timed(raw_upload))
            down, raw_down = min(down, _timed(download)), min(raw_down, _timed(raw_download))
        client.close()
        channel.close()
    finally:
        for process in (daemon, raw):
            process.terminate()
            process.wait(timeout=30)
    mib = STREAM_BYTES / MIB
    return [
        {
            "name": "gRPC daemon: upload a 256 MiB blob over loopback (vs bare grpcio)",
            "ours_s": up,
            "baseline_s": raw_up,
            "ratio": up / raw_up,
            "ours_mib_s": mib / up,
            "baseline_mib_s": mib / raw_up,
        },
        {
            "name": "gRPC daemon: download a 256 MiB blob over loopback (vs bare grpcio)",
            "ours_s": down,
            "baseline_s": raw_down,
            "ratio": down / raw_down,
            "ours_mib_s": mib / down,
            "baseline_mib_s": mib / raw_down,
        },
    ]


def run() -> list[dict[str, Any]]:
    """All castore benchmarks; see the module docstring."""
    results = [bench_blake3()]
    results += bench_grpc_streaming()
    with tempfile.TemporaryDirectory(
        prefix="bench-castore-", dir=os.environ.get("TMPDIR", "/tmp")
    ) as d:
        results.append(bench_import(Path(d)))
    return results


def main() -> None:
    results = run()
    print("| benchmark | ours (s) | baseline (s) | ratio | ours | baseline |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        unit = "GiB/s" if "ours_gib_s" in r else "MiB/s"
        key = "gib_s" if unit == "GiB/s" else "mib_s"
        print(
            f"| {r['name']} | {r['ours_s']:.3f} | {r['baseline_s']:.3f} | {r['ratio']:.2f} "
            f"| {r['ours_' + key]:.1f} {unit} | {r['baseline_' + key]:.1f} {unit} |"
        )


if __name__ == "__main__":
    main()
