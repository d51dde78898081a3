"""NAR ingest: NAR → castore → NAR round trips, rejection of bad archives, hash checks."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nix_compat.nar import dump_path
from tvix_castore.directory import DirectoryNode, FileNode, SymlinkNode, directory_digest
from tvix_store.errors import NarIngestError
from tvix_store.nar import ingest_nar, write_nar

from .conftest import Store
from .fixtures import (
    DIRECTORY_COMPLICATED,
    EMPTY_BLOB_DIGEST,
    HELLOWORLD_BLOB_CONTENTS,
    HELLOWORLD_BLOB_DIGEST,
    NAR_CONTENTS_COMPLICATED,
    NAR_CONTENTS_HELLOWORLD,
    NAR_CONTENTS_SYMLINK,
)


def _render(node: DirectoryNode | FileNode | SymlinkNode, store: Store) -> bytes:
    out = io.BytesIO()
    write_nar(out, node, store.blobs, store.directories)
    return out.getvalue()


def test_ingest_symlink(memory_store: Store) -> None:
    result = ingest_nar(
        io.BytesIO(NAR_CONTENTS_SYMLINK), memory_store.blobs, memory_store.directories, b"name"
    )
    assert result.root == SymlinkNode(name=b"name", target=b"/nix/store/somewhereelse")
    assert result.nar_size == len(NAR_CONTENTS_SYMLINK)
    assert result.nar_sha256 == hashlib.sha256(NAR_CONTENTS_SYMLINK).digest()


def test_ingest_file(memory_store: Store) -> None:
    result = ingest_nar(
        io.BytesIO(NAR_CONTENTS_HELLOWORLD), memory_store.blobs, memory_store.directories, b"f"
    )
    assert result.root == FileNode(
        name=b"f", digest=HELLOWORLD_BLOB_DIGEST, size=len(HELLOWORLD_BLOB_CONTENTS)
    )
    assert memory_store.blobs.read_all(HELLOWORLD_BLOB_DIGEST) == HELLOWORLD_BLOB_CONTENTS


def test_ingest_complicated(store: Store) -> None:
    result = ingest_nar(
        io.BytesIO(NAR_CONTENTS_COMPLICATED), store.blobs, store.directories, b"root"
    )
    assert isinstance(result.root, DirectoryNode)
    assert result.root.digest == directory_digest(DIRECTORY_COMPLICATED)
    assert store.blobs.has(EMPTY_BLOB_DIGEST)
    assert _render(result.root, store) == NAR_CONTENTS_COMPLICATED


@pytest.mark.parametrize(
    ("nar", "message"),
    [
        (b"", "truncated"),
        (NAR_CONTENTS_HELLOWORLD[:-8], "truncated"),
        (NAR_CONTENTS_HELLOWORLD + b"\0" * 8, "trailing data"),
        (NAR_CONTENTS_HELLOWORLD.replace(b"regular", b"regulax"), "unknown node type"),
        # The two entries of the complicated directory swapped: not sorted.
        (NAR_CONTENTS_COMPLICATED.replace(b"aa\0", b"zz\0"), "unsorted"),
    ],
    ids=["empty", "truncated", "trailing", "bad type", "unsorted"],
)
def test_rejects_non_canonical(memory_store: Store, nar: bytes, message: str) -> None:
    with pytest.raises(NarIngestError, match=message):
        ingest_nar(io.BytesIO(nar), memory_store.blobs, memory_store.directories, b"x")
    assert list(memory_store.path_infos.list()) == []


def test_rejects_hash_mismatch_and_stores_no_graph(memory_store: Store) -> None:
    with pytest.raises(NarIngestError, match="NAR hash mismatch"):
        ingest_nar(
            io.BytesIO(NAR_CONTENTS_COMPLICATED),
            memory_store.blobs,
            memory_store.directories,
            b"x",
            expected_sha256=bytes(32),
        )
    assert memory_store.directories.get(directory_digest(DIRECTORY_COMPLICATED)) is None
    with pytest.raises(NarIngestError, match="NAR size mismatch"):
        ingest_nar(
            io.BytesIO(NAR_CONTENTS_COMPLICATED),
            memory_store.blobs,
            memory_store.directories,
            b"x",
            expected_size=1,
        )
    sha = hashlib.sha256(NAR_CONTENTS_COMPLICATED).digest()
    result = ingest_nar(
        io.BytesIO(NAR_CONTENTS_COMPLICATED),
        memory_store.blobs,
        memory_store.directories,
        b"x",
        expected_sha256=sha,
        expected_size=len(NAR_CONTENTS_COMPLICATED),
    )
    assert result.nar_sha256 == sha


def _make_tree(root: Path, spec: dict[str, object]) -> None:
    root.mkdir()
    for name, value in spec.items():
        path = root / name
        if isinstance(value, dict):
            _make_tree(path, value)
        elif isinstance(value, tuple):
            os.symlink(value[0], path)
        else:
            assert isinstance(value, bytes)
            path.write_bytes(value)
            if len(value) % 3 == 0:
                path.chmod(0o755)


_names = st.text(alphabet="abcXYZ._-+=0", min_size=1, max_size=8).filter(
    lambda n: n not in (".", "..")
)
_trees = st.recursive(
    st.binary(max_size=300) | st.tuples(st.text(alphabet="abc/.", min_size=1, max_size=10)),
    lambda children: st.dictionaries(_names, children, max_size=4),
    max_leaves=12,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=st.dictionaries(_names, _trees, max_size=4))
def test_round_trip_matches_dump(
    tmp_path_factory: pytest.TempPathFactory, spec: dict[str, object]
) -> None:
    """dump(fs) == render(ingest(dump(fs))) for generated trees."""
    from tvix_castore.registry import blob_service_from_url, directory_service_from_url

    root = tmp_path_factory.mktemp("tree") / "t"
    _make_tree(root, spec)
    expected = io.BytesIO()
    dump_path(root, expected)
    blobs = blob_service_from_url("memory://")
    directories = directory_service_from_url("memory://")
    result = ingest_nar(io.BytesIO(expected.getvalue()), blobs, directories, b"t")
    out = io.BytesIO()
    write_nar(out, result.root, blobs, directories)
    assert out.getvalue() == expected.getvalue()
    assert result.nar_sha256 == hashlib.sha256(expected.getvalue()).digest()


class _Trickle:
    """A stream that hands out at most ``step`` bytes per read, like a slow pipe."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._step = step

    def read(self, size: int, /) -> bytes:
        piece = bytes(self._data[: min(size, self._step)])
        self._data = self._data[len(piece) :]
        return piece


