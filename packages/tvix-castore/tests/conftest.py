"""Shared fixtures: every backend of each service; gRPC ones talk to a real daemon."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tvix_castore import (
    BlobService,
    DirectoryService,
    blob_service_from_url,
    directory_service_from_url,
)
from tvix_castore.server import Daemon, start_daemon

BACKENDS = ["memory", "lmdb", "grpc"]


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short temporary directory (unix socket paths are limited to ~107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="castore-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def daemon(short_tmp: Path) -> Iterator[Daemon]:
    """A daemon over fresh lmdb services, listening on a unix socket."""
    store = f"lmdb://{short_tmp}/store"
    blobs = blob_service_from_url(store)
    directories = directory_service_from_url(store)
    running = start_daemon(blobs, directories, f"unix://{short_tmp}/castore.sock", workers=8)
    yield running
    running.stop(0)
    directories.close()
    blobs.close()


@pytest.fixture(params=BACKENDS)
def services(
    request: pytest.FixtureRequest, short_tmp: Path
) -> Iterator[tuple[BlobService, DirectoryService]]:
    """A (BlobService, DirectoryService) pair for each backend."""
    kind = request.param
    if kind == "memory":
        pair = (blob_service_from_url("memory://"), directory_service_from_url("memory://"))
        yield pair
        return
    if kind == "lmdb":
        url = f"lmdb://{short_tmp}/store"
        blobs, directories = blob_service_from_url(url), directory_service_from_url(url)
        yield blobs, directories
        directories.close()
        blobs.close()
        return
    backing_blobs = blob_service_from_url(f"lmdb://{short_tmp}/backing")
    backing_directories = directory_service_from_url(f"lmdb://{short_tmp}/backing")
    running = start_daemon(
        backing_blobs, backing_directories, f"unix://{short_tmp}/s.sock", workers=8
    )
    blobs, directories = blob_service_from_url(running.url), directory_service_from_url(running.url)
    yield blobs, directories
    blobs.close()
    directories.close()
    running.stop(0)
    backing_directories.close()
    backing_blobs.close()


@pytest.fixture
def blob_service(services: tuple[BlobService, DirectoryService]) -> BlobService:
    return services[0]


@pytest.fixture
def directory_service(services: tuple[BlobService, DirectoryService]) -> DirectoryService:
    return services[1]
