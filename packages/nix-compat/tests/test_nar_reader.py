"""The canonical-only NAR reader: events for known archives and every malformation rejected."""

from __future__ import annotations

import hashlib
import io
import struct
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nix_compat.nar import (
    NarDirectory,
    NarDirectoryEnd,
    NarError,
    NarEvent,
    NarFile,
    NarReader,
    NarSymlink,
    open_nar_writer,
    read_nar,
)

TESTDATA = Path(__file__).parent / "data" / "nar"


def s(word: bytes) -> bytes:
    return struct.pack("<Q", len(word)) + word + bytes(-len(word) % 8)


def tokens(*words: bytes) -> bytes:
    return b"".join(s(w) for w in words)


HEADER = tokens(b"nix-archive-1", b"(", b"type")


def summarise(data: bytes) -> list[tuple[object, ...]]:
    """The events of ``data`` as plain tuples, file contents read in full."""
    out: list[tuple[object, ...]] = []
    for event in read_nar(io.BytesIO(data)):
        if isinstance(event, NarFile):
            out.append(("file", event.path, event.executable, event.contents.read()))
        elif isinstance(event, NarSymlink):
            out.append(("symlink", event.path, event.target))
        elif isinstance(event, NarDirectory):
            out.append(("dir", event.path))
        else:
            out.append(("end", event.path))
    return out


def dir_nar(*entries: tuple[bytes, bytes]) -> bytes:
    """A directory NAR from (name, node body after 'type') pairs, in the given order."""
    body = tokens(b"nix-archive-1", b"(", b"type", b"directory")
    for name, node in entries:
        body += tokens(b"entry", b"(", b"name", name, b"node", b"(", b"type") + node + s(b")")
    return body + s(b")")


SYMLINK_NODE = tokens(b"symlink", b"target", b"t", b")")


def test_symlink_fixture() -> None:
    data = (TESTDATA / "symlink.nar").read_bytes()
    assert summarise(data) == [("symlink", (), b"/nix/store/somewhereelse")]


def test_file_fixtures() -> None:
    regular = (TESTDATA / "onebyteregular.nar").read_bytes()
    executable = (TESTDATA / "onebyteexecutable.nar").read_bytes()
    assert summarise(regular) == [("file", (), False, b"\x01")]
    assert summarise(executable) == [("file", (), True, b"\x01")]


def test_empty_directory_fixture() -> None:
    data = (TESTDATA / "emptydirectory.nar").read_bytes()
    assert summarise(data) == [("dir", ()), ("end", ())]


def test_popdirectories_fixture() -> None:
    data = (TESTDATA / "popdirectories.nar").read_bytes()
    assert summarise(data) == [
        ("dir", ()),
        ("dir", (b"test",)),
        ("dir", (b"test", b"tested")),
        ("end", (b"test", b"tested")),
        ("end", (b"test",)),
        ("dir", (b"tested",)),
        ("end", (b"tested",)),
        ("end", ()),
    ]


def test_large_fixture_matches_importer_expectations() -> None:
    path = TESTDATA / "nar_1094wph9z4nwlgvsd53abfz8i117ykiv5dwnq9nnhz846s7xqd7d.nar"
    data = path.read_bytes()
    assert len(data) == 464152
    assert hashlib.sha256(data).hexdigest() == (
        "c6e155b3456e30b7612263ec095070811caf8abfd59faa72ab82a592efdeb253"
    )
    events = list(NarReader(io.BytesIO(data)))
    files = {e.path: e.size for e in events if isinstance(e, NarFile)}
    links = {e.path: e.target for e in events if isinstance(e, NarSymlink)}
    assert files[(b"bin", b"arp")] == 55288
    assert files[(b"bin", b"netstat")] == 131784
    assert files[(b"share", b"man", b"man8", b"arp.8.gz")] == 2464
    assert links[(b"bin", b"dnsdomainname")] == b"hostname"
    assert links[(b"sbin",)] == b"bin"
    assert isinstance(events[0], NarDirectory)
    assert isinstance(events[-1], NarDirectoryEnd)
    assert events[-1].path == ()