def _sized_tree(root: Path) -> None:
    """Files around the chunk size, and more small files than a blob batch holds."""
    from tvix_castore.blobservice.base import CHUNK_SIZE
    from tvix_castore.blobservice.lmdb import BATCH_BLOBS

    root.mkdir()
    for size in (0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE + 3):
        (root / f"f{size}").write_bytes(os.urandom(size))
    many = root / "many"
    many.mkdir()
    for i in range(BATCH_BLOBS + 10):
        (many / f"{i:05}").write_bytes(b"%d" % (i % 700))


@pytest.mark.parametrize("step", [None, 4093], ids=["whole", "trickle"])
def test_round_trip_of_chunk_sized_files(store: Store, tmp_path: Path, step: int | None) -> None:
    _sized_tree(tmp_path / "t")
    expected = io.BytesIO()
    dump_path(tmp_path / "t", expected)
    nar = expected.getvalue()
    stream = io.BytesIO(nar) if step is None else _Trickle(nar, step)
    result = ingest_nar(stream, store.blobs, store.directories, b"t")
    assert result.nar_size == len(nar)
    assert result.nar_sha256 == hashlib.sha256(nar).digest()
    assert _render(result.root, store) == nar


def test_truncated_nar_stores_no_graph(store: Store, tmp_path: Path) -> None:
    _sized_tree(tmp_path / "t")
    expected = io.BytesIO()
    dump_path(tmp_path / "t", expected)
    nar = expected.getvalue()
    with pytest.raises(NarIngestError, match="truncated"):
        ingest_nar(io.BytesIO(nar[:-100]), store.blobs, store.directories, b"t")
    from tvix_castore.registry import blob_service_from_url, directory_service_from_url

    reference = ingest_nar(
        io.BytesIO(nar), blob_service_from_url("memory://"), directory_service_from_url("memory://")
    )
    assert isinstance(reference.root, DirectoryNode)
    assert store.directories.get(reference.root.digest) is None
    result = ingest_nar(io.BytesIO(nar), store.blobs, store.directories, b"t")
    assert isinstance(result.root, DirectoryNode)
    assert result.root.digest == reference.root.digest
    assert _render(result.root, store) == nar


