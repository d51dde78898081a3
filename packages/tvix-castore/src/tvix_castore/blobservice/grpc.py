"""``grpc+unix:///socket``, ``grpc+http://host:port``: a client of a castore daemon's BlobService.

Reads stream the blob in chunks and are checked against the digest as they
arrive; writes are sent in 1 MiB chunks over one client-streaming Put while
the caller keeps writing, with a small bounded queue in between.
"""

from __future__ import annotations

import contextlib
import os
import queue
from collections.abc import Iterator
from typing import Any, Self

import blake3

from tvix_castore.blobservice.base import BlobReader, BlobService, BlobStat, BlobWriter
from tvix_castore.blobservice.memory import resolve_seek
from tvix_castore.blobservice.verify import SequentialVerifier
from tvix_castore.digests import B3_LEN, B3Digest
from tvix_castore.errors import InvalidRequestError, NotFoundError, StorageError
from tvix_castore.grpc_channel import STREAM_CHUNK_SIZE, error_from_rpc, open_channel
from tvix_castore.registry import ServiceUrl
from tvix_castore.wire import decode_blob_chunk, encode_blob_chunk

QUEUE_DEPTH = 8
"""Chunks buffered between a writer and the gRPC stream (bounds memory per upload)."""
UPLOAD_CHUNK_SIZE = 1 << 20
"""Largest BlobChunk an upload sends; writes between 512 KiB and this size go out uncopied."""


class GrpcBlobReader(BlobReader):
    """Reads a blob from a Read stream; seeking forward skips, seeking back restarts the stream."""

    def __init__(self, read_call: Any, digest: B3Digest, source: str) -> None:
        super().__init__()
        self._read_call = read_call
        self._digest = digest
        self._source = source
        self._pos = 0
        self._size: int | None = None
        self._verifier = SequentialVerifier(digest, source)
        self._restart()

    def _restart(self) -> None:
        from tvix_castore.proto import rpc_blobstore_pb2 as pb

        self._call = self._read_call(pb.ReadBlobRequest(digest=self._digest))
        self._chunks: Iterator[bytes | memoryview] = iter(self._call)
        self._buffer: bytes | memoryview = b""
        self._offset = 0
        self._stream_pos = 0
        self._eof = False

    def _fetch(self) -> bool:
        """Load the next chunk into the buffer; False at the end of the stream."""
        import grpc

        while True:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self._eof = True
                self._size = self._stream_pos
                self._verifier.finish(self._stream_pos)
                return False
            except grpc.RpcError as e:
                raise error_from_rpc(
                    e, f"unable to read blob {self._digest} from {self._source}"
                ) from None
            if len(chunk):
                self._buffer, self._offset = chunk, 0
                self._verifier.feed(self._stream_pos, chunk)
                return True

    def probe(self) -> bool:
        """Start the stream; False if the server says the blob does not exist."""
        try:
            self._fetch()
        except NotFoundError:
            return False
        return True

    def _available(self) -> int:
        return len(self._buffer) - self._offset

    def _advance_to(self, target: int) -> None:
        if target < self._stream_pos:
            self._call.cancel()
            self._restart()
        while self._stream_pos < target:
            if not self._available() and (self._eof or not self._fetch()):
                return
            step = min(self._available(), target - self._stream_pos)
            self._offset += step
            self._stream_pos += step

    def read(self, size: int = -1, /) -> bytes:
        self._checkClosed()
        self._advance_to(self._pos)
        if self._stream_pos < self._pos:
            return b""
        want = size if size is not None and size >= 0 else None
        parts: list[bytes | memoryview] = []
        got = 0
        while want is None or got < want:
            if not self._available() and (self._eof or not self._fetch()):
                break
            take = self._available() if want is None else min(self._available(), want - got)
            parts.append(self._buffer[self._offset : self._offset + take])
            self._offset += take
            self._stream_pos += take
            got += take
        self._pos = self._stream_pos
        if len(parts) == 1 and isinstance(parts[0], bytes):
            return parts[0]
        return b"".join(parts)

    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int:
        self._checkClosed()
        if whence == os.SEEK_END and self._size is None:
            self._advance_to(1 << 62)
        self._pos = resolve_seek(offset, whence, self._pos, self._size)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            self._call.cancel()
        super().close()


