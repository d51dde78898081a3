"""``lmdb:///path``: directories in the embedded LMDB store (see :mod:`tvix_castore.lmdb_env`)."""

from __future__ import annotations

from typing import Self

from tvix_castore.blobservice.lmdb import lmdb_failure
from tvix_castore.directoryservice.local import LocalDirectoryService
from tvix_castore.lmdb_env import LmdbEnvironment, open_environment, release_environment
from tvix_castore.registry import ServiceUrl


class LmdbDirectoryService(LocalDirectoryService):
    """Directories (canonical encodings) in the ``directories`` database of an LMDB environment.

    A graph uploaded through a putter is written in one transaction and then
    flushed to disk.
    """

    def __init__(self, env: LmdbEnvironment) -> None:
        self._env = env
        self._closed = False

    @classmethod
    def from_url(cls, url: ServiceUrl) -> Self:
        """``lmdb:///abs/path``, or ``lmdb://`` for a temporary store."""
        return cls(open_environment(url))

    @property
    def environment(self) -> LmdbEnvironment:
        """The shared LMDB environment."""
        return self._env

    @property
    def _location(self) -> str:
        return f"the lmdb store at {self._env.path}"

    def _load(self, digest: bytes) -> bytes | None:
        import lmdb

        try:
            with self._env.env.begin(db=self._env.directories) as txn:
                value: bytes | None = txn.get(digest)
                return value
        except lmdb.Error as e:
            raise lmdb_failure("look up a directory", self._env, e) from None

    def _store(self, records: list[tuple[bytes, bytes]]) -> None:
        import lmdb

        try:
            with self._env.env.begin(write=True, db=self._env.directories) as txn:
                for digest, data in records:
                    txn.put(digest, data, overwrite=False)
        except lmdb.Error as e:
            raise lmdb_failure("store directories", self._env, e) from None
        if not self._env.sync_always:
            self._env.flush()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            release_environment(self._env)
