"""How the evaluator touches files and the store.

The evaluator never opens files itself: ``import``, ``readFile``, ``pathExists``, ``readDir``,
copying a path to the store (when a path is interpolated into a string, ``builtins.path``,
``filterSource``), writing ``toFile`` texts and the fetchers all go through an :class:`EvalIO`.
:class:`PureIO` (the default) refuses every file access; :class:`FilesystemIO` reads the real file
system and computes store paths without writing anything; a store-backed implementation lives in
tvix-cli.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import hashlib

FileType = Literal["directory", "regular", "symlink", "unknown"]

#: ``keep(path, type)``: whether an entry below a path added to the store is kept
#: (``type`` is ``"regular"``, ``"directory"``, ``"symlink"`` or ``"unknown"``)
PathFilter = Callable[[str, str], bool]


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

    def add_path_to_store(
        self, path: str, name: str, recursive: bool, keep: PathFilter | None
    ) -> str:
        """Add ``path`` to the store as ``name`` (``builtins.path``, ``filterSource``); returns
        its store path.

        ``recursive`` adds the tree as a NAR (else the single file, flat); ``keep`` filters the
        entries below ``path``. The caller has checked that ``path`` exists.

        Default: computes the store path C++ Nix would give it and writes nothing. An unfiltered
        tree added under its own name goes through :meth:`import_path` (so an implementation
        overriding only that one is used for it); anything else is read from the file system.
        """
        import hashlib

        from tvix_eval.builtins import _store
        from tvix_eval.builtins.strings import base_name_of

        if keep is None and recursive and name == base_name_of(path):
            return self.import_path(path)
        if recursive:
            return _store.source_path(_store.nar_sha256(path, keep), name, self.store_dir)
        try:
            data = self.read_file(path)
        except EvalIOError as e:
            if str(e).endswith(": Is a directory"):
                # C++ Nix opens the directory fine and fails on reading it
                raise EvalIOError("reading from file: Is a directory") from None
            raise
        return _store.flat_path(hashlib.sha256(data).hexdigest(), name, self.store_dir)

    def add_text_to_store(self, name: str, data: bytes, references: list[str]) -> str:
        """Write a text file ``name`` holding ``data`` that refers to the store paths
        ``references`` (``builtins.toFile``); returns its store path.

        Default: computes the store path C++ Nix would give it and writes nothing.
        """
        from tvix_eval.builtins import _store

        return _store.text_path(name, data, references, self.store_dir)

    def fetch(self, kind: str, args: dict[str, Any]) -> str | dict[str, Any]:
        """Fetch something into the store for the builtin ``kind``; returns its store path, or
        for ``fetchGit``/``fetchMercurial``/``fetchTree`` a dict with ``outPath`` and whatever
        else the fetch reports (``rev``, ``revCount``…).

        ``args``: for ``fetchurl``/``fetchTarball`` ``url``, ``name`` and ``sha256`` (hex, or
        ``None``); for the others the url and the options given to the builtin.

        Default (no network): ``file://`` URLs of ``fetchurl``/``fetchTarball`` are read from
        the local file system and their store path computed (nothing is written); everything
        else is an :class:`EvalIOError` naming the URL.
        """
        from tvix_eval.builtins.fetchers import fetch_without_store

        return fetch_without_store(kind, args, self.store_dir)


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
        import hashlib

        if not os.path.lexists(path):
            raise EvalIOError(f"getting status of '{path}': No such file or directory")
        digest = hashlib.sha256()
        _nar_dump(path, digest)
        name = os.path.basename(path.rstrip("/")) or "root"
        return make_store_path("source", digest.hexdigest(), name, self.store_dir)


def make_store_path(kind: str, sha256_hex: str, name: str, store_dir: str = "/nix/store") -> str:
    """A content-addressed store path (``source`` paths without references)."""
    import hashlib

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
