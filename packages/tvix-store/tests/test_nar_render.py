"""NAR rendering: the reference's renderer tests and streaming behaviour."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tvix_castore.blobservice.lmdb import chunk_key
from tvix_castore.digests import B3Digest
from tvix_castore.directory import (
    Directory,
    DirectoryNode,
    FileNode,
    SymlinkNode,
    directory_digest,
    directory_size,
)
from tvix_castore.errors import StorageError
from tvix_castore.registry import blob_service_from_url, directory_service_from_url
from tvix_store.errors import BlobNotFoundError, BlobSizeMismatchError, DirectoryNotFoundError
from tvix_store.nar import calculate_size_and_sha256, iter_nar, write_nar
from tvix_store.pathinfoservice import path_info_service_from_url

from .conftest import Store
from .fixtures import (
    DIRECTORY_COMPLICATED,
    DIRECTORY_WITH_KEEP,
    EMPTY_BLOB_DIGEST,
    HELLOWORLD_BLOB_CONTENTS,
    HELLOWORLD_BLOB_DIGEST,
    NAR_CONTENTS_COMPLICATED,
    NAR_CONTENTS_HELLOWORLD,
    NAR_CONTENTS_HELLOWORLD_LITERAL,
    NAR_CONTENTS_SYMLINK,
)


def _render(node: DirectoryNode | FileNode | SymlinkNode, store: Store) -> bytes:
    out = io.BytesIO()
    write_nar(out, node, store.blobs, store.directories)
    return out.getvalue()


def _complicated_root() -> DirectoryNode:
    return DirectoryNode(
        name=b"doesntmatter",
        digest=directory_digest(DIRECTORY_COMPLICATED),
        size=directory_size(DIRECTORY_COMPLICATED),
    )


def test_fixture_matches_reference_literal() -> None:
    assert NAR_CONTENTS_HELLOWORLD == NAR_CONTENTS_HELLOWORLD_LITERAL


def test_single_symlink(memory_store: Store) -> None:
    node = SymlinkNode(name=b"doesntmatter", target=b"/nix/store/somewhereelse")
    assert _render(node, memory_store) == NAR_CONTENTS_SYMLINK


def test_single_file_missing_blob(memory_store: Store) -> None:
    node = FileNode(
        name=b"doesntmatter", digest=HELLOWORLD_BLOB_DIGEST, size=len(HELLOWORLD_BLOB_CONTENTS)
    )
    with pytest.raises(BlobNotFoundError) as e:
        _render(node, memory_store)
    assert e.value.digest == HELLOWORLD_BLOB_DIGEST


@pytest.mark.parametrize(("size", "short"), [(42, True), (2, False)], ids=["too big", "too small"])
def test_single_file_wrong_blob_size(memory_store: Store, size: int, short: bool) -> None:
    assert memory_store.blobs.put(HELLOWORLD_BLOB_CONTENTS) == HELLOWORLD_BLOB_DIGEST
    node = FileNode(name=b"doesntmatter", digest=HELLOWORLD_BLOB_DIGEST, size=size)
    with pytest.raises(BlobSizeMismatchError) as e:
        _render(node, memory_store)
    assert e.value.short is short
    assert e.value.declared == size


def test_wrong_blob_size_large(memory_store: Store) -> None:
    """Sizes above the writer's in-memory threshold take the streaming path; same errors."""
    data = bytes(range(256)) * 4096  # 1 MiB
    digest = memory_store.blobs.put(data)
    for size, short in ((len(data) + 1, True), (len(data) - 1, False)):
        node = FileNode(name=b"x", digest=digest, size=size)
        with pytest.raises(BlobSizeMismatchError) as e:
            _render(node, memory_store)
        assert e.value.short is short


def test_single_file(memory_store: Store) -> None:
    memory_store.blobs.put(HELLOWORLD_BLOB_CONTENTS)
    node = FileNode(
        name=b"doesntmatter", digest=HELLOWORLD_BLOB_DIGEST, size=len(HELLOWORLD_BLOB_CONTENTS)
    )
    assert _render(node, memory_store) == NAR_CONTENTS_HELLOWORLD


