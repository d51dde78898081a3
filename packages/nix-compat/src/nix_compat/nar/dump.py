"""Serialise a filesystem tree as NAR, exactly like ``nix-store --dump``, and hash it.

Entries are sorted by their byte names, a regular file is executable when its owner may execute
it, symlinks are stored as their target, and any other file type is an error. The walk keeps an
explicit stack, so deep trees do not hit Python's recursion limit.
"""

from __future__ import annotations

import hashlib
import os
import queue
import stat
import threading

from nix_compat.nar.errors import NarError
from nix_compat.nar.wire import BinarySink, FsPath
from nix_compat.nar.writer import DirectoryWriter, NodeWriter, open_nar_writer

__all__ = ["HashingSink", "dump_path", "nar_hash_path"]

SMALL_FILE = 1024 * 1024
"""Files up to this size are read with a single system call."""

_OPEN_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW


class HashingSink:
    """A sink that counts and sha256-hashes what is written to it."""

    __slots__ = ("_hasher", "size")

    def __init__(self) -> None:
        self._hasher = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        self._hasher.update(data)
        n = len(data)
        self.size += n
        return n

    def digest(self) -> bytes:
        """The sha256 digest of everything written so far."""
        return self._hasher.digest()


class _BackgroundHashingSink:
    """Counts and sha256-hashes, moving the hashing to a second thread once output is large.

    hashlib releases the GIL while hashing large buffers, so walking the tree and hashing the
    buffered output of many small files run in parallel. The thread is started only when a core
    looks idle (see :func:`_has_spare_core`) and the archive is past ``_INLINE_LIMIT``; until
    then hashing is inline. Memoryviews of the writer's reused chunk buffer (the content of
    large files) are hashed inline too, after the queue has drained: copying them would cost
    more than it saves. At most ``_QUEUE_DEPTH`` buffers wait, which bounds memory.
    """

    def __init__(self) -> None:
        self._hasher = hashlib.sha256()
        self.size = 0
        self._queue: queue.SimpleQueue[bytes | bytearray | threading.Event | None] | None = None
        self._slots = threading.Semaphore(_QUEUE_DEPTH)
        self._thread: threading.Thread | None = None
        self._pending = False
        self._spare_core = _has_spare_core()

    def _run(self) -> None:
        assert self._queue is not None
        update = self._hasher.update
        get = self._queue.get
        release = self._slots.release
        while (data := get()) is not None:
            if isinstance(data, threading.Event):
                data.set()
            else:
                update(data)
                release()

    def _drain(self) -> None:
        """Wait until the hashing thread has consumed everything queued so far."""
        if self._queue is not None and self._pending:
            done = threading.Event()
            self._queue.put(done)
            done.wait()
            self._pending = False

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        n = len(data)
        self.size += n
        if isinstance(data, memoryview):
            self._drain()
            self._hasher.update(data)
            return n
        if self._queue is None:
            if self.size <= _INLINE_LIMIT or not self._spare_core:
                self._hasher.update(data)
                return n
            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._run, name="nar-hash", daemon=True)
            self._thread.start()
        self._slots.acquire()
        self._queue.put(data)
        self._pending = True
        return n

    def close(self) -> None:
        """Wait for the hashing thread, if any, to catch up, and stop it."""
        if self._queue is not None and self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = None

    def digest(self) -> bytes:
        """The sha256 digest of everything written; call after :meth:`close`."""
        return self._hasher.digest()


_QUEUE_DEPTH = 16
_INLINE_LIMIT = 4 * 1024 * 1024


def _has_spare_core() -> bool:
    """Whether a second hashing thread would likely get a core of its own.

    On a machine whose cores are all busy the thread only adds hand-over costs, so hashing
    stays inline there.
    """
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:
        return cores > 1
    return cores > 1 and load <= cores - 1


def nar_hash_path(fs_path: FsPath) -> tuple[int, bytes]:
    """Return ``(nar_size, sha256 digest)`` of the NAR serialisation of ``fs_path``."""
    sink = _BackgroundHashingSink()
    try:
        dump_path(fs_path, sink)
    finally:
        sink.close()
    return sink.size, sink.digest()


def dump_path(fs_path: FsPath, sink: BinarySink) -> None:
    """Write the NAR serialisation of the file, symlink or directory at ``fs_path`` to ``sink``.

    Raises :class:`NarError` for file types NAR cannot hold (sockets, FIFOs, devices) and for
    files that change size while being read; ``OSError`` from the filesystem passes through.
    """
    path = os.fsencode(fs_path)
    root = open_nar_writer(sink)
    st = os.lstat(path)
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        _dump_tree(path, root.directory())
    elif stat.S_ISREG(mode):
        _dump_file(path, mode, st.st_size, root)
    elif stat.S_ISLNK(mode):
        root.symlink(os.readlink(path))
    else:
        raise _unsupported(path)


def _unsupported(path: bytes) -> NarError:
    return NarError(f"file {os.fsdecode(path)!r} has an unsupported type")


def _read_small_file(path: bytes, size: int) -> bytes:
    """The whole content of a file of ``size`` bytes, checked to still have that size."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        # A short read from a regular file means end of file, so one read of one byte more
        # than expected both fetches the content and proves the file did not grow.
        data = os.read(fd, size + 1)
    finally:
        os.close(fd)
    if len(data) != size:
        raise _changed(path, size)
    return data


def _dump_file(path: bytes, mode: int, size: int, node: NodeWriter) -> None:
    executable = bool(mode & stat.S_IXUSR)
    if size <= SMALL_FILE:
        node.file_contents(executable, _read_small_file(path, size))
        return
    with open(os.open(path, _OPEN_FLAGS), "rb", buffering=0) as f:
        try:
            node.file(executable, size, f)
        except NarError as e:
            raise NarError(f"file {os.fsdecode(path)!r}: {e.reason}", e.offset) from None


def _changed(path: bytes, size: int) -> NarError:
    return NarError(f"file {os.fsdecode(path)!r} changed size while being read (expected {size})")


def _sorted_entries(path: bytes) -> list[os.DirEntry[bytes]]:
    with os.scandir(path) as it:
        entries = list(it)
    entries.sort(key=_entry_name)
    return entries


def _entry_name(entry: os.DirEntry[bytes]) -> bytes:
    return entry.name


def _dump_tree(root_path: bytes, root: DirectoryWriter) -> None:
    stack: list[tuple[DirectoryWriter, list[os.DirEntry[bytes]], int]] = [
        (root, _sorted_entries(root_path), 0)
    ]
    while stack:
        directory, entries, index = stack.pop()
        while index < len(entries):
            entry = entries[index]
            index += 1
            if entry.is_file(follow_symlinks=False):
                st = entry.stat(follow_symlinks=False)
                size = st.st_size
                if not stat.S_ISREG(st.st_mode):
                    raise _unsupported(entry.path)
                if size > SMALL_FILE:
                    _dump_file(entry.path, st.st_mode, size, directory.entry(entry.name))
                    continue
                data = _read_small_file(entry.path, size)
                directory.add_file(entry.name, bool(st.st_mode & stat.S_IXUSR), data)
            elif entry.is_symlink():
                directory.add_symlink(entry.name, os.readlink(entry.path))
            elif entry.is_dir(follow_symlinks=False):
                stack.append((directory, entries, index))
                child = directory.entry(entry.name).directory()
                stack.append((child, _sorted_entries(entry.path), 0))
                break
            else:
                raise _unsupported(entry.path)
        else:
            directory.close()
