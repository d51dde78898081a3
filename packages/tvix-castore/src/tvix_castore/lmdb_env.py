"""One shared LMDB environment per path, used by both lmdb backends.

``lmdb:///path`` names a directory holding one LMDB environment with three
named databases: ``blobs`` (digest → blob header, or the whole blob when it is
small), ``chunks`` (chunk-set id ‖ chunk index → 1 MiB of data), ``pending``
(chunk sets of uploads in progress) and ``directories`` (digest → canonical
Directory encoding). A blob service and a
directory service opened on the same path share the environment, as LMDB
requires within one process.

Durability: each put is one LMDB transaction, so a commit is atomic and never
half-visible, and a committed put survives a crash of the process. The
environment is flushed to disk (fsync) when a directory graph is committed and
when a service is closed (``?sync=graph``, the default); ``?sync=always``
flushes on every commit instead (slower, survives power loss at any point);
``?sync=none`` never flushes, leaving the data to the kernel's writeback, for
a store that may be lost with the machine (a cache, a CI job), as Nix's
``fsync-metadata = false`` does. While blob data streams in, a flush also
starts on a helper thread after every :data:`FLUSH_AHEAD_BYTES`, so that the
data goes to disk while the upload goes on and the flush that makes a graph
durable has little left to write.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from typing import Any

from tvix_castore.errors import InvalidUrlError, StorageError
from tvix_castore.registry import ServiceUrl, require_no_host, require_no_query

DEFAULT_MAP_SIZE = 1 << 40
"""Address space reserved for the map (the file only grows as data is written)."""

FLUSH_AHEAD_BYTES = 64 << 20
"""Blob data committed since the last flush that makes a flush start in the background."""

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


class LmdbEnvironment:
    """An open environment with its three databases (shared and reference-counted)."""

    def __init__(self, path: str, map_size: int, sync: str, temporary: bool) -> None:
        import lmdb

        self.path = path
        self.temporary = temporary
        self.sync_always = sync == "always"
        self.durable = sync != "none"
        self.map_size = map_size
        try:
            os.makedirs(path, exist_ok=True)
            self.env: Any = lmdb.open(
                path,
                map_size=map_size,
                max_dbs=8,
                max_readers=1024,
                sync=self.sync_always,
                metasync=self.sync_always,
                readahead=False,
            )
            self.blobs: Any = self.env.open_db(b"blobs")
            self.chunks: Any = self.env.open_db(b"chunks")
            self.directories: Any = self.env.open_db(b"directories")
            self.pending: Any = self.env.open_db(b"pending")
        except (OSError, lmdb.Error) as e:
            raise StorageError(f"unable to open lmdb store at {path}: {e}") from None
        self._refs = 0
        self._flush_lock = threading.Lock()
        self._unflushed = 0
        self._flusher: threading.Thread | None = None

    def flush(self) -> None:
        """Force committed data to disk (unless the store was opened with ``sync=none``)."""
        import lmdb

        if not self.durable:
            return
        try:
            self.env.sync(True)
        except lmdb.Error as e:
            raise StorageError(f"unable to flush lmdb store at {self.path}: {e}") from None

    def committed(self, size: int) -> None:
        """Note that ``size`` bytes of data were committed; may start a flush in the background."""
        if self.sync_always or not self.durable:
            return
        with self._flush_lock:
            self._unflushed += size
            if self._unflushed < FLUSH_AHEAD_BYTES or (
                self._flusher is not None and self._flusher.is_alive()
            ):
                return
            self._unflushed = 0
            self._flusher = threading.Thread(
                target=self._flush_ahead, name="lmdb-flush-ahead", daemon=True
            )
            self._flusher.start()

    def _flush_ahead(self) -> None:
        import lmdb

        with contextlib.suppress(lmdb.Error):  # the flush that counts reports failures
            self.env.sync(True)

    def close(self) -> None:
        """Close the environment, once a flush running in the background is done with it."""
        with self._flush_lock:
            flusher, self._flusher = self._flusher, None
        if flusher is not None:
            flusher.join()
        self.env.close()


_lock = threading.Lock()
_open: dict[str, LmdbEnvironment] = {}


def _parse_size(url: ServiceUrl, text: str) -> int:
    raw = text.strip().lower().removesuffix("ib").removesuffix("b")
    unit = raw[-1:] if raw[-1:] in _UNITS and raw[-1:] else ""
    number = raw[: len(raw) - len(unit)]
    try:
        value = int(number) * _UNITS[unit]
    except ValueError:
        raise InvalidUrlError(
            f"invalid url {url.text!r}: map_size {text!r} is not a size"
        ) from None
    if value <= 0:
        raise InvalidUrlError(f"invalid url {url.text!r}: map_size must be positive")
    return value


def open_environment(url: ServiceUrl) -> LmdbEnvironment:
    """Open (or share) the environment a ``lmdb://`` URL names.

    ``lmdb://`` (no path) gives a fresh temporary store that is deleted when
    closed; ``lmdb:///`` and relative paths are refused, as is a host.
    Parameters: ``map_size`` (e.g. ``64GiB``) and ``sync`` (``graph``, ``always`` or
    ``none``).
    """
    require_no_host(url)
    require_no_query(url, frozenset({"map_size", "sync"}))
    map_size = _parse_size(url, url.query["map_size"]) if "map_size" in url.query else None
    sync = url.query.get("sync", "graph")
    if sync not in ("always", "graph", "none"):
        raise InvalidUrlError(f"invalid url {url.text!r}: sync must be 'graph', 'always' or 'none'")
    if url.path == "":
        env = LmdbEnvironment(
            tempfile.mkdtemp(prefix="tvix-castore-"),
            map_size or DEFAULT_MAP_SIZE,
            sync,
            temporary=True,
        )
        env._refs = 1
        return env
    if url.path == "/":
        raise InvalidUrlError(f"invalid url {url.text!r}: cowardly refusing to open / with lmdb")
    if not url.path.startswith("/"):
        raise InvalidUrlError(f"invalid url {url.text!r}: the path must be absolute (lmdb:///path)")
    path = os.path.realpath(url.path)
    with _lock:
        shared = _open.get(path)
        if shared is None:
            shared = LmdbEnvironment(path, map_size or DEFAULT_MAP_SIZE, sync, False)
            _open[path] = shared
        shared._refs += 1
        return shared


def release_environment(env: LmdbEnvironment) -> None:
    """Drop one reference; the last one flushes and closes (and deletes a temporary store)."""
    with _lock:
        env._refs -= 1
        if env._refs > 0:
            return
        _open.pop(env.path, None)
    try:
        env.flush()
    finally:
        env.close()
        if env.temporary:
            shutil.rmtree(env.path, ignore_errors=True)