def test_complicated(store: Store) -> None:
    assert store.blobs.put(b"") == EMPTY_BLOB_DIGEST
    store.directories.put(DIRECTORY_WITH_KEEP)
    store.directories.put(DIRECTORY_COMPLICATED)
    root = _complicated_root()
    assert _render(root, store) == NAR_CONTENTS_COMPLICATED
    size, sha = calculate_size_and_sha256(root, store.blobs, store.directories)
    assert size == len(NAR_CONTENTS_COMPLICATED)
    assert sha == hashlib.sha256(NAR_CONTENTS_COMPLICATED).digest()
    assert store.path_infos.calculate_nar(root) == (size, sha)


def test_missing_directory(memory_store: Store) -> None:
    with pytest.raises(DirectoryNotFoundError) as e:
        _render(_complicated_root(), memory_store)
    assert e.value.name == b"doesntmatter"


def test_missing_subdirectory(memory_store: Store) -> None:
    memory_store.blobs.put(b"")
    memory_store.directories.put(DIRECTORY_WITH_KEEP)
    memory_store.directories.put(DIRECTORY_COMPLICATED)
    lost = directory_digest(DIRECTORY_WITH_KEEP)

    class LosingDirectories(type(memory_store.directories)):  # type: ignore[misc]
        """A store that lost a child directory (corrupt or partially copied)."""

        def get(self, digest: bytes) -> Directory | None:
            return None if digest == lost else memory_store.directories.get(digest)

    with pytest.raises(DirectoryNotFoundError) as e:
        write_nar(io.BytesIO(), _complicated_root(), memory_store.blobs, LosingDirectories())
    assert (e.value.digest, e.value.name) == (lost, b"keep")


def test_executable_and_large_file_streams(memory_store: Store) -> None:
    data = bytes(range(256)) * (5 * 4096)  # 5 MiB, several writer chunks
    digest = memory_store.blobs.put(data)
    node = FileNode(name=b"x", digest=digest, size=len(data), executable=True)
    out = _render(node, memory_store)
    assert out.startswith(
        b"".join(
            len(t).to_bytes(8, "little") + t + bytes(-len(t) % 8)
            for t in (b"nix-archive-1", b"(", b"type", b"regular", b"executable", b"", b"contents")
        )
    )
    assert out[-16:] == (1).to_bytes(8, "little") + b")" + bytes(7)
    assert b"".join(iter_nar(node, memory_store.blobs, memory_store.directories)) == out


def test_iter_nar_raises_and_can_stop_early(memory_store: Store) -> None:
    node = FileNode(name=b"x", digest=HELLOWORLD_BLOB_DIGEST, size=12)
    with pytest.raises(BlobNotFoundError):
        list(iter_nar(node, memory_store.blobs, memory_store.directories))
    data = bytes(8 << 20)
    digest = memory_store.blobs.put(data)
    chunks = iter_nar(
        FileNode(name=b"x", digest=digest, size=len(data)),
        memory_store.blobs,
        memory_store.directories,
    )
    assert next(chunks)
    chunks.close()  # the worker stops instead of rendering the rest


def test_deep_tree_renders_without_recursion(memory_store: Store) -> None:
    """A 2000-level tree: the renderer keeps an explicit stack."""
    leaf = SymlinkNode(name=b"l", target=b"t")
    directory = Directory(symlinks=[leaf])
    memory_store.directories.put(directory)
    for _ in range(2000):
        node = DirectoryNode(
            name=b"d", digest=directory_digest(directory), size=directory_size(directory)
        )
        directory = Directory(directories=[node])
        memory_store.directories.put(directory)
    root = DirectoryNode(
        name=b"r", digest=directory_digest(directory), size=directory_size(directory)
    )
    out = _render(root, memory_store)
    assert out.count(b"directory") == 2001


# --- corrupt blobs: the NAR must never come out complete ---------------------------------


