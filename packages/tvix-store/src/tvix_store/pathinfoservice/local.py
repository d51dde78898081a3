"""Shared logic of the backends that keep PathInfos in this process (memory, lmdb)."""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections import OrderedDict
from collections.abc import Iterator

from nix_compat.store_path import DIGEST_SIZE
from tvix_castore.blobservice.base import BlobService
from tvix_castore.directory import ChildNode, node_to_proto, rename_node
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import InvalidRequestError, StorageError

from tvix_store.errors import ValidatePathInfoError
from tvix_store.nar.render import calculate_size_and_sha256
from tvix_store.pathinfo import PathInfo, decode_path_info, encode_path_info, validate_path_info
from tvix_store.pathinfoservice.base import PathInfoService

NAR_CACHE_SIZE = 4096
"""How many calculate_nar results are remembered (keyed by the unnamed root node)."""


def check_output_digest(digest: bytes) -> bytes:
    """Refuse a lookup key that is not a 20-byte store path digest."""
    if len(digest) != DIGEST_SIZE:
        raise InvalidRequestError(
            f"invalid output digest length: {len(digest)} (expected {DIGEST_SIZE} bytes)"
        )
    return bytes(digest)


class LocalPathInfoService(PathInfoService):
    """A PathInfoService over a key-value table of encoded PathInfos.

    Subclasses provide raw lookups; this class validates what is written,
    checks what is read, and renders NARs locally for :meth:`calculate_nar`,
    caching the result per root node.
    """

    def __init__(self, blob_service: BlobService, directory_service: DirectoryService) -> None:
        self.blob_service = blob_service
        self.directory_service = directory_service
        self._nar_cache: OrderedDict[bytes, tuple[int, bytes]] = OrderedDict()
        self._nar_lock = threading.Lock()

    @property
    def _location(self) -> str:
        return type(self).__name__

    @abstractmethod
    def _load(self, digest: bytes) -> bytes | None:
        """The stored encoding under ``digest``, or None."""

    @abstractmethod
    def _store(self, digest: bytes, data: bytes) -> None:
        """Insert or replace one record atomically and durably."""

    @abstractmethod
    def _iter_records(self) -> Iterator[tuple[bytes, bytes]]:
        """Every (digest, encoding) pair."""

    def _decode(self, digest: bytes, data: bytes) -> PathInfo:
        info = decode_path_info(data, self._location)
        try:
            store_path = validate_path_info(info)
        except ValidatePathInfoError as e:
            raise StorageError(f"corrupt PathInfo in {self._location}: {e}") from None
        if store_path.digest != digest:
            raise StorageError(
                f"corrupt PathInfo in {self._location}: stored under the wrong digest "
                f"({store_path} under {digest.hex()})"
            )
        return info

    def get(self, digest: bytes) -> PathInfo | None:
        digest = check_output_digest(digest)
        data = self._load(digest)
        return None if data is None else self._decode(digest, data)

    def put(self, info: PathInfo) -> PathInfo:
        store_path = validate_path_info(info)
        self._store(store_path.digest, encode_path_info(info))
        return info

    def list(self) -> Iterator[PathInfo]:
        for digest, data in self._iter_records():
            yield self._decode(digest, data)

    def calculate_nar(self, root: ChildNode) -> tuple[int, bytes]:
        key = node_to_proto(rename_node(root, b"")).SerializeToString(deterministic=True)
        with self._nar_lock:
            cached = self._nar_cache.get(key)
            if cached is not None:
                self._nar_cache.move_to_end(key)
                return cached
        result = calculate_size_and_sha256(root, self.blob_service, self.directory_service)
        with self._nar_lock:
            self._nar_cache[key] = result
            while len(self._nar_cache) > NAR_CACHE_SIZE:
                self._nar_cache.popitem(last=False)
        return result
