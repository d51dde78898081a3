"""The store behind an evaluation: tvix-store services (castore blobs and directories plus
PathInfo records) reached by URL, with the few operations the evaluator needs.

Everything written gets the store path C++ Nix would give it: text files (``toFile``, ``.drv``
files) are text-addressed with their references, sources are NAR-addressed ("source" paths),
flat files are fixed-output paths. Services are opened lazily by :class:`LazyStore`, so an
evaluation that never touches the store never loads lmdb or grpc.
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, ParamSpec, TypeVar

if TYPE_CHECKING:
    from tvix_castore.blobservice.base import BlobService
    from tvix_castore.directory import ChildNode
    from tvix_castore.directoryservice.base import DirectoryService
    from tvix_store.pathinfoservice.base import PathInfoService

STORE_DIR = "/nix/store"

FileType = Literal["directory", "regular", "symlink", "unknown"]
#: ``keep(absolute path, type)``: whether a filtered import keeps an entry
KeepFilter = Callable[[str, str], bool]


class StoreError(Exception):
    """The store cannot be opened or an operation on it failed (message for the user)."""


P = ParamSpec("P")
R = TypeVar("R")


def _reported(method: Callable[P, R]) -> Callable[P, R]:
    """Turn any failure of a backend (gRPC, lmdb, validation) into a :class:`StoreError`.

    Errors of Nix code the operation ran (a ``filterSource`` filter) pass through unchanged.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from tvix_eval.errors import NixError

        try:
            return method(*args, **kwargs)
        except (StoreError, NixError):
            raise
        except Exception as e:
            raise StoreError(str(e) or type(e).__name__) from None

    return wrapper