@pytest.fixture
def lmdb_store(tmp_path: Path) -> Iterator[Store]:
    url = f"lmdb://{tmp_path / 'store'}"
    blobs = blob_service_from_url(url)
    directories = directory_service_from_url(url)
    yield Store(blobs, directories, path_info_service_from_url(url, blobs, directories))
    directories.close()
    blobs.close()


def _poke(env: Any, db: Any, key: bytes, value: bytes) -> None:
    with env.env.begin(write=True, db=db) as txn:
        txn.put(key, value)


def _corrupt(store: Store, digest: bytes, *, chunk: int | None = None) -> None:
    """Overwrite part of a stored blob with other bytes of the same length."""
    env = store.blobs.environment  # type: ignore[attr-defined]
    with env.env.begin(db=env.blobs) as txn:
        record = bytes(txn.get(digest))
    if chunk is None:
        _poke(env, env.blobs, digest, record[:-1] + bytes([record[-1] ^ 1]))
    else:
        _poke(env, env.chunks, chunk_key(record[-16:], chunk), os.urandom(1 << 20))


def _tree(store: Store, files: dict[bytes, bytes]) -> DirectoryNode:
    directory = Directory(
        files=[
            FileNode(name=name, digest=store.blobs.put(data), size=len(data))
            for name, data in sorted(files.items())
        ]
    )
    store.directories.put(directory)
    return DirectoryNode(
        name=b"r", digest=directory_digest(directory), size=directory_size(directory)
    )


def _render_failing(node: DirectoryNode | FileNode, store: Store, full: bytes) -> bytes:
    out = io.BytesIO()
    with pytest.raises(StorageError, match="is corrupt"):
        write_nar(out, node, store.blobs, store.directories)
    partial = out.getvalue()
    assert len(partial) < len(full)
    assert full.startswith(partial[:16])
    with pytest.raises(StorageError, match="is corrupt"):
        b"".join(iter_nar(node, store.blobs, store.directories))
    with pytest.raises(StorageError, match="is corrupt"):
        calculate_size_and_sha256(node, store.blobs, store.directories)
    return partial


@pytest.mark.parametrize("where", ["first", "last"])
@pytest.mark.parametrize("kind", ["small", "large"])
def test_corrupt_blob_in_a_tree_fails_the_render(lmdb_store: Store, where: str, kind: str) -> None:
    victim = os.urandom(5 << 20) if kind == "large" else b"small file contents"
    others = {b"m-middle": os.urandom(3 << 20), b"n-small": b"x" * 100}
    name = b"a-victim" if where == "first" else b"z-victim"
    root = _tree(lmdb_store, {**others, name: victim})
    full = _render(root, lmdb_store)
    _corrupt(lmdb_store, B3Digest.of(victim), chunk=4 if kind == "large" else None)
    _render_failing(root, lmdb_store, full)


def test_corrupt_root_file_never_gets_its_trailer(lmdb_store: Store) -> None:
    data = os.urandom(3 << 20)
    node = FileNode(name=b"f", digest=lmdb_store.blobs.put(data), size=len(data))
    full = _render(node, lmdb_store)
    _corrupt(lmdb_store, node.digest, chunk=2)
    partial = _render_failing(node, lmdb_store, full)
    assert not partial.endswith(full[-16:])

    small = b"tiny"
    node = FileNode(name=b"f", digest=lmdb_store.blobs.put(small), size=len(small))
    full = _render(node, lmdb_store)
    _corrupt(lmdb_store, node.digest)
    assert _render_failing(node, lmdb_store, full) == b""


def test_intact_lmdb_tree_renders_like_memory(lmdb_store: Store, memory_store: Store) -> None:
    files = {b"big": os.urandom((2 << 20) + 3), b"empty": b"", b"one-mib": os.urandom(1 << 20)}
    files |= {b"f%03d" % i: os.urandom(i * 97) for i in range(40)}
    assert _render(_tree(lmdb_store, files), lmdb_store) == _render(
        _tree(memory_store, files), memory_store
    )
