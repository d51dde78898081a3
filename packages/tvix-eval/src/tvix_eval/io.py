"""How the evaluator touches files and the store.

The evaluator never opens files itself: ``import``, ``readFile``, ``pathExists``, ``readDir`` and
copying a path to the store (when a path is interpolated into a string) all go through an
:class:`EvalIO`. :class:`PureIO` (the default) refuses every file access; :class:`FilesystemIO`
reads the real file system and computes store paths without writing anything; a store-backed
implementation lives in tvix-cli.
"""

from __future__ import annotations

import hashlib
import os
import stat
from typing import Literal

FileType = Literal["directory", "regular", "symlink", "unknown"]


class EvalIOError(Exception):
    """A file operation failed; the message is shown to the user after the path."""


class EvalIO:
    """The interface; every method of this base class refuses (pure evaluation)."""

    store_dir: str = "/nix/store"

    def path_exists(self, path: str) -> bool:
        """Whether ``path`` exists."""
        raise EvalIOError(f"access to path '{path}' is forbidden in pure evaluation mode")

    def read_file(self, path: str) -> bytes:
        """The contents of the file at ``path``."""
        raise EvalIOError(f"access to path '{path}' is forbidden in pure evaluation mode")

    def read_dir(self, path: str) -> list[tuple[str, FileType]]:
        """The entries of the directory at ``path``, with their types."""
        raise EvalIOError(f"access to path '{path}' is forbidden in pure evaluation mode")

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a directory (used to append ``default.nix`` on import)."""
        raise EvalIOError(f"access to path '{path}' is forbidden in pure evaluation mode")

    def import_path(self, path: str) -> str:
        """Copy ``path`` to the store; returns its store path."""
        raise EvalIOError(f"access to path '{path}' is forbidden in pure evaluation mode")

    def realpath(self, path: str) -> str:
        """The canonical form of ``path`` used as the import cache key."""
        return path


class PureIO(EvalIO):
    """No file access at all (the default)."""


class FilesystemIO(EvalIO):
    """Reads the real file system; ``import_path`` computes the store path but writes nothing."""

    def path_exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def read_file(self, path: str) -> bytes:
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError as e:
            raise EvalIOError(f"opening file '{path}': {e.strerror}") from None

    def read_dir(self, path: str) -> list[tuple[str, FileType]]:
        out: list[tuple[str, FileType]] = []
        try:
            entries = list(os.scandir(path))
        except OSError as e:
            raise EvalIOError(f"opening directory '{path}': {e.strerror}") from None
        for entry in entries:
            kind: FileType
            if entry.is_symlink():
                kind = "symlink"
            elif entry.is_dir():
                kind = "directory"
            elif entry.is_file():
                kind = "regular"
            else:
                kind = "unknown"
            out.append((entry.name, kind))
        return out

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(path)

    def realpath(self, path: str) -> str:
        return os.path.realpath(path)

    def import_path(self, path: str) -> str:
        if not os.path.lexists(path):
            raise EvalIOError(f"getting status of '{path}': No such file or directory")
        digest = hashlib.sha256()
        _nar_dump(path, digest)
        name = os.path.basename(path.rstrip("/")) or "root"
        return make_store_path("source", digest.hexdigest(), name, self.store_dir)


def make_store_path(kind: str, sha256_hex: str, name: str, store_dir: str = "/nix/store") -> str:
    """A content-addressed store path (``source`` paths without references)."""
    fingerprint = f"{kind}:sha256:{sha256_hex}:{store_dir}:{name}".encode()
    full = hashlib.sha256(fingerprint).digest()
    compressed = bytearray(20)
    for i, b in enumerate(full):
        compressed[i % 20] ^= b
    return f"{store_dir}/{_nixbase32(bytes(compressed))}-{name}"


_B32 = "0123456789abcdfghijklmnpqrsvwxyz"


def _nixbase32(data: bytes) -> str:
    n = (len(data) * 8 - 1) // 5 + 1
    out = []
    for i in range(n - 1, -1, -1):
        b = i * 5
        j, k = divmod(b, 8)
        c = data[j] >> k
        if j + 1 < len(data):
            c |= data[j + 1] << (8 - k)
        out.append(_B32[c & 0x1F])
    return "".join(out)


def _nar_str(h: hashlib._Hash, s: bytes) -> None:
    h.update(len(s).to_bytes(8, "little"))
    h.update(s)
    h.update(b"\0" * ((8 - len(s) % 8) % 8))


def _nar_dump(path: str, h: hashlib._Hash, top: bool = True) -> None:
    if top:
        _nar_str(h, b"nix-archive-1")
    _nar_str(h, b"(")
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        _nar_str(h, b"type")
        _nar_str(h, b"symlink")
        _nar_str(h, b"target")
        _nar_str(h, os.fsencode(os.readlink(path)))
    elif stat.S_ISDIR(st.st_mode):
        _nar_str(h, b"type")
        _nar_str(h, b"directory")
        for name in sorted(os.listdir(path), key=os.fsencode):
            _nar_str(h, b"entry")
            _nar_str(h, b"(")
            _nar_str(h, b"name")
            _nar_str(h, os.fsencode(name))
            _nar_str(h, b"node")
            _nar_dump(os.path.join(path, name), h, top=False)
            _nar_str(h, b")")
    else:
        _nar_str(h, b"type")
        _nar_str(h, b"regular")
        if st.st_mode & 0o100:
            _nar_str(h, b"executable")
            _nar_str(h, b"")
        _nar_str(h, b"contents")
        with open(path, "rb") as f:
            _nar_str(h, f.read())
    _nar_str(h, b")")
