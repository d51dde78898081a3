"""The lmdb PathInfoService: durability across processes, corrupt records, URL rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tvix_castore.directory import SymlinkNode
from tvix_castore.errors import InvalidUrlError, StorageError
from tvix_castore.registry import blob_service_from_url, directory_service_from_url
from tvix_store.pathinfo import build_path_info
from tvix_store.pathinfoservice import path_info_service_from_url

NAME = "00000000000000000000000000000000-foo"


def _open(url: str):  # type: ignore[no-untyped-def]
    blobs, dirs = blob_service_from_url("memory://"), directory_service_from_url("memory://")
    return path_info_service_from_url(url, blobs, dirs)


def test_acknowledged_put_is_visible_to_another_process(tmp_path: Path) -> None:
    url = f"lmdb://{tmp_path / 'store'}"
    info = build_path_info(SymlinkNode(name=NAME.encode(), target=b"/x"), 1, bytes(32))
    service = _open(url)
    service.put(info)
    # Another process reads it while this one still has the store open.
    code = (
        "from tvix_castore.registry import blob_service_from_url as b;"
        "from tvix_castore.registry import directory_service_from_url as d;"
        "from tvix_store import path_info_service_from_url as p;"
        f"s = p({url!r}, b('memory://'), d('memory://'));"
        "print(s.get(bytes(20)).node.symlink.target.decode())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True)
    assert out.stdout == "/x\n"
    service.close()
    reopened = _open(url)
    assert reopened.get(bytes(20)) == info
    reopened.close()


def test_corrupt_record_is_a_storage_error(tmp_path: Path) -> None:
    service = _open(f"lmdb://{tmp_path / 'store'}")
    service._store(bytes(20), b"\xff\xff\xff")  # type: ignore[attr-defined]
    with pytest.raises(StorageError, match="corrupt PathInfo"):
        service.get(bytes(20))
    with pytest.raises(StorageError):
        list(service.list())
    service.close()


def test_record_under_wrong_digest_is_a_storage_error(tmp_path: Path) -> None:
    from tvix_store.pathinfo import encode_path_info

    service = _open(f"lmdb://{tmp_path / 'store'}")
    info = build_path_info(SymlinkNode(name=NAME.encode(), target=b"/x"), 1, bytes(32))
    service._store(b"\x01" * 20, encode_path_info(info))  # type: ignore[attr-defined]
    with pytest.raises(StorageError, match="wrong digest"):
        service.get(b"\x01" * 20)
    service.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("lmdb:///", "cowardly refusing"),
        ("lmdb://host/x", "does not take a host"),
        ("memory:///x", "does not take a path"),
        ("memory://?a=b", "unknown parameter"),
        ("grpc+unix://", "needs a socket path"),
        ("grpc+http://host:1/path", "path may not be set"),
        ("sled:///x", "unknown scheme: sled"),
    ],
)
def test_url_rules(url: str, message: str) -> None:
    with pytest.raises(InvalidUrlError, match=message):
        _open(url)


def test_temporary_lmdb_store() -> None:
    service = _open("lmdb://")
    info = build_path_info(SymlinkNode(name=NAME.encode(), target=b"/x"), 1, bytes(32))
    service.put(info)
    assert list(service.list()) == [info]
    service.close()
