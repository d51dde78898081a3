"""Fixtures for the binary cache tests: a server on a free loopback port over memory services."""

from __future__ import annotations

import bz2
import hashlib
import lzma
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import zstandard
from nix_compat import nixbase32
from tvix_castore.registry import blob_service_from_url, directory_service_from_url
from tvix_store.http import CacheConfig, create_app
from tvix_store.http.server import RunningServer, start_in_thread
from tvix_store.pathinfoservice import path_info_service_from_url

from ..conftest import Store

Serve = Callable[..., RunningServer]

COMPRESSORS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "none": ("", lambda data: data),
    "xz": (".xz", lambda data: lzma.compress(data, lzma.FORMAT_XZ)),
    "bzip2": (".bz2", bz2.compress),
    "zstd": (".zst", lambda data: zstandard.ZstdCompressor().compress(data)),
}
DECOMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "none": lambda data: data,
    "xz": lzma.decompress,
    "bzip2": bz2.decompress,
    "zstd": lambda data: zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 30),
}


@pytest.fixture
def store() -> Iterator[Store]:
    """Fresh memory services."""
    blobs = blob_service_from_url("memory://")
    directories = directory_service_from_url("memory://")
    infos = path_info_service_from_url("memory://", blobs, directories)
    yield Store(blobs, directories, infos)
    infos.close()


@pytest.fixture
def serve(store: Store) -> Iterator[Serve]:
    """Start the cache over ``store`` with a CacheConfig built from keyword arguments."""
    running: list[RunningServer] = []

    def start(head_timeout: float = 30.0, **config: Any) -> RunningServer:
        app = create_app(store.blobs, store.directories, store.path_infos, CacheConfig(**config))
        server = start_in_thread(app, head_timeout=head_timeout)
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def cache(serve: Serve) -> RunningServer:
    """The cache with default settings."""
    return serve()


@pytest.fixture
def client(cache: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=cache.url, timeout=30) as c:
        yield c


def upload_name(data: bytes, compression: str = "none") -> str:
    """The name ``nix copy`` uploads a file under: ``nar/<nix32 sha256>.nar<ext>``."""
    ext = COMPRESSORS[compression][0]
    return f"nar/{nixbase32.encode(hashlib.sha256(data).digest())}.nar{ext}"


def put_nar(client: httpx.Client, nar: bytes, compression: str = "none") -> tuple[str, bytes]:
    """Upload ``nar`` compressed as asked; return its URL and the bytes sent."""
    data = COMPRESSORS[compression][1](nar)
    url = upload_name(data, compression)
    response = client.put(url, content=data, headers={"content-type": "application/x-nix-nar"})
    assert (response.status_code, response.text) == (200, "")
    return url, data


def nix32_sha256(data: bytes) -> str:
    return "sha256:" + nixbase32.encode(hashlib.sha256(data).digest())


def raw_request(port: int, data: bytes, *, read_timeout: float = 10.0) -> bytes:
    """Send raw bytes to the server and return everything it answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)
