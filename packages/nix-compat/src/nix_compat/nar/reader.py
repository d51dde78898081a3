"""A pull-based NAR reader that accepts only canonical archives.

Iterating a :class:`NarReader` yields one event per node in archive order: directories open and
close, symlinks carry their target, files carry a bounded-memory reader for their contents that
stays valid until the next event is requested (unread content is skipped). Anything that
``nix-store --dump`` would never produce is rejected with :class:`NarError` and the byte offset:
unknown or misplaced tokens, unsorted or duplicate entries, bad names, non-zero padding,
truncation and trailing data.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

from nix_compat.nar.errors import NarError
from nix_compat.nar.input import NarInput, NarPath, show_path
from nix_compat.nar.wire import (
    MAX_NAME_LEN,
    MAX_TARGET_LEN,
    TOK_ENT,
    TOK_EXE,
    TOK_REG,
    BinaryReader,
    invalid_name_reason,
    invalid_target_reason,
)

__all__ = [
    "NarDirectory",
    "NarDirectoryEnd",
    "NarEvent",
    "NarFile",
    "NarFileReader",
    "NarReader",
    "NarSymlink",
    "read_nar",
]

_READ_CHUNK = 1024 * 1024


class NarFileReader(io.RawIOBase):
    """The contents of one file in the archive, read straight from the underlying stream."""

    def __init__(self, source: NarInput, size: int, path: NarPath) -> None:
        super().__init__()
        self._source = source
        self._remaining = size
        self._path = path
        self._expired = False

    def readable(self) -> bool:
        return True

    @property
    def remaining(self) -> int:
        """Bytes of content not read yet."""
        return self._remaining

    def _check_current(self) -> None:
        if self._expired:
            raise NarError(
                f"contents of {show_path(self._path)} read after the reader moved on",
                self._source.offset,
            )

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        self._check_current()
        if not self._remaining:
            return 0
        view = memoryview(buffer).cast("B")
        if len(view) > self._remaining:
            view = view[: self._remaining]
        got = self._source.readinto(view)
        if not got:
            raise NarError(
                f"archive truncated in the contents of {show_path(self._path)}", self._source.offset
            )
        self._remaining -= got
        return got

    def read(self, size: int | None = -1, /) -> bytes:
        """Up to ``size`` bytes (all remaining bytes when negative); short only at the end."""
        want = self._remaining if size is None or size < 0 else min(size, self._remaining)
        self._check_current()
        parts: list[bytes | bytearray] = []
        while want:
            # Grow with the data that actually arrives, never by the declared size alone.
            chunk = bytearray(min(want, _READ_CHUNK))
            got = self.readinto(chunk)
            parts.append(chunk if got == len(chunk) else chunk[:got])
            want -= got
        return b"".join(parts)

    def _expire(self) -> None:
        """Skip what the consumer did not read, then refuse further reads."""
        if self._remaining:
            self._source.skip(self._remaining, ("the contents of", self._path))
            self._remaining = 0
        self._expired = True


@dataclass(frozen=True, slots=True)
class NarDirectory:
    """A directory starts; its entries follow until the matching :class:`NarDirectoryEnd`."""

    path: NarPath


@dataclass(frozen=True, slots=True)
class NarDirectoryEnd:
    """The directory at ``path`` has no more entries."""

    path: NarPath


@dataclass(frozen=True, slots=True)
class NarSymlink:
    """A symlink to ``target``."""

    path: NarPath
    target: bytes


@dataclass(frozen=True, slots=True)
class NarFile:
    """A regular file; ``contents`` reads its ``size`` bytes until the next event is pulled."""

    path: NarPath
    executable: bool
    size: int
    contents: NarFileReader


NarEvent = NarDirectory | NarDirectoryEnd | NarSymlink | NarFile


def read_nar(stream: BinaryReader) -> Iterator[NarEvent]:
    """Iterate the events of the canonical NAR archive read from ``stream``."""
    return iter(NarReader(stream))


class NarReader:
    """Reads one NAR archive from a binary stream; iterate it once for its events."""

    def __init__(self, stream: BinaryReader) -> None:
        self._input = NarInput(stream)

    @property
    def offset(self) -> int:
        """Offset in the stream of the next unread byte."""
        return self._input.offset

    def __iter__(self) -> Iterator[NarEvent]:
        return self._events()

    def _events(self) -> Iterator[NarEvent]:
        source = self._input
        source.expect(b"nix-archive-1", b"(", b"type")
        # Each open directory: its path and the name of its last entry so far.
        stack: list[tuple[NarPath, bytes | None]] = []
        path: NarPath = ()
        while True:
            # At the type of the node at ``path``; the usual kinds are matched whole.
            leaf = True
            if source.match(TOK_REG):
                yield from self._file(path, False)
            elif source.match(TOK_EXE):
                yield from self._file(path, True)
            else:
                start = source.offset
                kind = source.read_token("a node type")
                if kind == b"regular":
                    yield from self._file(path, self._executable_marker(path))
                elif kind == b"symlink":
                    source.expect(b"target")
                    target_start = source.offset
                    target = source.read_string(MAX_TARGET_LEN, ("the target of", path))
                    reason = invalid_target_reason(target)
                    if reason is not None:
                        raise NarError(f"{reason} at {show_path(path)}", target_start)
                    source.expect(b")")
                    yield NarSymlink(path, target)
                elif kind == b"directory":
                    leaf = False
                    stack.append((path, None))
                    yield NarDirectory(path)
                else:
                    raise NarError(f"unknown node type {kind!r} at {show_path(path)}", start)
            if leaf and stack:  # close the entry the leaf is in
                source.expect(b")")
            next_path = self._next_entry(stack)
            while next_path is None and stack:
                yield NarDirectoryEnd(stack.pop()[0])
                if stack:
                    source.expect(b")")
                next_path = self._next_entry(stack)
            if next_path is None:
                break
            path = next_path
        if not source.at_eof():
            raise NarError("trailing data after the end of the archive", source.offset)

    def _executable_marker(self, path: NarPath) -> bool:
        """Read what follows 'regular' up to 'contents'; whether the file is executable."""
        source = self._input
        start = source.offset
        tag = source.read_token("'executable' or 'contents'")
        executable = tag == b"executable"
        if executable:
            marker_start = source.offset
            marker = source.read_token("the empty string after 'executable'")
            if marker:
                raise NarError(f"expected '' after 'executable', found {marker!r}", marker_start)
            start = source.offset
            tag = source.read_token("'contents'")
        if tag != b"contents":
            raise NarError(f"expected 'contents' in file {show_path(path)}, found {tag!r}", start)
        return executable

    def _file(self, path: NarPath, executable: bool) -> Iterator[NarEvent]:
        """The file at ``path``, from its size on."""
        source = self._input
        size = source.read_u64(("the size of", path))
        contents = NarFileReader(source, size, path)
        try:
            yield NarFile(path, executable, size, contents)
        except GeneratorExit:
            contents._expired = True
            raise
        contents._expire()
        source.read_padding(size, ("the contents of", path))
        source.expect(b")")

    def _next_entry(self, stack: list[tuple[NarPath, bytes | None]]) -> NarPath | None:
        """Read the start of the next entry of the innermost directory, or its closing ')'."""
        if not stack:
            return None
        source = self._input
        dir_path, prev = stack[-1]
        if not source.match(TOK_ENT):
            start = source.offset
            token = source.read_token("'entry' or ')'")
            if token == b")":
                return None
            if token != b"entry":
                raise NarError(
                    f"expected 'entry' or ')' in {show_path(dir_path)}, found {token!r}", start
                )
            source.expect(b"(", b"name")
        name_start = source.offset
        name = source.read_string(MAX_NAME_LEN, ("an entry name in", dir_path))
        reason = invalid_name_reason(name)
        if reason is not None:
            raise NarError(f"{reason} in {show_path(dir_path)}", name_start)
        if prev is not None and name <= prev:
            relation = "duplicate" if name == prev else "unsorted"
            raise NarError(
                f"{relation} entry name {name!r} after {prev!r} in {show_path(dir_path)}",
                name_start,
            )
        stack[-1] = (dir_path, name)
        source.expect(b"node", b"(", b"type")
        return (*dir_path, name)