def test_unread_contents_are_skipped_and_reader_expires() -> None:
    data = dir_nar(
        (b"a", tokens(b"regular", b"contents", b"first file", b")")),
        (b"b", tokens(b"regular", b"contents", b"second", b")")),
    )
    it = iter(NarReader(io.BytesIO(data)))
    assert next(it) == NarDirectory(())
    first = next(it)
    assert isinstance(first, NarFile)
    assert first.contents.read(3) == b"fir"
    second = next(it)
    assert isinstance(second, NarFile)
    assert second.contents.read() == b"second"
    with pytest.raises(NarError, match="contents of /a read after the reader moved on"):
        first.contents.read(1)
    assert [type(e) for e in it] == [NarDirectoryEnd]


def test_contents_read_chunkwise() -> None:
    payload = bytes(range(256)) * 1200
    data = HEADER + tokens(b"regular", b"contents", payload, b")")
    got = bytearray()
    for event in read_nar(io.BytesIO(data)):
        assert isinstance(event, NarFile)
        buf = bytearray(1000)
        while n := event.contents.readinto(buf):
            got += buf[:n]
        assert event.contents.read() == b""
    assert bytes(got) == payload


def expect_error(data: bytes, message: str, offset: int | None = None) -> NarError:
    with pytest.raises(NarError, match=message) as info:
        summarise(data)
    if offset is not None:
        assert info.value.offset == offset
    return info.value


def test_bad_magic() -> None:
    expect_error(tokens(b"nix-archive-2", b"(", b"type"), "expected token 'nix-archive-1'", 0)


def test_unknown_node_type() -> None:
    expect_error(HEADER + tokens(b"fifo", b")"), r"unknown node type b'fifo' at /", 56)


def test_token_order() -> None:
    expect_error(
        HEADER + tokens(b"regular", b"size", b"x", b")"), "expected 'contents' in file /", 72
    )
    expect_error(tokens(b"nix-archive-1", b"type"), "expected token '\\('", 24)
    expect_error(HEADER + tokens(b"symlink", b"targets", b"x"), "expected token 'target'")


def test_executable_marker_must_be_empty() -> None:
    data = HEADER + tokens(b"regular", b"executable", b"yes", b"contents", b"", b")")
    expect_error(data, "expected '' after 'executable', found b'yes'", 96)


def test_executable_after_contents_is_rejected() -> None:
    data = HEADER + tokens(b"regular", b"contents", b"", b"executable", b"", b")")
    expect_error(data, "expected token '\\)', found b'executable'")


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ((b"b", b"a"), "unsorted entry name b'a' after b'b' in /"),
        ((b"a", b"a"), "duplicate entry name b'a' after b'a' in /"),
        ((b"a", b"B"), "unsorted entry name b'B' after b'a'"),
        ((b"",), "empty entry name in /"),
        ((b".",), "entry name b'.' is not allowed"),
        ((b"..",), "entry name b'..' is not allowed"),
        ((b"a/b",), "contains '/'"),
        ((b"a\0",), "contains NUL"),
        ((b"n" * 256,), "an entry name in / is 256 bytes long, more than 255"),
    ],
)
def test_bad_entry_names(names: tuple[bytes, ...], message: str) -> None:
    expect_error(dir_nar(*[(n, SYMLINK_NODE) for n in names]), message)


def test_unsorted_offset_points_at_the_name() -> None:
    data = dir_nar((b"b", SYMLINK_NODE), (b"a", SYMLINK_NODE))
    second_entry = data.index(s(b"entry"), 100)
    expect_error(data, "unsorted", second_entry + 16 + 16 + 16)


def test_nested_names_are_reported_with_their_directory() -> None:
    inner = tokens(b"directory", b"entry", b"(", b"name", b"z", b"node", b"(", b"type")
    inner += SYMLINK_NODE + s(b")") + tokens(b"entry", b"(", b"name", b"y")
    expect_error(dir_nar((b"sub", inner + b"")), "unsorted entry name b'y' after b'z' in /sub")