class GrpcBlobWriter(BlobWriter):
    """Feeds a client-streaming Put from a bounded queue; checks the server's digest on close."""

    def __init__(self, put_call: Any, source: str) -> None:
        super().__init__()
        self._source = source
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_DEPTH)
        self._pending = bytearray()
        self._hasher = blake3.blake3()
        self._future = put_call.future(self._requests())

    def _requests(self) -> Iterator[bytes]:
        while (data := self._queue.get()) is not None:
            yield data

    def _send(self, data: bytes | None) -> None:
        while True:
            if self._future.done():
                self._raise_from_call()
                raise StorageError(f"upload to {self._source} ended early")
            try:
                self._queue.put(data, timeout=0.05)
                return
            except queue.Full:
                continue

    def _raise_from_call(self) -> None:
        import grpc

        try:
            self._future.result()
        except grpc.RpcError as e:
            raise error_from_rpc(e, f"unable to upload blob to {self._source}") from None
        except grpc.FutureCancelledError:
            raise StorageError(f"upload to {self._source} was cancelled") from None

    def _write(self, data: bytes | memoryview) -> None:
        self._hasher.update(data)
        if not self._pending:
            if isinstance(data, bytes) and STREAM_CHUNK_SIZE <= len(data) <= UPLOAD_CHUNK_SIZE:
                self._send(data)
                return
            view = memoryview(data)
            whole = len(view) - len(view) % UPLOAD_CHUNK_SIZE
            for start in range(0, whole, UPLOAD_CHUNK_SIZE):
                self._send(bytes(view[start : start + UPLOAD_CHUNK_SIZE]))
            data = view[whole:]
        self._pending += data
        while len(self._pending) >= UPLOAD_CHUNK_SIZE:
            self._send(bytes(self._pending[:UPLOAD_CHUNK_SIZE]))
            del self._pending[:UPLOAD_CHUNK_SIZE]

    def _commit(self) -> B3Digest:
        import grpc

        if self._pending:
            self._send(bytes(self._pending))
            self._pending = bytearray()
        self._send(None)
        try:
            response = self._future.result()
        except grpc.RpcError as e:
            raise error_from_rpc(e, f"unable to upload blob to {self._source}") from None
        if len(response.digest) != B3_LEN:
            raise StorageError(
                f"{self._source} answered a blob upload with an invalid digest length"
            )
        expected = B3Digest(self._hasher.digest())
        if response.digest != expected:
            raise StorageError(
                f"{self._source} stored the blob as {B3Digest(response.digest)}, "
                f"expected {expected}"
            )
        return expected

    def _discard(self) -> None:
        self._future.cancel()
        self._pending = bytearray()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)


class GrpcBlobService(BlobService):
    """A BlobService served by a remote castore daemon."""

    remote = True

    def __init__(self, channel: Any, source: str) -> None:
        from tvix_castore.proto import rpc_blobstore_pb2 as pb
        from tvix_castore.proto import rpc_blobstore_pb2_grpc as pb_grpc

        self._channel = channel
        self._source = source
        self._stub = pb_grpc.BlobServiceStub(channel)  # type: ignore[no-untyped-call]
        self._read = channel.unary_stream(
            "/tvix.castore.v1.BlobService/Read",
            request_serializer=pb.ReadBlobRequest.SerializeToString,
            response_deserializer=decode_blob_chunk,
        )
        self._put = channel.stream_unary(
            "/tvix.castore.v1.BlobService/Put",
            request_serializer=encode_blob_chunk,
            response_deserializer=pb.PutBlobResponse.FromString,
        )

    @classmethod
    def from_url(cls, url: ServiceUrl) -> Self:
        """``grpc+unix:///abs/socket`` (no host) or ``grpc+http(s)://host:port`` (no path).

        Connects lazily.
        """
        return cls(open_channel(url), url.text)

    def has(self, digest: B3Digest) -> bool:
        import grpc

        from tvix_castore.proto import rpc_blobstore_pb2 as pb

        try:
            self._stub.Stat(pb.StatBlobRequest(digest=digest))
        except grpc.RpcError as e:
            error = error_from_rpc(e, f"unable to stat blob {digest} at {self._source}")
            if isinstance(error, NotFoundError):
                return False
            raise error from None
        return True

    def stat(self, digest: B3Digest) -> BlobStat | None:
        return BlobStat(size=None) if self.has(digest) else None

    def open_read(self, digest: B3Digest) -> BlobReader | None:
        if len(digest) != B3_LEN:
            raise InvalidRequestError(f"invalid digest length: {len(digest)}")
        reader = GrpcBlobReader(self._read, digest, self._source)
        if not reader.probe():
            reader.close()
            return None
        return reader

    def open_write(self) -> BlobWriter:
        return GrpcBlobWriter(self._put, self._source)

    def close(self) -> None:
        self._channel.close()
