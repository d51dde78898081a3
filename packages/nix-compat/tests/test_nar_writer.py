"""The streaming NAR writer: exact bytes for known archives, and every misuse rejected."""

from __future__ import annotations

import hashlib
import io
import struct
import tracemalloc
from pathlib import Path

import pytest
from nix_compat.nar import HashingSink, NarError, NodeWriter, open_nar_writer

TESTDATA = Path(__file__).parent / "data" / "nar"


def s(word: bytes) -> bytes:
    """One NAR string: u64 length, bytes, zero padding."""
    return struct.pack("<Q", len(word)) + word + bytes(-len(word) % 8)


def tokens(*words: bytes) -> bytes:
    return b"".join(s(w) for w in words)


SYMLINK_NAR = tokens(b"nix-archive-1", b"(", b"type", b"symlink", b"target")
SYMLINK_NAR += tokens(b"/nix/store/somewhereelse", b")")
HELLO_NAR = tokens(b"nix-archive-1", b"(", b"type", b"regular", b"contents", b"Hello World!", b")")


def complicated_nar() -> bytes:
    """The reference's NAR_CONTENTS_COMPLICATED: .keep, aa -> symlink, keep/.keep."""
    keep = tokens(b"(", b"type", b"regular", b"contents", b"", b")")
    return (
        tokens(b"nix-archive-1", b"(", b"type", b"directory")
        + tokens(b"entry", b"(", b"name", b".keep", b"node")
        + keep
        + tokens(b")")
        + tokens(b"entry", b"(", b"name", b"aa", b"node", b"(", b"type", b"symlink", b"target")
        + tokens(b"/nix/store/somewhereelse", b")", b")")
        + tokens(b"entry", b"(", b"name", b"keep", b"node", b"(", b"type", b"directory")
        + tokens(b"entry", b"(", b"name", b".keep", b"node")
        + keep
        + tokens(b")", b")", b")", b")")
    )


def write(build: object) -> bytes:
    sink = io.BytesIO()
    root = open_nar_writer(sink)
    assert callable(build)
    build(root)
    return sink.getvalue()


def test_symlink_bytes() -> None:
    assert write(lambda n: n.symlink(b"/nix/store/somewhereelse")) == SYMLINK_NAR
    assert (TESTDATA / "symlink.nar").read_bytes() == SYMLINK_NAR


def test_regular_file_bytes() -> None:
    data = write(lambda n: n.file(False, 12, io.BytesIO(b"Hello World!")))
    assert data == HELLO_NAR
    assert len(data) == 128


def test_file_contents_bytes() -> None:
    assert write(lambda n: n.file_contents(False, b"Hello World!")) == HELLO_NAR


def test_one_byte_fixtures() -> None:
    regular = write(lambda n: n.file(False, 1, io.BytesIO(b"\x01")))
    executable = write(lambda n: n.file(True, 1, io.BytesIO(b"\x01")))
    assert regular == (TESTDATA / "onebyteregular.nar").read_bytes()
    assert executable == (TESTDATA / "onebyteexecutable.nar").read_bytes()
    assert executable == tokens(
        b"nix-archive-1",
        b"(",
        b"type",
        b"regular",
        b"executable",
        b"",
        b"contents",
        b"\x01",
        b")",
    )


def test_empty_directory_fixture() -> None:
    data = write(lambda n: n.directory().close())
    assert data == (TESTDATA / "emptydirectory.nar").read_bytes()
    assert data == tokens(b"nix-archive-1", b"(", b"type", b"directory", b")")


def test_complicated_tree() -> None:
    def build(root: NodeWriter) -> None:
        with root.directory() as d:
            d.entry(b".keep").file(False, 0, io.BytesIO(b""))
            d.entry(b"aa").symlink(b"/nix/store/somewhereelse")
            with d.entry(b"keep").directory() as keep:
                keep.entry(b".keep").file_contents(False, b"")

    data = write(build)
    assert data == complicated_nar()
    assert len(data) == 840


def test_output_is_flushed_only_when_the_root_is_complete() -> None:
    sink = io.BytesIO()
    root = open_nar_writer(sink)
    d = root.directory()
    d.entry(b"a").file_contents(False, b"x")
    assert sink.getvalue() == b""
    d.close()
    assert sink.getvalue().startswith(s(b"nix-archive-1"))


def test_large_file_is_streamed_in_chunks() -> None:
    payload = bytes(range(256)) * 4096 + b"tail"  # 1 MiB + 4 bytes, crosses the chunk size
    sink = io.BytesIO()
    open_nar_writer(sink).file(True, len(payload), io.BytesIO(payload))
    expected = tokens(b"nix-archive-1", b"(", b"type", b"regular", b"executable", b"")
    expected += tokens(b"contents", payload, b")")
    assert sink.getvalue() == expected


