"""URL parsing: what each backend accepts and rejects (the reference's from_url matrices)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tvix_castore import (
    BlobService,
    InvalidUrlError,
    blob_service_from_url,
    directory_service_from_url,
    parse_service_url,
)
from tvix_castore.blobservice.grpc import GrpcBlobService
from tvix_castore.blobservice.lmdb import LmdbBlobService
from tvix_castore.blobservice.memory import MemoryBlobService
from tvix_castore.directoryservice.grpc import GrpcDirectoryService
from tvix_castore.directoryservice.lmdb import LmdbDirectoryService
from tvix_castore.directoryservice.memory import MemoryDirectoryService
from tvix_castore.grpc_channel import grpc_target
from tvix_castore.registry import known_schemes

OPENERS = [blob_service_from_url, directory_service_from_url]


@pytest.mark.parametrize("open_", OPENERS)
@pytest.mark.parametrize("url", ["memory://", "memory:"])
def test_memory_valid(open_, url: str) -> None:  # type: ignore[no-untyped-def]
    service = open_(url)
    assert isinstance(service, MemoryBlobService | MemoryDirectoryService)
    service.close()


@pytest.mark.parametrize("open_", OPENERS)
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("memory://foo", "memory does not take a host"),
        ("memory:///", "memory does not take a path"),
        ("memory:///foo", "memory does not take a path"),
        ("memory://:80", "unable to parse url|does not take a host"),
    ],
)
def test_memory_invalid(open_, url: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidUrlError, match=message):
        open_(url)


@pytest.mark.parametrize("open_", OPENERS)
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://foo.example/test", "unknown scheme: http"),
        ("sled://", "unknown scheme: sled"),
        ("no-scheme-at-all", "unable to parse url"),
        ("", "unable to parse url"),
        ("memory://[::1", "unable to parse url"),
        ("memory://#frag", "fragment"),
    ],
)
def test_unknown_or_unparsable(open_, url: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidUrlError, match=message):
        open_(url)


def test_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(InvalidUrlError, match=r"known: .*grpc\+unix.*lmdb.*memory"):
        blob_service_from_url("s3://bucket")
    assert {"memory", "lmdb", "grpc+unix", "grpc+http", "grpc+https"} <= set(known_schemes())


def test_lmdb_valid_path(tmp_path: Path) -> None:
    blobs = blob_service_from_url(f"lmdb://{tmp_path}/store")
    directories = directory_service_from_url(f"lmdb://{tmp_path}/store")
    assert isinstance(blobs, LmdbBlobService)
    assert isinstance(directories, LmdbDirectoryService)
    # both services share one environment
    assert blobs.environment is directories.environment
    blobs.close()
    directories.close()
    assert (tmp_path / "store" / "data.mdb").exists()


def test_lmdb_temporary_store_is_removed() -> None:
    blobs = blob_service_from_url("lmdb://")
    assert isinstance(blobs, LmdbBlobService)
    path = Path(blobs.environment.path)
    assert path.is_dir()
    blobs.close()
    assert not path.exists()


@pytest.mark.parametrize("open_", OPENERS)
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("lmdb:///", "cowardly refusing to open / with lmdb"),
        ("lmdb://foo.example", "lmdb does not take a host"),
        ("lmdb://foo.example/tmp/x", "lmdb does not take a host"),
        ("lmdb:relative/path", "must be absolute"),
        ("lmdb:///tmp/x?colour=blue", "unknown parameter"),
        ("lmdb:///tmp/x?map_size=lots", "not a size"),
        ("lmdb:///tmp/x?sync=sometimes", "sync must be"),
    ],
)
def test_lmdb_invalid(open_, url: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidUrlError, match=message):
        open_(url)


def test_lmdb_map_size_parameter(tmp_path: Path) -> None:
    blobs = blob_service_from_url(f"lmdb://{tmp_path}/s?map_size=64MiB&sync=always")
    assert isinstance(blobs, LmdbBlobService)
    assert blobs.environment.map_size == 64 << 20
    assert blobs.environment.sync_always
    blobs.close()


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("grpc+unix:///path/to/somewhere", ("unix:/path/to/somewhere", False)),
        ("grpc+http://localhost", ("localhost:80", False)),
        ("grpc+http://localhost:8000", ("localhost:8000", False)),
        ("grpc+http://[::1]:8000", ("[::1]:8000", False)),
        ("grpc+https://localhost", ("localhost:443", True)),
    ],
)
def test_grpc_valid(url: str, target: tuple[str, bool]) -> None:
    assert grpc_target(parse_service_url(url)) == target
    # connecting is lazy: nothing needs to listen there
    for open_ in OPENERS:
        service = open_(url)
        assert isinstance(service, GrpcBlobService | GrpcDirectoryService)
        service.close()


@pytest.mark.parametrize("open_", OPENERS)
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("grpc+unix://host.example/path/to/somewhere", "does not take a host"),
        ("grpc+https://localhost/some-path", "path may not be set"),
        ("grpc+http://localhost/", "path may not be set"),
        ("grpc+unix://", "needs a socket path"),
        ("grpc+http://", "a host is required"),
        ("grpc+ftp://localhost", "unknown scheme: grpc\\+ftp"),
    ],
)
def test_grpc_invalid(open_, url: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidUrlError, match=message):
        open_(url)


def test_backend_registered_through_an_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    """A third-party backend is found by the scheme it registers in the entry-point group."""
    import importlib.metadata

    import tvix_castore.registry as registry

    class Custom(MemoryBlobService):
        pass

    class FakeEntryPoint:
        name = "custom"

        def load(self) -> type[BlobService]:
            return Custom

    def fake_entry_points(group: str) -> list[FakeEntryPoint]:
        return [FakeEntryPoint()] if group == registry.BLOB_SERVICES_GROUP else []

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    assert isinstance(blob_service_from_url("custom://"), Custom)
    assert importlib.metadata.entry_points(group=registry.BLOB_SERVICES_GROUP)


def test_installed_entry_points_cover_builtins() -> None:
    import importlib.metadata

    names = {ep.name for ep in importlib.metadata.entry_points(group="tvix_castore.blob_services")}
    assert {"memory", "lmdb", "grpc+unix", "grpc+http", "grpc+https"} <= names
