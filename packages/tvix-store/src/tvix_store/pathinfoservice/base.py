"""The PathInfoService interface: PathInfo records by store path digest."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from tvix_castore.blobservice.base import BlobService
    from tvix_castore.directory import ChildNode
    from tvix_castore.directoryservice.base import DirectoryService
    from tvix_castore.registry import ServiceUrl

    from tvix_store.pathinfo import PathInfo


class PathInfoService(ABC):
    """Stores PathInfo messages under the 20-byte digest of the store path they describe.

    Backends are created from a URL through
    :func:`tvix_store.path_info_service_from_url`, with the BlobService and
    DirectoryService the records point into (for :meth:`calculate_nar`).
    Services are thread-safe.
    """

    @classmethod
    @abstractmethod
    def from_url(
        cls, url: ServiceUrl, blob_service: BlobService, directory_service: DirectoryService
    ) -> Self:
        """Build the backend from a parsed URL, rejecting parts it does not support."""

    @abstractmethod
    def get(self, digest: bytes) -> PathInfo | None:
        """The PathInfo of the store path with this 20-byte digest, or None."""

    @abstractmethod
    def put(self, info: PathInfo) -> PathInfo:
        """Validate and store ``info`` (replacing an existing record); return what was stored."""

    @abstractmethod
    def calculate_nar(self, root: ChildNode) -> tuple[int, bytes]:
        """Size and sha256 of the NAR serialisation of ``root`` (whose name is ignored)."""

    @abstractmethod
    def list(self) -> Iterator[PathInfo]:
        """Every stored PathInfo, in no particular order."""

    def close(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Release connections, files or environments held by the service."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
