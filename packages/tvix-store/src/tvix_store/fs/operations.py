"""The read-only filesystem operations behind ``tvix-store mount``.

The operations are path based (libfuse's high-level API, through mfusepy) and
need no mount to be exercised: each raises :class:`OSError` with the errno the
kernel should see. The first path component must be a store path base name
known to the PathInfoService; below it the castore tree is walked.

Errors: an unknown or malformed name is ENOENT, a path through a file is
ENOTDIR, opening a directory EISDIR, readlink of a non-symlink EINVAL, listing
the root without ``list_root`` EPERM, and store failures (a directory or blob
that vanished, a backend that fails) EIO — never partial data.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from nix_compat.errors import NixCompatError
from nix_compat.store_path import StorePath
from tvix_castore.blobservice.base import BlobService
from tvix_castore.digests import B3Digest
from tvix_castore.directory import ChildNode, DirectoryNode, FileNode, SymlinkNode, iter_nodes
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import CastoreError

from tvix_store.fs.handle import BlobHandle
from tvix_store.fs.inodes import ROOT_INO, InodeTracker
from tvix_store.pathinfo import path_info_root_node
from tvix_store.pathinfoservice.base import PathInfoService

__all__ = ["StoreFs"]

log = logging.getLogger("tvix_store.fs")

CACHE_SIZE = 16384
"""Resolved paths and listed directories remembered (the store is immutable)."""
BLOCK_SIZE = 4096
STORE_MTIME_NS = 1_000_000_000
"""Timestamps as in a real /nix/store, where Nix sets every mtime to 1 (in ns: ``use_ns``)."""


def _error(code: int, detail: str = "") -> OSError:
    if detail:
        log.debug("%s: %s", os.strerror(code), detail)
    return OSError(code, os.strerror(code))


@dataclass(frozen=True, slots=True)
class _Listing:
    """A directory's children in name order and by name."""

    children: tuple[ChildNode, ...]
    by_name: dict[bytes, ChildNode]


class _Lru:
    def __init__(self, size: int) -> None:
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            if len(self._data) > self._size:
                self._data.popitem(last=False)