def test_nonzero_padding() -> None:
    data = bytearray(HEADER + tokens(b"regular", b"contents", b"abc", b")"))
    pad = len(HEADER) + 16 + 16 + 8 + 3
    data[pad + 2] = 1
    expect_error(bytes(data), "non-zero padding after the contents of /", pad)


def test_nonzero_padding_in_token() -> None:
    data = bytearray(tokens(b"nix-archive-1", b"(", b"type"))
    data[8 + 13] = 0x20
    expect_error(bytes(data), "non-zero padding after token 'nix-archive-1'", 21)


@pytest.mark.parametrize(
    ("target", "message"),
    [(b"", "empty symlink target at /"), (b"a\0b", "contains NUL")],
)
def test_bad_symlink_targets(target: bytes, message: str) -> None:
    expect_error(HEADER + tokens(b"symlink", b"target", target, b")"), message, 88)


def test_huge_lengths_do_not_allocate() -> None:
    expect_error(struct.pack("<Q", 2**63), "expected token 'nix-archive-1', found a string of", 0)
    data = HEADER + tokens(b"symlink", b"target") + struct.pack("<Q", 2**40)
    expect_error(data, "the target of / is 1099511627776 bytes long, more than 4095", 88)


def test_huge_declared_file_size_is_truncation() -> None:
    data = HEADER + tokens(b"regular", b"contents") + struct.pack("<Q", 2**62) + b"abc"
    expect_error(data, "archive truncated in the contents of /", 99)


def test_trailing_data() -> None:
    data = (TESTDATA / "symlink.nar").read_bytes()
    expect_error(data + b"\0", "trailing data after the end of the archive", 136)


def test_empty_input() -> None:
    expect_error(b"", "archive truncated while reading the length of token 'nix-archive-1'", 0)


def test_every_truncation_is_a_nar_error() -> None:
    data = dir_nar(
        (b"a", tokens(b"regular", b"executable", b"", b"contents", b"12345", b")")),
        (b"b", SYMLINK_NODE),
        (b"c", tokens(b"directory", b")")),
    )
    assert len(summarise(data)) == 6
    for cut in range(len(data)):
        with pytest.raises(NarError, match="truncated"):
            summarise(data[:cut])


def test_closing_the_iterator_early_does_not_read_on() -> None:
    data = HEADER + tokens(b"regular", b"contents") + struct.pack("<Q", 100)  # truncated
    it = read_nar(io.BytesIO(data))
    assert isinstance(next(it), NarFile)
    it.close()  # type: ignore[attr-defined]


class SyntheticNar:
    """A NAR of one ``size``-byte zero file, generated while it is read."""

    def __init__(self, size: int) -> None:
        head = HEADER + tokens(b"regular", b"contents") + struct.pack("<Q", size)
        self._parts = [head, None, s(b")")[0:16]]
        self._zeros = size
        self._pos = 0

    def read(self, n: int, /) -> bytes:
        while self._parts:
            part = self._parts[0]
            if part is None:
                if self._zeros == 0:
                    self._parts.pop(0)
                    continue
                k = min(n, self._zeros)
                self._zeros -= k
                return bytes(k)
            if part:
                out = part[:n]
                self._parts[0] = part[n:]
                return out
            self._parts.pop(0)
        return b""


def test_memory_stays_bounded_reading_a_large_file() -> None:
    size = 64 * 1024 * 1024
    digest = hashlib.sha256()
    tracemalloc.start()
    try:
        for event in NarReader(SyntheticNar(size)):
            assert isinstance(event, NarFile)
            assert event.size == size
            buf = memoryview(bytearray(256 * 1024))
            while n := event.contents.readinto(buf):
                digest.update(buf[:n])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * 1024 * 1024
    assert digest.digest() == hashlib.sha256(bytes(size)).digest()


