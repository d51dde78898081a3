"""Fixtures: castore services and a PathInfoService for every backend (gRPC over a real server)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tvix_castore.blobservice.base import BlobService
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.registry import blob_service_from_url, directory_service_from_url
from tvix_store.pathinfoservice import PathInfoService, path_info_service_from_url
from tvix_store.server import start_store_daemon


@dataclass
class Store:
    """The three services a test talks to."""

    blobs: BlobService
    directories: DirectoryService
    path_infos: PathInfoService


@pytest.fixture
def memory_store() -> Iterator[Store]:
    blobs = blob_service_from_url("memory://")
    directories = directory_service_from_url("memory://")
    yield Store(blobs, directories, path_info_service_from_url("memory://", blobs, directories))


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short directory for unix sockets (tmp_path can exceed the 108-byte limit)."""
    path = Path(tempfile.mkdtemp(prefix="tvs-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(params=["memory", "lmdb", "grpc"])
def store(request: pytest.FixtureRequest, tmp_path: Path, socket_dir: Path) -> Iterator[Store]:
    """A store on each backend; for gRPC, clients of a daemon serving memory backends."""
    kind = request.param
    if kind == "memory":
        urls = ("memory://",) * 3
    elif kind == "lmdb":
        url = f"lmdb://{tmp_path / 'store'}"
        urls = (url, url, url)
    else:
        server_blobs = blob_service_from_url("memory://")
        server_dirs = directory_service_from_url("memory://")
        server_infos = path_info_service_from_url("memory://", server_blobs, server_dirs)
        sock = socket_dir / "store.sock"
        daemon = start_store_daemon(server_blobs, server_dirs, server_infos, f"unix://{sock}")
        url = f"grpc+unix://{sock}"
        urls = (url, url, url)
    blobs = blob_service_from_url(urls[0])
    directories = directory_service_from_url(urls[1])
    infos = path_info_service_from_url(urls[2], blobs, directories)
    try:
        yield Store(blobs, directories, infos)
    finally:
        infos.close()
        directories.close()
        blobs.close()
        if kind == "grpc":
            daemon.stop(grace=None)