class ReadOnly:
    """A reader with only ``read``, to exercise the path without ``readinto``."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = io.BytesIO(data)
        self._step = step

    def read(self, size: int, /) -> bytes:
        return self._data.read(min(size, self._step))


@pytest.mark.parametrize("size", [5, 300_000])
def test_reader_without_readinto_and_short_reads(size: int) -> None:
    payload = b"q" * size
    data = write(lambda n: n.file(False, size, ReadOnly(payload, 7 if size < 10 else 70_000)))
    assert data == tokens(b"nix-archive-1", b"(", b"type", b"regular", b"contents", payload, b")")


@pytest.mark.parametrize("declared", [3, 300_000])
def test_short_content_is_an_error(declared: int) -> None:
    root = open_nar_writer(io.BytesIO())
    with pytest.raises(NarError, match=f"ended after 2 of the declared {declared} bytes"):
        root.file(False, declared, io.BytesIO(b"ab"))


@pytest.mark.parametrize("actual", [4, 300_001])
def test_long_content_is_an_error(actual: int) -> None:
    declared = actual - 1
    root = open_nar_writer(io.BytesIO())
    with pytest.raises(NarError, match=f"longer than the declared size {declared}") as info:
        root.file(False, declared, io.BytesIO(b"z" * actual))
    assert info.value.offset is not None


def test_writer_refuses_to_continue_after_failure() -> None:
    root = open_nar_writer(io.BytesIO())
    d = root.directory()
    with pytest.raises(NarError):
        d.entry(b"a").file(False, 3, io.BytesIO(b""))
    with pytest.raises(NarError, match="failed earlier"):
        d.close()


def test_negative_size() -> None:
    with pytest.raises(NarError, match="negative file size -1"):
        open_nar_writer(io.BytesIO()).file(False, -1, io.BytesIO(b""))


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (b"b", b"a", "unsorted entry name b'a' after b'b'"),
        (b"a", b"a", "duplicate entry name b'a' after b'a'"),
        (b"a", b"B", "unsorted entry name b'B' after b'a'"),
    ],
)
def test_entries_must_be_sorted(first: bytes, second: bytes, message: str) -> None:
    d = open_nar_writer(io.BytesIO()).directory()
    d.entry(first).symlink(b"t")
    with pytest.raises(NarError, match=message):
        d.entry(second)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (b"", "empty entry name"),
        (b".", "entry name b'.' is not allowed"),
        (b"..", "entry name b'..' is not allowed"),
        (b"a/b", "contains '/'"),
        (b"a\0b", "contains NUL"),
        (b"x" * 256, "256 bytes long, more than 255"),
    ],
)
def test_invalid_entry_names(name: bytes, message: str) -> None:
    d = open_nar_writer(io.BytesIO()).directory()
    with pytest.raises(NarError, match=message):
        d.entry(name)


@pytest.mark.parametrize(
    ("target", "message"),
    [(b"", "empty symlink target"), (b"a\0", "contains NUL"), (b"/" * 4096, "more than 4095")],
)
def test_invalid_symlink_targets(target: bytes, message: str) -> None:
    with pytest.raises(NarError, match=message):
        open_nar_writer(io.BytesIO()).symlink(target)


def test_node_is_written_once() -> None:
    root = open_nar_writer(io.BytesIO())
    root.symlink(b"x")
    with pytest.raises(NarError, match="already written"):
        root.symlink(b"y")


def test_entry_needs_previous_entry_written() -> None:
    d = open_nar_writer(io.BytesIO()).directory()
    d.entry(b"a")
    with pytest.raises(NarError, match="previous entry was not written"):
        d.entry(b"b")
    with pytest.raises(NarError, match="previous entry was not written"):
        d.close()


def test_parent_waits_for_open_subdirectory() -> None:
    d = open_nar_writer(io.BytesIO()).directory()
    sub = d.entry(b"a").directory()
    with pytest.raises(NarError, match="a subdirectory is still open"):
        d.entry(b"b")
    sub.close()
    d.entry(b"b").symlink(b"t")
    d.close()
    with pytest.raises(NarError, match="the directory is closed"):
        d.close()


def test_stale_entry_writer_is_rejected() -> None:
    d = open_nar_writer(io.BytesIO()).directory()
    first = d.entry(b"a")
    first.symlink(b"t")
    d.entry(b"b").symlink(b"t")
    with pytest.raises(NarError, match="already written"):
        first.symlink(b"u")


def test_context_manager_does_not_close_on_error() -> None:
    sink = io.BytesIO()
    root = open_nar_writer(sink)
    with pytest.raises(RuntimeError), root.directory() as d:
        d.entry(b"a").symlink(b"t")
        raise RuntimeError("boom")
    assert sink.getvalue() == b""


class Zeros:
    """``size`` zero bytes, produced on demand."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readinto(self, view: memoryview) -> int:
        n = min(len(view), self.left)
        view[:n] = bytes(n)
        self.left -= n
        return n

    def read(self, size: int, /) -> bytes:
        n = min(size, self.left)
        self.left -= n
        return bytes(n)


def test_memory_stays_bounded_for_a_large_file() -> None:
    size = 64 * 1024 * 1024
    sink = HashingSink()
    tracemalloc.start()
    try:
        open_nar_writer(sink).file(False, size, Zeros(size))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024
    assert sink.size == size + 112
    header = tokens(b"nix-archive-1", b"(", b"type", b"regular", b"contents")
    expected = hashlib.sha256(header + struct.pack("<Q", size))
    chunk = bytes(1024 * 1024)
    for _ in range(64):
        expected.update(chunk)
    expected.update(s(b")"))
    assert sink.digest() == expected.digest()