@pytest.mark.parametrize("step", [None, 70_001], ids=["readinto", "read-only"])
def test_hashing_reader_reuses_blocks_safely(step: int | None) -> None:
    """Reading many blocks' worth in odd sizes gives back every byte, counted and hashed."""
    from tvix_store.nar.hashing import READ_BLOCK, HashingReader

    data = os.urandom(11 * READ_BLOCK + 12345)
    reader = HashingReader(io.BytesIO(data) if step is None else _Trickle(data, step))
    out = bytearray()
    sizes = [1, 7, 300_000, READ_BLOCK, 3 * READ_BLOCK, 65_536]
    for i in itertools.count():
        size = sizes[i % len(sizes)]
        if i % 2:
            buffer = memoryview(bytearray(size))
            got = reader.readinto(buffer)
            out += buffer[:got]
        else:
            got = len(piece := reader.read(size))
            out += piece
        if not got:
            break
    assert out == data
    assert reader.size == len(data)
    assert reader.digest() == hashlib.sha256(data).digest()


def test_hashing_reader_reads_a_regular_file_ahead(tmp_path: Path) -> None:
    """A regular file is read on the hashing thread; the caller sees every byte in order."""
    from tvix_store.nar.hashing import READ_BLOCK, HashingReader

    data = os.urandom(20 * READ_BLOCK + 999)
    path = tmp_path / "data"
    path.write_bytes(data)
    with open(path, "rb") as f:
        reader = HashingReader(f)
        assert reader._read_ahead
        out = bytearray()
        buffer = memoryview(bytearray(300_001))
        while got := reader.readinto(buffer):
            out += buffer[:got]
        assert reader.read(10) == b""
    assert out == data
    assert reader.size == len(data)
    assert reader.digest() == hashlib.sha256(data).digest()
    assert reader._reader is not None
    assert not reader._thread.is_alive() and not reader._reader.is_alive()


def test_hashing_reader_read_ahead_stops_early_and_refuses_a_partial_digest(
    tmp_path: Path,
) -> None:
    from tvix_store.nar.hashing import READ_BLOCK, HashingReader

    path = tmp_path / "data"
    path.write_bytes(os.urandom(40 * READ_BLOCK))
    with open(path, "rb") as f:
        reader = HashingReader(f)
        assert len(reader.read(5)) == 5
        with pytest.raises(ValueError, match="only at its end"):
            reader.digest()
        reader.close()
        assert reader._reader is not None
        assert not reader._thread.is_alive() and not reader._reader.is_alive()
        assert f.tell() < 40 * READ_BLOCK  # it stopped reading ahead


def test_hashing_reader_hands_read_errors_to_the_caller() -> None:
    from tvix_store.nar.hashing import READ_BLOCK, HashingReader

    class Failing(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            self.calls += 1
            if self.calls > 3:
                raise OSError("disk on fire")
            buffer[:] = bytes(len(buffer))
            return len(buffer)

    reader = HashingReader(Failing(), read_ahead=True)
    buffer = memoryview(bytearray(READ_BLOCK))
    for _ in range(3):
        assert reader.readinto(buffer) == READ_BLOCK
    with pytest.raises(OSError, match="disk on fire"):
        reader.readinto(buffer)
    assert reader.readinto(buffer) == 0
    reader.close()


def test_regular_files_are_read_ahead_and_pipes_are_not(tmp_path: Path) -> None:
    from tvix_store.nar.hashing import is_regular_file

    path = tmp_path / "f"
    path.write_bytes(b"x")
    with open(path, "rb") as f:
        assert is_regular_file(f)
    read_end, write_end = os.pipe()
    with open(read_end, "rb") as r, open(write_end, "wb"):
        assert not is_regular_file(r)
    assert not is_regular_file(io.BytesIO(b"x"))


def test_ingest_from_a_regular_file_matches_ingest_from_memory(
    store: Store, tmp_path: Path
) -> None:
    _sized_tree(tmp_path / "t")
    nar_path = tmp_path / "t.nar"
    with open(nar_path, "wb") as out:
        dump_path(tmp_path / "t", out)
    nar = nar_path.read_bytes()
    from_memory = ingest_nar(io.BytesIO(nar), store.blobs, store.directories, b"t")
    with open(nar_path, "rb") as f:
        from_file = ingest_nar(f, store.blobs, store.directories, b"t")
    assert from_file == from_memory
    assert from_file.nar_sha256 == hashlib.sha256(nar).digest()
    assert _render(from_file.root, store) == nar
