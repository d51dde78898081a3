"""Running the binary cache under uvicorn, with a timeout on request heads (slowloris).

uvicorn closes idle keep-alive connections, but a client trickling a request
head byte by byte resets that timer forever. :class:`HeadTimeoutProtocol`
gives every request head ``head_timeout`` seconds from the start of the
connection (or the end of the previous response) to arrive in full, then
answers 408 and closes. Oversized heads are refused (by h11 with 400 while
they arrive, by the application with 431 once complete).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HeadTimeoutProtocol", "RunningServer", "make_server", "start_in_thread"]

from tvix_store.http.app import MAX_HEAD_SIZE

_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 37\r\n\r\nerror: request head not sent in time\n"
)


class HeadTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections whose request head takes too long."""

    head_timeout: float = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.transport.write(_TIMEOUT_RESPONSE)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before:
            self._disarm()

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._arm()
        super().on_response_complete()


def _protocol_class(head_timeout: float) -> type[HeadTimeoutProtocol]:
    return type("HeadTimeoutProtocol", (HeadTimeoutProtocol,), {"head_timeout": head_timeout})


def make_server(
    app: Any,
    host: str,
    port: int,
    *,
    head_timeout: float = 30.0,
    access_log: bool = True,
    log_level: str = "info",
) -> uvicorn.Server:
    """A uvicorn server for ``app`` (not yet started)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=_protocol_class(head_timeout),
        lifespan="on",
        access_log=access_log,
        log_level=log_level,
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=MAX_HEAD_SIZE,
        server_header=False,
        log_config=None,
    )
    return uvicorn.Server(config)


@dataclass
class RunningServer:
    """A server running on a background thread, for tests and benchmarks."""

    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Ask the server to finish and wait for it."""
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_in_thread(app: Any, host: str = "127.0.0.1", **kwargs: Any) -> RunningServer:
    """Serve ``app`` on a free port of ``host`` on a background thread; return once listening."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    kwargs.setdefault("access_log", False)
    kwargs.setdefault("log_level", "warning")
    server = make_server(app, host, port, **kwargs)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="binary-cache", daemon=True
    )
    thread.start()
    while not server.started:
        if not thread.is_alive():
            sock.close()
            raise RuntimeError("the binary cache server failed to start")
        threading.Event().wait(0.01)
    return RunningServer(server, thread, host, port)