def test_skipping_a_large_file_is_bounded() -> None:
    size = 32 * 1024 * 1024
    tracemalloc.start()
    try:
        events = [type(e) for e in NarReader(SyntheticNar(size))]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert events == [NarFile]
    assert peak < 3 * 1024 * 1024


VALID = dir_nar(
    (b"a", tokens(b"regular", b"executable", b"", b"contents", b"hello", b")")),
    (b"b", SYMLINK_NODE),
    (
        b"c",
        tokens(b"directory", b"entry", b"(", b"name", b"d", b"node", b"(", b"type")
        + SYMLINK_NODE
        + tokens(b")", b")"),
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=4))
def test_corrupted_archives_raise_only_nar_error(changes: list[tuple[int, int]]) -> None:
    data = bytearray(VALID)
    for offset, value in changes:
        data[offset] = value
    try:
        events: list[NarEvent] = []
        for event in read_nar(io.BytesIO(bytes(data))):
            if isinstance(event, NarFile):
                event.contents.read()
            events.append(event)
    except NarError as e:
        assert e.offset is not None
        assert 0 <= e.offset <= len(data)


def test_deep_nesting_needs_no_recursion() -> None:
    depth = 5000
    sink = io.BytesIO()
    node = open_nar_writer(sink)
    dirs = []
    for _ in range(depth):
        d = node.directory()
        dirs.append(d)
        node = d.entry(b"d")
    node.symlink(b"bottom")
    for d in reversed(dirs):
        d.close()
    events = list(read_nar(io.BytesIO(sink.getvalue())))
    assert len(events) == 2 * depth + 1
    bottom = events[depth]
    assert isinstance(bottom, NarSymlink)
    assert bottom.path == (b"d",) * depth


class _Dribble:
    """A stream handing out at most ``step`` bytes per call, with or without ``readinto``."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._step = step

    def read(self, size: int, /) -> bytes:
        piece = bytes(self._data[: min(size, self._step)])
        self._data = self._data[len(piece) :]
        return piece


class _DribbleInto(_Dribble):
    def readinto(self, buffer: memoryview, /) -> int:
        piece = self.read(len(buffer))
        buffer[: len(piece)] = piece
        return len(piece)


def _events_and_error(stream: io.RawIOBase | _Dribble) -> tuple[list[tuple[object, ...]], object]:
    out: list[tuple[object, ...]] = []
    try:
        for event in read_nar(stream):
            if isinstance(event, NarFile):
                out.append(("file", event.path, event.executable, event.contents.read()))
            else:
                out.append((type(event).__name__, event.path))
    except NarError as e:
        return out, (str(e), e.offset)
    return out, None


@pytest.mark.parametrize("step", [1, 3, 8, 13, 4096])
@pytest.mark.parametrize("stream", [_Dribble, _DribbleInto])
def test_short_reads_give_the_same_events_and_errors(step: int, stream: type[_Dribble]) -> None:
    """Tokens split across reads take the token-by-token path: same events, same errors."""
    plain = dir_nar(
        (b"f", tokens(b"regular", b"contents", b"x" * 20, b")")),
        (b"g", tokens(b"regular", b"contents", b"", b")")),
        (b"h", tokens(b"regular", b"executable", b"", b"contents", b"yz", b")")),
    )
    for data in (VALID, VALID[:-5], VALID[:77], VALID + b"x", plain, plain[:150]):
        assert _events_and_error(stream(data, step)) == _events_and_error(io.BytesIO(data))


def test_input_takes_more_than_its_buffer_holds() -> None:
    from nix_compat.nar.input import READ_SIZE, NarInput

    data = bytes(range(256)) * (3 * READ_SIZE // 256)
    source = NarInput(_DribbleInto(data, 70_001))
    assert source.take(5, "a start") == data[:5]
    assert source.take(2 * READ_SIZE, "a long run") == data[5 : 5 + 2 * READ_SIZE]
    assert source.offset == 5 + 2 * READ_SIZE
    with pytest.raises(NarError, match="truncated while reading the rest") as caught:
        source.take(READ_SIZE, "the rest")
    assert caught.value.offset == len(data)
