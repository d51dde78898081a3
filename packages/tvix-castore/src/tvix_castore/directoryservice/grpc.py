"""``grpc+unix:///socket``, ``grpc+http://host:port``: a client of a daemon's DirectoryService.

Everything received is checked: a directory fetched by digest must hash to it
and validate; a recursive fetch may only contain directories that were
referred to before and must not end while some are still expected.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any, Self

from tvix_castore.digests import B3_LEN, B3Digest
from tvix_castore.directory import Directory, directory_digest, validate_directory
from tvix_castore.directoryservice.base import DirectoryPutter, DirectoryService
from tvix_castore.errors import InvalidRequestError, NotFoundError, StorageError
from tvix_castore.grpc_channel import error_from_rpc, open_channel
from tvix_castore.registry import ServiceUrl


def _checked(directory: Directory, source: str) -> B3Digest:
    """Drop unknown fields, validate, and return the digest of a received directory."""
    directory.DiscardUnknownFields()
    digest = directory_digest(directory)
    try:
        validate_directory(directory)
    except InvalidRequestError as e:
        raise StorageError(f"directory {digest} from {source} failed validation: {e}") from None
    return digest


class GrpcDirectoryPutter(DirectoryPutter):
    """One client-streaming Put call fed from a queue; the server checks the graph."""

    def __init__(self, stub: Any, source: str) -> None:
        self._source = source
        self._queue: queue.Queue[Directory | None] = queue.Queue()
        self._future = stub.Put.future(self._requests())
        self._closed = False

    def _requests(self) -> Iterator[Directory]:
        while (directory := self._queue.get()) is not None:
            yield directory

    @property
    def is_closed(self) -> bool:
        return self._closed or self._future.done()

    def put(self, directory: Directory) -> None:
        if self._closed:
            raise InvalidRequestError("directory putter already closed")
        try:
            validate_directory(directory)
        except InvalidRequestError as e:
            self.abort()
            raise InvalidRequestError(
                f"directory {directory_digest(directory)} failed validation: {e}"
            ) from e
        if self._future.done():
            self.close()
        self._queue.put(directory)

    def close(self) -> B3Digest:
        import grpc

        if self._closed:
            raise InvalidRequestError("directory putter already closed")
        self._closed = True
        self._queue.put(None)
        try:
            response = self._future.result()
        except grpc.RpcError as e:
            raise error_from_rpc(e, f"unable to upload directories to {self._source}") from None
        except grpc.FutureCancelledError:
            raise StorageError(f"directory upload to {self._source} was cancelled") from None
        if len(response.root_digest) != B3_LEN:
            raise StorageError(f"{self._source} answered with an invalid root digest length")
        return B3Digest(response.root_digest)

    def abort(self) -> None:
        if not self._closed:
            self._closed = True
            self._future.cancel()
            self._queue.put(None)


class GrpcDirectoryService(DirectoryService):
    """A DirectoryService served by a remote castore daemon."""

    def __init__(self, channel: Any, source: str) -> None:
        from tvix_castore.proto import rpc_directory_pb2_grpc as pb_grpc

        self._channel = channel
        self._source = source
        self._stub = pb_grpc.DirectoryServiceStub(channel)  # type: ignore[no-untyped-call]

    @classmethod
    def from_url(cls, url: ServiceUrl) -> Self:
        """``grpc+unix:///abs/socket`` (no host) or ``grpc+http(s)://host:port`` (no path).

        Connects lazily.
        """
        return cls(open_channel(url), url.text)

    def get(self, digest: B3Digest) -> Directory | None:
        import grpc

        from tvix_castore.proto import rpc_directory_pb2 as pb

        call = self._stub.Get(pb.GetDirectoryRequest(digest=digest, recursive=False))
        try:
            directory = next(call, None)
        except grpc.RpcError as e:
            error = error_from_rpc(e, f"unable to get directory {digest} from {self._source}")
            if isinstance(error, NotFoundError):
                return None
            raise error from None
        finally:
            call.cancel()
        if directory is None:
            return None
        actual = _checked(directory, self._source)
        if actual != digest:
            raise StorageError(
                f"requested directory with digest {digest}, but {self._source} sent {actual}"
            )
        result: Directory = directory
        return result

    def put(self, directory: Directory) -> B3Digest:
        putter = self.put_multiple()
        putter.put(directory)
        return putter.close()

    def get_recursive(self, root: B3Digest) -> Iterator[Directory]:
        import grpc

        from tvix_castore.proto import rpc_directory_pb2 as pb

        call = self._stub.Get(pb.GetDirectoryRequest(digest=root, recursive=True))
        expected: set[bytes] = {root}
        received: set[bytes] = set()
        try:
            for directory in call:
                digest = _checked(directory, self._source)
                if digest not in expected:
                    what = "duplicate" if digest in received else "unexpected"
                    raise StorageError(f"received {what} directory {digest} from {self._source}")
                expected.discard(digest)
                received.add(digest)
                for child in directory.directories:
                    if child.digest not in received:
                        expected.add(child.digest)
                yield directory
        except grpc.RpcError as e:
            raise error_from_rpc(e, f"unable to get directory {root} from {self._source}") from None
        finally:
            call.cancel()
        if expected:
            raise StorageError(
                f"still expected {len(expected)} directories from {self._source}, "
                "but got premature end of stream"
            )

    def put_multiple(self) -> DirectoryPutter:
        return GrpcDirectoryPutter(self._stub, self._source)

    def close(self) -> None:
        self._channel.close()
