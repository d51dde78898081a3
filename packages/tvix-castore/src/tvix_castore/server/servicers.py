"""gRPC servicers exposing a BlobService and a DirectoryService as ``tvix.castore.v1``.

Protocol rules follow the reference: blob Read streams chunks and Put accepts
any chunking; directory Get is one message, or with ``recursive`` the whole
closure breadth-first with each directory once; directory Put needs every
child sent earlier in the same stream (or already stored) with a matching
size, answers with the last digest received, and stores nothing unless the
whole stream is accepted. An upload that ends early (the client went away or
the server shuts down) stores nothing.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from tvix_castore.blobservice.base import BlobService, BlobWriter
from tvix_castore.digests import B3Digest
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import InvalidRequestError, NotFoundError, StorageError
from tvix_castore.grpc_channel import STREAM_CHUNK_SIZE
from tvix_castore.proto import castore_pb2, rpc_blobstore_pb2, rpc_directory_pb2
from tvix_castore.proto.rpc_directory_pb2_grpc import DirectoryServiceServicer as _DirectoryBase
from tvix_castore.server.status import stream_errors, unary_errors
from tvix_castore.wire import decode_blob_chunk, encode_blob_chunk

BLOB_SERVICE_NAME = "tvix.castore.v1.BlobService"


def _client_went_away(context: Any) -> bool:
    """True if the client cancelled the call or disconnected.

    grpcio reports the end of a cancelled request stream like a normal end and
    registers the cancellation a moment later on its polling thread, so give
    that thread a chance to run before asking. If it has not run yet, a blob
    upload is stored as what arrived: harmless in a content-addressed store,
    since the digest is that of exactly the bytes received and nothing refers
    to it yet.
    """
    time.sleep(0)
    return not context.is_active()


PIPELINE_AFTER = 2
"""Chunks of an upload taken in the handler thread before a second thread takes over storing."""


def copy_pipelined(chunks: Iterable[bytes | memoryview], writer: BlobWriter) -> None:
    """Write ``chunks`` to ``writer``; long uploads hash and store on a second thread.

    grpcio hands a streaming handler one message at a time; storing each chunk
    (hashing it, writing it) on another thread lets the next message arrive
    meanwhile. Short uploads skip the thread.
    """
    it = iter(chunks)
    for _, data in zip(range(PIPELINE_AFTER), it, strict=False):
        writer.write(data)
    pending: queue.Queue[bytes | memoryview | None] = queue.Queue(maxsize=4)
    failures: list[BaseException] = []

    def store() -> None:
        while (data := pending.get()) is not None:
            if not failures:
                try:
                    writer.write(data)
                except BaseException as e:
                    failures.append(e)

    storer: threading.Thread | None = None
    try:
        for data in it:
            if storer is None:
                storer = threading.Thread(target=store, name="castore-put", daemon=True)
                storer.start()
            if failures:
                break
            pending.put(data)
    finally:
        if storer is not None:
            pending.put(None)
            storer.join()
    if failures:
        raise failures[0]


def _digest(raw: bytes) -> B3Digest:
    if len(raw) != 32:
        raise InvalidRequestError(f"invalid digest length: {len(raw)}")
    return B3Digest(raw)


class BlobServiceServicer:
    """Serves ``tvix.castore.v1.BlobService`` from a BlobService.

    Register it with :func:`add_blob_service_to_server`: ``Read`` yields and
    ``Put`` receives bare chunk payloads, framed by the codecs in
    :mod:`tvix_castore.wire` rather than through BlobChunk messages.
    """

    def __init__(self, blob_service: BlobService) -> None:
        self._blobs = blob_service

    @unary_errors
    def Stat(
        self, request: rpc_blobstore_pb2.StatBlobRequest, context: Any
    ) -> rpc_blobstore_pb2.BlobMeta:
        digest = _digest(request.digest)
        if not self._blobs.has(digest):
            raise NotFoundError(f"blob {digest} not found")
        return rpc_blobstore_pb2.BlobMeta()

    @stream_errors
    def Read(self, request: rpc_blobstore_pb2.ReadBlobRequest, context: Any) -> Iterator[bytes]:
        digest = _digest(request.digest)
        reader = self._blobs.open_read(digest)
        if reader is None:
            raise NotFoundError(f"blob {digest} not found")
        with reader:
            while data := reader.read(STREAM_CHUNK_SIZE):
                yield data

    @unary_errors
    def Put(
        self, request_iterator: Iterator[bytes | memoryview], context: Any
    ) -> rpc_blobstore_pb2.PutBlobResponse:
        writer = self._blobs.open_write()
        try:
            copy_pipelined(request_iterator, writer)
            if _client_went_away(context):
                raise StorageError("the client went away before the upload finished")
            digest = writer.close()
        except BaseException:
            writer.abort()
            raise
        return rpc_blobstore_pb2.PutBlobResponse(digest=digest)


class DirectoryServiceServicer(_DirectoryBase):
    """Serves ``tvix.castore.v1.DirectoryService`` from a DirectoryService."""

    def __init__(self, directory_service: DirectoryService) -> None:
        self._directories = directory_service

    @stream_errors
    def Get(
        self, request: rpc_directory_pb2.GetDirectoryRequest, context: Any
    ) -> Iterator[castore_pb2.Directory]:
        if request.WhichOneof("by_what") is None:
            raise InvalidRequestError("by_what needs to be specified")
        digest = _digest(request.digest)
        if request.recursive:
            yield from self._directories.get_recursive(digest)
            return
        directory = self._directories.get(digest)
        if directory is None:
            raise NotFoundError(f"directory {digest} not found")
        yield directory

    @unary_errors
    def Put(
        self, request_iterator: Iterator[castore_pb2.Directory], context: Any
    ) -> rpc_directory_pb2.PutDirectoryResponse:
        putter = self._directories.put_multiple()
        received = False
        try:
            for directory in request_iterator:
                directory.DiscardUnknownFields()
                putter.put(directory)
                received = True
            if not received:
                raise InvalidRequestError("no directories received")
            if _client_went_away(context):
                raise StorageError("the client went away before the upload finished")
            root = putter.close()
        except BaseException:
            putter.abort()
            raise
        return rpc_directory_pb2.PutDirectoryResponse(root_digest=root)


def add_blob_service_to_server(servicer: BlobServiceServicer, server: Any) -> None:
    """Register the BlobService servicer, with the direct BlobChunk codecs."""
    import grpc

    handlers = {
        "Stat": grpc.unary_unary_rpc_method_handler(
            servicer.Stat,
            request_deserializer=rpc_blobstore_pb2.StatBlobRequest.FromString,
            response_serializer=rpc_blobstore_pb2.BlobMeta.SerializeToString,
        ),
        "Read": grpc.unary_stream_rpc_method_handler(
            servicer.Read,
            request_deserializer=rpc_blobstore_pb2.ReadBlobRequest.FromString,
            response_serializer=encode_blob_chunk,
        ),
        "Put": grpc.stream_unary_rpc_method_handler(
            servicer.Put,
            request_deserializer=decode_blob_chunk,
            response_serializer=rpc_blobstore_pb2.PutBlobResponse.SerializeToString,
        ),
    }
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(BLOB_SERVICE_NAME, handlers),)
    )
