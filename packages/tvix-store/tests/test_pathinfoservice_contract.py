"""One contract for every PathInfoService backend: memory, lmdb and gRPC (a real server)."""

from __future__ import annotations

import hashlib

import pytest
from nix_compat.store_path import StorePath
from tvix_castore.directory import DirectoryNode, SymlinkNode, directory_digest, directory_size
from tvix_castore.errors import InvalidRequestError
from tvix_store.pathinfo import PathInfo, build_path_info, validate_path_info

from .conftest import Store
from .fixtures import (
    DIRECTORY_COMPLICATED,
    DIRECTORY_WITH_KEEP,
    DUMMY_OUTPUT_HASH,
    NAR_CONTENTS_COMPLICATED,
)


def _symlink_info(basename: str, target: bytes = b"doesntmatter") -> PathInfo:
    return build_path_info(SymlinkNode(name=basename.encode(), target=target), 1, bytes(32))


def test_not_found(store: Store) -> None:
    assert store.path_infos.get(DUMMY_OUTPUT_HASH) is None


def test_put_get(store: Store) -> None:
    info = PathInfo(node=_symlink_info("00000000000000000000000000000000-foo").node)
    assert store.path_infos.put(info) == info
    assert store.path_infos.get(DUMMY_OUTPUT_HASH) == info


def test_put_overwrites(store: Store) -> None:
    first = _symlink_info("00000000000000000000000000000000-foo", b"one")
    second = _symlink_info("00000000000000000000000000000000-foo", b"two")
    store.path_infos.put(first)
    store.path_infos.put(second)
    assert store.path_infos.get(DUMMY_OUTPUT_HASH) == second
    assert list(store.path_infos.list()) == [second]


def test_put_invalid_is_refused(store: Store) -> None:
    with pytest.raises(InvalidRequestError):
        store.path_infos.put(PathInfo())
    bad = _symlink_info("00000000000000000000000000000000-foo")
    bad.references.append(b"short")
    with pytest.raises(InvalidRequestError):
        store.path_infos.put(bad)
    assert list(store.path_infos.list()) == []


def test_get_wrong_digest_length(store: Store) -> None:
    with pytest.raises(InvalidRequestError):
        store.path_infos.get(b"\x00" * 19)


def test_list(store: Store) -> None:
    infos = [
        _symlink_info(str(StorePath(i.to_bytes(2, "big") * 10, f"p{i}"))) for i in range(1, 600, 7)
    ]
    for info in infos:
        store.path_infos.put(info)
    listed = list(store.path_infos.list())
    key = lambda i: validate_path_info(i).digest  # noqa: E731
    assert sorted(listed, key=key) == sorted(infos, key=key)


def test_list_empty(store: Store) -> None:
    assert list(store.path_infos.list()) == []


def test_calculate_nar_and_full_round_trip(store: Store) -> None:
    store.blobs.put(b"")
    store.directories.put(DIRECTORY_WITH_KEEP)
    store.directories.put(DIRECTORY_COMPLICATED)
    node = DirectoryNode(
        name=b"x",
        digest=directory_digest(DIRECTORY_COMPLICATED),
        size=directory_size(DIRECTORY_COMPLICATED),
    )
    size, sha = store.path_infos.calculate_nar(node)
    assert (size, sha) == (
        len(NAR_CONTENTS_COMPLICATED),
        hashlib.sha256(NAR_CONTENTS_COMPLICATED).digest(),
    )
    # Cached per root node, whatever the name.
    renamed = DirectoryNode(name=b"y", digest=node.digest, size=node.size)
    assert store.path_infos.calculate_nar(renamed) == (size, sha)
    ref = StorePath(bytes(20), "dep")
    info = build_path_info(
        DirectoryNode(
            name=b"00000000000000000000000000000000-foo", digest=node.digest, size=node.size
        ),
        size,
        sha,
        references=[ref],
    )
    store.path_infos.put(info)
    got = store.path_infos.get(DUMMY_OUTPUT_HASH)
    assert got == info
    assert list(got.narinfo.reference_names) == [str(ref)]


def test_calculate_nar_missing_content(store: Store) -> None:
    node = DirectoryNode(name=b"x", digest=directory_digest(DIRECTORY_COMPLICATED), size=3)
    from tvix_castore.errors import NotFoundError

    with pytest.raises(NotFoundError):
        store.path_infos.calculate_nar(node)
