"""The gRPC servicer exposing a PathInfoService as ``tvix.store.v1.PathInfoService``.

Errors map to status codes through tvix_castore's one mapping: an invalid
PathInfo or request is INVALID_ARGUMENT, a missing PathInfo, directory or blob
NOT_FOUND, store failures INTERNAL. A Put whose root node points at a
directory or blob the castore lacks is refused (NOT_FOUND), so no PathInfo
becomes visible before its content.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
from tvix_castore.blobservice.base import BlobService
from tvix_castore.digests import B3Digest
from tvix_castore.directory import DirectoryNode, FileNode, node_from_proto
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import NotFoundError
from tvix_castore.proto import castore_pb2
from tvix_castore.server.status import stream_errors, unary_errors

from tvix_store.pathinfo import PathInfo, validate_path_info
from tvix_store.pathinfoservice.base import PathInfoService
from tvix_store.pathinfoservice.local import check_output_digest
from tvix_store.proto import rpc_pathinfo_pb2
from tvix_store.proto.rpc_pathinfo_pb2_grpc import PathInfoServiceServicer as _Base


def check_content_present(
    info: PathInfo, blob_service: BlobService, directory_service: DirectoryService
) -> None:
    """Refuse a (validated) PathInfo whose root directory or file is not in the castore."""
    node = node_from_proto(info.node)
    if isinstance(node, DirectoryNode):
        digest = B3Digest(node.digest)
        if not directory_service.has(digest):
            raise NotFoundError(f"directory {digest} of {node.name.decode()} not found")
    elif isinstance(node, FileNode):
        digest = B3Digest(node.digest)
        if not blob_service.has(digest):
            raise NotFoundError(f"blob {digest} of {node.name.decode()} not found")


class PathInfoServiceServicer(_Base):
    """Serves ``tvix.store.v1.PathInfoService`` from a PathInfoService.

    With ``blob_service`` and ``directory_service``, Put checks the root node's
    content is present.
    """

    def __init__(
        self,
        path_info_service: PathInfoService,
        blob_service: BlobService | None = None,
        directory_service: DirectoryService | None = None,
    ) -> None:
        self._service = path_info_service
        self._blobs = blob_service
        self._directories = directory_service

    @unary_errors
    def Get(self, request: rpc_pathinfo_pb2.GetPathInfoRequest, context: Any) -> PathInfo:
        if request.WhichOneof("by_what") is None:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "by_what needs to be specified")
        digest = check_output_digest(request.by_output_hash)
        info = self._service.get(digest)
        if info is None:
            raise NotFoundError("PathInfo not found")
        return info

    @unary_errors
    def Put(self, request: PathInfo, context: Any) -> PathInfo:
        validate_path_info(request)
        if self._blobs is not None and self._directories is not None:
            check_content_present(request, self._blobs, self._directories)
        return self._service.put(request)

    @unary_errors
    def CalculateNAR(
        self, request: castore_pb2.Node, context: Any
    ) -> rpc_pathinfo_pb2.CalculateNARResponse:
        root = node_from_proto(request)
        nar_size, nar_sha256 = self._service.calculate_nar(root)
        return rpc_pathinfo_pb2.CalculateNARResponse(nar_size=nar_size, nar_sha256=nar_sha256)

    @stream_errors
    def List(
        self, request: rpc_pathinfo_pb2.ListPathInfoRequest, context: Any
    ) -> Iterator[PathInfo]:
        yield from self._service.list()