class StoreFs:
    """Filesystem operations presenting a store as ``/nix/store``, read-only."""

    use_ns = True

    def __init__(
        self,
        blob_service: BlobService,
        directory_service: DirectoryService,
        path_info_service: PathInfoService,
        *,
        list_root: bool = False,
    ) -> None:
        self._blobs = blob_service
        self._directories = directory_service
        self._path_infos = path_info_service
        self.list_root = list_root
        self.inodes = InodeTracker()
        self._paths = _Lru(CACHE_SIZE)
        self._listings = _Lru(CACHE_SIZE)
        self._handles: dict[int, BlobHandle] = {}
        self._next_fh = 1
        self._fh_lock = threading.Lock()

    # Resolution

    def _root_entry(self, name: str) -> ChildNode:
        try:
            store_path = StorePath.from_basename(name)
        except NixCompatError:
            raise _error(errno.ENOENT, f"{name!r} is not a store path") from None
        try:
            info = self._path_infos.get(store_path.digest)
        except CastoreError as e:
            raise _error(errno.EIO, f"looking up {name}: {e}") from None
        if info is None:
            raise _error(errno.ENOENT, f"{name} is not in the store")
        root = path_info_root_node(info)
        if root.name != name.encode():
            raise _error(errno.ENOENT, f"{name} is stored under another name")
        return root

    def _listing(self, node: DirectoryNode) -> _Listing:
        cached: _Listing | None = self._listings.get(bytes(node.digest))
        if cached is not None:
            return cached
        try:
            digest = B3Digest(node.digest)
            directory = self._directories.get(digest)
        except CastoreError as e:
            raise _error(errno.EIO, f"reading directory {node.name!r}: {e}") from None
        if directory is None:
            raise _error(errno.EIO, f"directory {digest} is missing from the store")
        children = tuple(iter_nodes(directory))
        listing = _Listing(children, {child.name: child for child in children})
        self._listings.put(bytes(node.digest), listing)
        return listing

    def resolve(self, path: str) -> ChildNode | None:
        """The node at ``path`` (None for the root of the mount), or an OSError."""
        path = path.rstrip("/")
        if not path:
            return None
        cached: ChildNode | None = self._paths.get(path)
        if cached is not None:
            return cached
        # Walk up to the deepest cached ancestor, then down again (no recursion: paths may be deep).
        missing: list[str] = []
        prefix = path
        node: ChildNode | None = None
        while prefix:
            prefix, _, name = prefix.rpartition("/")
            missing.append(name)
            if prefix:
                node = self._paths.get(prefix)
                if node is not None:
                    break
        walked = prefix
        for name in reversed(missing):
            if node is None:
                node = self._root_entry(name)
            elif not isinstance(node, DirectoryNode):
                raise _error(errno.ENOTDIR, path)
            else:
                found = self._listing(node).by_name.get(os.fsencode(name))
                if found is None:
                    raise _error(errno.ENOENT, path)
                node = found
            walked = f"{walked}/{name}"
            self._paths.put(walked, node)
        return node

    # Attributes

    def _attrs(self, node: ChildNode | None) -> dict[str, int]:
        if node is None:
            mode, size, ino = stat.S_IFDIR | 0o555, 0, ROOT_INO
        else:
            ino = self.inodes.inode_of(node)
            if isinstance(node, DirectoryNode):
                mode, size = stat.S_IFDIR | 0o555, node.size
            elif isinstance(node, FileNode):
                mode = stat.S_IFREG | (0o555 if node.executable else 0o444)
                size = node.size
            else:
                mode, size = stat.S_IFLNK | 0o777, len(node.target)
        return {
            "st_mode": mode,
            "st_ino": ino,
            "st_nlink": 1,
            "st_size": size,
            "st_uid": 0,
            "st_gid": 0,
            "st_atime": STORE_MTIME_NS,
            "st_mtime": STORE_MTIME_NS,
            "st_ctime": STORE_MTIME_NS,
            "st_blksize": BLOCK_SIZE,
            "st_blocks": (size + 511) // 512,
        }

    def getattr(self, path: str, fh: int | None = None) -> dict[str, int]:
        """stat(2) of ``path``: modes 0555/0444, sizes, content-shared inode numbers."""
        return self._attrs(self.resolve(path))

    def readlink(self, path: str) -> str:
        """The target of a symlink; EINVAL for anything else."""
        node = self.resolve(path)
        if not isinstance(node, SymlinkNode):
            raise _error(errno.EINVAL, path)
        return os.fsdecode(node.target)

    # Directories

    def _root_names(self) -> Iterator[tuple[str, dict[str, int], int]]:
        try:
            for info in self._path_infos.list():
                root = path_info_root_node(info)
                yield os.fsdecode(root.name), self._attrs(root), 0
        except CastoreError as e:
            raise _error(errno.EIO, f"listing the store: {e}") from None

    def readdir(self, path: str, fh: int) -> list[str | tuple[str, dict[str, int], int]]:
        """``.``, ``..`` and the entries, with modes and inode numbers."""
        node = self.resolve(path)
        entries: list[str | tuple[str, dict[str, int], int]] = [".", ".."]
        if node is None:
            if not self.list_root:
                raise _error(errno.EPERM, "listing the store root is disabled (--list-root)")
            entries.extend(self._root_names())
            return entries
        if not isinstance(node, DirectoryNode):
            raise _error(errno.ENOTDIR, path)
        for child in self._listing(node).children:
            entries.append((os.fsdecode(child.name), self._attrs(child), 0))
        return entries

    def opendir(self, path: str) -> int:
        """Allow opening directories (and the root); files are ENOTDIR."""
        node = self.resolve(path)
        if node is not None and not isinstance(node, DirectoryNode):
            raise _error(errno.ENOTDIR, path)
        return 0

    # Files

    def open(self, path: str, flags: int) -> int:
        """Open a regular file for reading; directories are EISDIR, writing is EROFS."""
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_TRUNC | os.O_APPEND):
            raise _error(errno.EROFS, path)
        node = self.resolve(path)
        if node is None or isinstance(node, DirectoryNode):
            raise _error(errno.EISDIR, path)
        if isinstance(node, SymlinkNode):
            raise _error(errno.ELOOP, path)
        try:
            digest = B3Digest(node.digest)
            reader = self._blobs.open_read(digest)
        except CastoreError as e:
            raise _error(errno.EIO, f"opening the contents of {path}: {e}") from None
        if reader is None:
            raise _error(errno.EIO, f"blob {digest} of {path} is missing from the store")
        with self._fh_lock:
            fh = self._next_fh
            self._next_fh += 1
            self._handles[fh] = BlobHandle(reader)
        return fh

    def read(self, path: str | None, size: int, offset: int, fh: int) -> bytes:
        """Up to ``size`` bytes at ``offset``; short only at the end of the file."""
        handle = self._handles.get(fh)
        if handle is None:
            raise _error(errno.EBADF, f"read of unknown handle {fh}")
        try:
            return handle.read(size, offset)
        except (CastoreError, OSError, ValueError) as e:
            raise _error(errno.EIO, f"reading {path}: {e}") from None

    def release(self, path: str | None, fh: int) -> int:
        """Close the blob reader behind ``fh``."""
        with self._fh_lock:
            handle = self._handles.pop(fh, None)
        if handle is not None:
            handle.close()
        return 0

    def statfs(self, path: str) -> dict[str, int]:
        """Plausible numbers for df: a full, read-only filesystem."""
        return {"f_bsize": BLOCK_SIZE, "f_frsize": BLOCK_SIZE, "f_namemax": 255}

    def close(self) -> None:
        """Close every open blob reader."""
        with self._fh_lock:
            handles, self._handles = self._handles, {}
        for handle in handles.values():
            handle.close()