def default_store_url() -> str:
    """The embedded store: ``lmdb://$XDG_DATA_HOME/tvix/store`` (``~/.local/share/tvix/store``)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return f"lmdb://{os.path.abspath(os.path.join(base, 'tvix', 'store'))}"


@dataclass
class _Services:
    blobs: BlobService
    directories: DirectoryService
    path_infos: PathInfoService


def split_store_path(path: str) -> tuple[str, str] | None:
    """``(/nix/store/<hash>-<name>, rest below it)`` for a path inside the store, else None."""
    prefix = STORE_DIR + "/"
    if not path.startswith(prefix):
        return None
    top, _, rest = path[len(prefix) :].partition("/")
    if len(top) < 34 or top[32] != "-":
        return None
    return prefix + top, rest


class Store:
    """A tvix store reached through its three services (see :func:`open_store`)."""

    def __init__(self, services: _Services, url: str) -> None:
        self._s = services
        self.url = url

    # ------------------------------------------------------------------ writing

    def _has(self, store_path: str) -> bool:
        from nix_compat.store_path import StorePath

        return self._s.path_infos.get(StorePath.from_absolute_path(store_path).digest) is not None

    @_reported
    def add_text(
        self, name: str, data: bytes, references: list[str], path: str | None = None
    ) -> str:
        """Write a text file (``toFile``, a ``.drv``) as a text-addressed store path.

        ``path`` is that store path when the caller has already computed it.
        """
        import hashlib

        from nix_compat.nixhash import TextHash
        from nix_compat.store_path import StorePath, build_text_path
        from tvix_castore.directory import FileNode
        from tvix_store.pathinfo import build_path_info

        if path is not None:
            store_path = StorePath.from_absolute_path(path)
        else:
            store_path = build_text_path(name, data, references)
        absolute = store_path.to_absolute_path()
        if self._has(absolute):
            return absolute
        digest = self._s.blobs.put(data)
        node = FileNode(name=str(store_path).encode(), digest=digest, size=len(data))
        info = build_path_info(
            node,
            *_file_nar(data, False),
            references=[StorePath.from_absolute_path(r) for r in sorted(set(references))],
            ca=TextHash(hashlib.sha256(data).digest()),
        )
        self._s.path_infos.put(info)
        return absolute

    @_reported
    def add_path(
        self, path: str, name: str, *, recursive: bool = True, keep: KeepFilter | None = None
    ) -> str:
        """Copy a file or tree into the store (interpolation, ``builtins.path``, filters)."""
        import hashlib

        from nix_compat.nixhash import FlatHash, HashAlgo, NarHash, NixHash
        from nix_compat.store_path import build_ca_path
        from tvix_castore.directory import FileNode, rename_node
        from tvix_store.pathinfo import build_path_info

        if recursive:
            root = self._ingest(path, keep)
            nar_size, nar_sha256 = self._s.path_infos.calculate_nar(root)
            ca: NarHash | FlatHash = NarHash(NixHash(HashAlgo.SHA256, nar_sha256))
        else:
            try:
                with open(path, "rb") as f:
                    data = f.read()
                executable = bool(os.stat(path).st_mode & 0o100)
            except IsADirectoryError:
                raise StoreError("reading from file: Is a directory") from None
            except OSError as e:
                raise StoreError(f"opening file '{path}': {e.strerror}") from None
            digest = self._s.blobs.put(data)
            root = FileNode(name=b"x", digest=digest, size=len(data), executable=executable)
            nar_size, nar_sha256 = _file_nar(data, executable)
            ca = FlatHash(NixHash(HashAlgo.SHA256, hashlib.sha256(data).digest()))
        store_path = build_ca_path(name, ca)
        absolute = store_path.to_absolute_path()
        if not self._has(absolute):
            info = build_path_info(
                rename_node(root, str(store_path).encode()), nar_size, nar_sha256, ca=ca
            )
            self._s.path_infos.put(info)
        return absolute

    def _ingest(self, path: str, keep: KeepFilter | None) -> ChildNode:
        if keep is None:
            from tvix_castore.errors import CastoreError
            from tvix_castore.importer import import_path

            try:
                return import_path(path, self._s.blobs, self._s.directories, workers=0)
            except CastoreError as e:
                raise StoreError(str(e)) from None
        return _FilteredIngest(self._s, keep).node(path, b"x")

    # ------------------------------------------------------------------ reading

    def _node(self, path: str) -> ChildNode | None:
        """The castore node at ``path`` if its store path is in this store, else None."""
        from nix_compat.errors import NixCompatError
        from nix_compat.store_path import StorePath
        from tvix_castore.directoryservice.traverse import descend_to
        from tvix_store.pathinfo import path_info_root_node

        parts = split_store_path(path)
        if parts is None:
            return None
        top, rest = parts
        try:
            digest = StorePath.from_absolute_path(top).digest
        except NixCompatError:
            return None
        info = self._s.path_infos.get(digest)
        if info is None:
            return None
        root = path_info_root_node(info)
        if not rest:
            return root
        return descend_to(self._s.directories, root, rest)

    @_reported
    def contains(self, path: str) -> bool:
        """Whether the store has the store path ``path`` lies in."""
        parts = split_store_path(path)
        return parts is not None and self._node(parts[0]) is not None

    @_reported
    def path_exists(self, path: str) -> bool | None:
        """True/False inside a store path this store has; None when the store has no say."""
        parts = split_store_path(path)
        if parts is None or self._node(parts[0]) is None:
            return None
        return self._node(path) is not None

    @_reported
    def read_file(self, path: str) -> bytes | None:
        """The contents of a file inside a known store path (None when the store has no say)."""
        from tvix_castore.digests import B3Digest
        from tvix_castore.directory import DirectoryNode, FileNode

        node = self._node(path)
        if node is None:
            return None
        if isinstance(node, DirectoryNode):
            raise StoreError(f"reading file '{path}': Is a directory")
        if not isinstance(node, FileNode):
            raise StoreError(f"reading file '{path}': is a symlink")
        data = self._s.blobs.read_all(B3Digest(node.digest))
        if data is None:
            raise StoreError(f"the contents of '{path}' are missing from the blob service")
        return data

    @_reported
    def read_dir(self, path: str) -> list[tuple[str, FileType]] | None:
        """The entries of a directory inside a known store path (None when the store has no say)."""
        from tvix_castore.digests import B3Digest
        from tvix_castore.directory import DirectoryNode

        node = self._node(path)
        if node is None:
            return None
        if not isinstance(node, DirectoryNode):
            raise StoreError(f"opening directory '{path}': Not a directory")
        directory = self._s.directories.get(B3Digest(node.digest))
        if directory is None:
            raise StoreError(f"directory of '{path}' is missing from the directory service")
        out: list[tuple[str, FileType]] = []
        out += [(d.name.decode(), "directory") for d in directory.directories]
        out += [(f.name.decode(), "regular") for f in directory.files]
        out += [(s.name.decode(), "symlink") for s in directory.symlinks]
        return sorted(out)

    @_reported
    def is_dir(self, path: str) -> bool | None:
        """Whether ``path`` is a directory inside a known store path (None: no say)."""
        from tvix_castore.directory import DirectoryNode

        parts = split_store_path(path)
        if parts is None or self._node(parts[0]) is None:
            return None
        return isinstance(self._node(path), DirectoryNode)

    @_reported
    def references(self, store_path: str) -> list[str] | None:
        """The references recorded for a store path, or None if the store lacks it."""
        from nix_compat.store_path import StorePath
        from tvix_store.pathinfo import summarize

        info = self._s.path_infos.get(StorePath.from_absolute_path(store_path).digest)
        if info is None:
            return None
        return [r.to_absolute_path() for r in summarize(info).references]

    def close(self) -> None:
        """Close the services (flushes nothing: every put is already durable)."""
        for service in (self._s.path_infos, self._s.directories, self._s.blobs):
            with contextlib.suppress(Exception):  # closing is best effort
                service.close()


def _file_nar(data: bytes, executable: bool) -> tuple[int, bytes]:
    """Size and sha256 of the NAR of a single regular file."""
    import hashlib

    h = hashlib.sha256()
    size = 0

    def put(s: bytes) -> None:
        nonlocal size
        chunk = len(s).to_bytes(8, "little") + s + b"\0" * (-len(s) % 8)
        h.update(chunk)
        size += len(chunk)

    for token in (b"nix-archive-1", b"(", b"type", b"regular"):
        put(token)
    if executable:
        put(b"executable")
        put(b"")
    put(b"contents")
    put(data)
    put(b")")
    return size, h.digest()


class _FilteredIngest:
    """Imports a tree into castore, keeping only the entries a filter accepts."""

    def __init__(self, services: _Services, keep: KeepFilter) -> None:
        self._s = services
        self._keep = keep

    def node(self, path: str, name: bytes) -> ChildNode:
        from tvix_castore.directory import (
            Directory,
            DirectoryNode,
            FileNode,
            SymlinkNode,
            directory_size,
        )

        try:
            st = os.lstat(path)
        except OSError as e:
            raise StoreError(f"getting status of '{path}': {e.strerror}") from None
        if stat.S_ISLNK(st.st_mode):
            return SymlinkNode(name=name, target=os.fsencode(os.readlink(path)))
        if stat.S_ISREG(st.st_mode):
            with open(path, "rb") as f:
                data = f.read()
            digest = self._s.blobs.put(data)
            return FileNode(
                name=name, digest=digest, size=len(data), executable=bool(st.st_mode & 0o100)
            )
        if not stat.S_ISDIR(st.st_mode):
            raise StoreError(f"file '{path}' has an unsupported type")
        directory = Directory()
        for entry in sorted(os.listdir(path), key=os.fsencode):
            child_path = path.rstrip("/") + "/" + entry
            child_mode = os.lstat(child_path).st_mode
            if not self._keep(child_path, _type_name(child_mode)):
                continue
            child = self.node(child_path, os.fsencode(entry))
            if isinstance(child, DirectoryNode):
                directory.directories.append(child)
            elif isinstance(child, FileNode):
                directory.files.append(child)
            else:
                directory.symlinks.append(child)
        digest = self._s.directories.put(directory)
        return DirectoryNode(name=name, digest=digest, size=directory_size(directory))


def _type_name(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "regular"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "unknown"


def _stderr_warning(message: str) -> None:
    sys.stderr.write(f"warning: {message}\n")


def open_store(url: str) -> Store:
    """Open the store a URL names: ``memory://``, ``lmdb:///dir``, ``grpc+unix:///socket``…

    ``lmdb://`` directories are created if missing. Raises :class:`StoreError`.
    """
    from tvix_castore.errors import CastoreError
    from tvix_castore.registry import blob_service_from_url, directory_service_from_url
    from tvix_store.pathinfoservice.registry import path_info_service_from_url

    if url.startswith("lmdb://"):
        directory = url[len("lmdb://") :].split("?", 1)[0]
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot open the store at '{directory}': {e.strerror}") from None
    opened: list[object] = []
    try:
        blobs = blob_service_from_url(url)
        opened.append(blobs)
        directories = directory_service_from_url(url)
        opened.append(directories)
        path_infos = path_info_service_from_url(url, blobs, directories)
    except (CastoreError, OSError, ValueError) as e:
        for service in opened:
            close = getattr(service, "close", None)
            if close is not None:
                close()
        raise StoreError(f"cannot open the store '{url}': {e}") from None
    except Exception as e:  # lmdb raises its own error classes
        raise StoreError(f"cannot open the store '{url}': {e}") from None
    return Store(_Services(blobs, directories, path_infos), url)


class LazyStore:
    """Opens the store on first use; an unusable *default* store may fall back to memory.

    ``url`` None means the default (``TVIX_STORE_ADDR`` or the embedded lmdb store). With
    ``fallback``, failing to open the default store prints one notice and uses ``memory://``
    instead (evaluation only; instantiation reports the error).
    """

    def __init__(
        self, url: str | None, *, fallback: bool, warn: Callable[[str], None] | None = None
    ) -> None:
        self.explicit = url is not None or bool(os.environ.get("TVIX_STORE_ADDR"))
        self.url = url or os.environ.get("TVIX_STORE_ADDR") or ""
        self.fallback = fallback
        self.warn = warn if warn is not None else _stderr_warning
        self._store: Store | None = None
        self._lock = threading.Lock()

    @property
    def opened(self) -> bool:
        """Whether the store has been opened."""
        return self._store is not None

    def get(self) -> Store:
        """The open store (opening it now if needed)."""
        store = self._store
        if store is None:
            with self._lock:
                if self._store is None:
                    self._store = self._open()
                store = self._store
        return store

    def _open(self) -> Store:
        if self.explicit:
            return open_store(self.url)
        if os.environ.get("NIX_REMOTE", "").startswith("dummy://"):
            reason = "NIX_REMOTE is a dummy store"
        else:
            try:
                return open_store(default_store_url())
            except StoreError as e:
                reason = str(e)
        if not self.fallback:
            raise StoreError(f"{reason}; pass --store URL to choose another store")
        self.warn(f"{reason}; using a temporary in-memory store instead")
        return open_store("memory://")

    def close(self) -> None:
        """Close the store if it was opened."""
        if self._store is not None:
            self._store.close()
            self._store = None
