"""``grpc+unix:///socket``, ``grpc+http://host:port``: a client of a tvix-store daemon."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Self

from tvix_castore.blobservice.base import BlobService
from tvix_castore.directory import ChildNode, node_to_proto
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import NotFoundError, StorageError
from tvix_castore.grpc_channel import error_from_rpc, open_channel
from tvix_castore.registry import ServiceUrl

from tvix_store.errors import ValidatePathInfoError
from tvix_store.pathinfo import PathInfo, validate_path_info
from tvix_store.pathinfoservice.base import PathInfoService
from tvix_store.pathinfoservice.local import check_output_digest


class GrpcPathInfoService(PathInfoService):
    """A PathInfoService served by a remote tvix-store daemon.

    Everything received is validated: a server handing out malformed PathInfos
    or NAR digests is a StorageError, never data passed on.
    """

    def __init__(self, channel: Any, source: str) -> None:
        from tvix_store.proto import rpc_pathinfo_pb2_grpc

        self._channel = channel
        self._source = source
        self._stub = rpc_pathinfo_pb2_grpc.PathInfoServiceStub(channel)  # type: ignore[no-untyped-call]

    @classmethod
    def from_url(
        cls, url: ServiceUrl, blob_service: BlobService, directory_service: DirectoryService
    ) -> Self:
        """``grpc+unix:///abs/socket`` or ``grpc+http(s)://host:port``; connects lazily."""
        return cls(open_channel(url), url.text)

    def _checked(self, info: PathInfo, action: str) -> PathInfo:
        try:
            validate_path_info(info)
        except ValidatePathInfoError as e:
            raise StorageError(f"{action}: {self._source} sent an invalid PathInfo: {e}") from None
        return info

    def get(self, digest: bytes) -> PathInfo | None:
        import grpc

        from tvix_store.proto import rpc_pathinfo_pb2 as pb

        digest = check_output_digest(digest)
        action = f"unable to get PathInfo {digest.hex()} from {self._source}"
        try:
            info: PathInfo = self._stub.Get(pb.GetPathInfoRequest(by_output_hash=digest))
        except grpc.RpcError as e:
            error = error_from_rpc(e, action)
            if isinstance(error, NotFoundError):
                return None
            raise error from None
        return self._checked(info, action)

    def put(self, info: PathInfo) -> PathInfo:
        import grpc

        action = f"unable to put PathInfo at {self._source}"
        try:
            stored: PathInfo = self._stub.Put(info)
        except grpc.RpcError as e:
            raise error_from_rpc(e, action) from None
        return self._checked(stored, action)

    def calculate_nar(self, root: ChildNode) -> tuple[int, bytes]:
        import grpc

        action = f"unable to calculate NAR at {self._source}"
        try:
            response = self._stub.CalculateNAR(node_to_proto(root))
        except grpc.RpcError as e:
            raise error_from_rpc(e, action) from None
        if len(response.nar_sha256) != 32:
            raise StorageError(
                f"{action}: invalid sha256 length {len(response.nar_sha256)} in response"
            )
        return int(response.nar_size), bytes(response.nar_sha256)

    def list(self) -> Iterator[PathInfo]:
        import grpc

        from tvix_store.proto import rpc_pathinfo_pb2 as pb

        action = f"unable to list PathInfos at {self._source}"
        call = self._stub.List(pb.ListPathInfoRequest())
        try:
            for info in call:
                yield self._checked(info, action)
        except grpc.RpcError as e:
            raise error_from_rpc(e, action) from None
        finally:
            call.cancel()

    def close(self) -> None:
        self._channel.close()
