"""Request bodies read by a worker thread, with a size limit and timeouts.

Ingesting a NAR is synchronous work (castore backends block), so it runs on a
worker thread; :class:`BodyReader` lets that thread pull the body from the
ASGI ``receive`` channel one message at a time, so data flows only as fast as
it is stored. A body that stalls for the idle timeout, takes longer than the
total timeout, exceeds the size limit or ends with a disconnect makes the
next read raise :class:`UploadError` — which aborts the ingest, so nothing of
it becomes visible.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
import anyio.from_thread

__all__ = ["BodyReader", "UploadError"]

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class UploadError(Exception):
    """An upload is refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BodyReader:
    """A blocking ``read(size)`` over an ASGI request body, for use on a worker thread.

    Counts and sha256-hashes the bytes as they arrive (the file hash of an
    upload). :meth:`read` must be called from a thread started by
    ``anyio.to_thread.run_sync`` of the request's event loop; :meth:`read_all`
    runs on the loop itself.
    """

    def __init__(
        self,
        receive: Receive,
        *,
        limit: int,
        idle_timeout: float,
        total_timeout: float,
    ) -> None:
        self._receive = receive
        self._limit = limit
        self._idle_timeout = idle_timeout
        self._total_timeout = total_timeout
        self._deadline = time.monotonic() + total_timeout
        self._buffer = memoryview(b"")
        self._more = True
        self.size = 0
        self.hasher = hashlib.sha256()

    async def _next_message(self) -> bytes:
        remaining = self._deadline - time.monotonic()
        wait = min(self._idle_timeout, remaining)
        if wait <= 0:
            raise UploadError(408, f"upload took longer than {self._total_timeout:g} s")
        message: MutableMapping[str, Any] | None = None
        with anyio.move_on_after(wait):
            message = await self._receive()
        if message is None:
            if wait < self._idle_timeout:
                raise UploadError(408, f"upload took longer than {self._total_timeout:g} s")
            raise UploadError(
                408, f"upload stalled: no data for {self._idle_timeout:g} s after {self.size} bytes"
            )
        if message["type"] == "http.disconnect":
            raise UploadError(400, f"upload truncated: connection closed after {self.size} bytes")
        body: bytes = message.get("body", b"")
        self._more = bool(message.get("more_body", False))
        return body

    async def read_all(self) -> bytes:
        """The whole body, read on the event loop (for small bodies such as narinfos)."""
        parts: list[bytes] = []
        while self._more:
            body = await self._next_message()
            self._account(body)
            parts.append(body)
        return b"".join(parts)

    def _account(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > self._limit:
            raise UploadError(413, f"upload exceeds the limit of {self._limit} bytes")
        self.hasher.update(body)

    def _fill(self) -> bool:
        """Fetch the next non-empty piece of the body; False at its end."""
        while self._more:
            body = anyio.from_thread.run(self._next_message)
            if body:
                self._account(body)
                self._buffer = memoryview(body)
                return True
        return False

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes of the body (all remaining if negative); ``b""`` at its end."""
        if size < 0:
            parts = [bytes(self._buffer)]
            self._buffer = memoryview(b"")
            while self._fill():
                parts.append(bytes(self._buffer))
                self._buffer = memoryview(b"")
            return b"".join(parts)
        if not self._buffer and not self._fill():
            return b""
        data = bytes(self._buffer[:size])
        self._buffer = self._buffer[size:]
        return data

    def at_end(self) -> bool:
        """Whether every byte of the body was read."""
        return not self._buffer and not self._fill()
