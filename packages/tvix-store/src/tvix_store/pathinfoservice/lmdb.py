"""``lmdb:///path``: PathInfos in the embedded LMDB store, beside castore's data.

The records live in a ``pathinfo`` database of the same LMDB environment that
``lmdb:///path`` names for tvix_castore's blob and directory services (LMDB
allows one environment per path in a process, so they share it). Each put is
one transaction, flushed to disk before it returns: an acknowledged PathInfo
survives a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Self

from tvix_castore.blobservice.base import BlobService
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import StorageError
from tvix_castore.lmdb_env import LmdbEnvironment, open_environment, release_environment
from tvix_castore.registry import ServiceUrl

from tvix_store.pathinfoservice.local import LocalPathInfoService

DB_NAME = b"pathinfo"
LIST_BATCH = 256
"""Records read per read transaction while listing, so no transaction stays open long."""


class LmdbPathInfoService(LocalPathInfoService):
    """PathInfos (deterministic protobuf encodings) in an LMDB database keyed by digest."""

    def __init__(
        self, env: LmdbEnvironment, blob_service: BlobService, directory_service: DirectoryService
    ) -> None:
        import lmdb

        super().__init__(blob_service, directory_service)
        self._env = env
        self._closed = False
        try:
            self._db: Any = env.env.open_db(DB_NAME)
        except lmdb.Error as e:
            release_environment(env)
            raise StorageError(f"unable to open the pathinfo database in {env.path}: {e}") from None

    @classmethod
    def from_url(
        cls, url: ServiceUrl, blob_service: BlobService, directory_service: DirectoryService
    ) -> Self:
        """``lmdb:///abs/path`` (or ``lmdb://`` for a temporary store), as for castore."""
        return cls(open_environment(url), blob_service, directory_service)

    @property
    def _location(self) -> str:
        return f"the lmdb store at {self._env.path}"

    def _failure(self, action: str, error: Exception) -> StorageError:
        return StorageError(f"unable to {action} in {self._location}: {error}")

    def _load(self, digest: bytes) -> bytes | None:
        import lmdb

        try:
            with self._env.env.begin(db=self._db) as txn:
                value: bytes | None = txn.get(digest)
                return value
        except lmdb.Error as e:
            raise self._failure("look up a PathInfo", e) from None

    def _store(self, digest: bytes, data: bytes) -> None:
        import lmdb

        try:
            with self._env.env.begin(write=True, db=self._db) as txn:
                txn.put(digest, data)
        except lmdb.Error as e:
            raise self._failure("store a PathInfo", e) from None
        if not self._env.sync_always:
            self._env.flush()

    def _iter_records(self) -> Iterator[tuple[bytes, bytes]]:
        import lmdb

        after: bytes | None = None
        while True:
            try:
                with self._env.env.begin(db=self._db) as txn:
                    cursor = txn.cursor()
                    found = cursor.set_range(after) if after is not None else cursor.first()
                    batch: list[tuple[bytes, bytes]] = []
                    while found and len(batch) < LIST_BATCH:
                        key, value = bytes(cursor.key()), bytes(cursor.value())
                        if key != after:
                            batch.append((key, value))
                        found = cursor.next()
            except lmdb.Error as e:
                raise self._failure("list PathInfos", e) from None
            if not batch:
                return
            yield from batch
            after = batch[-1][0]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            release_environment(self._env)
