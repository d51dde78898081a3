"""Client side of the gRPC backends: channels from URLs and status codes back to exceptions."""

from __future__ import annotations

from typing import Any

from tvix_castore.errors import (
    CastoreError,
    InvalidRequestError,
    InvalidUrlError,
    NotFoundError,
    StorageError,
)
from tvix_castore.registry import ServiceUrl, require_no_host, require_no_query

MAX_MESSAGE_BYTES = 128 << 20
"""Largest gRPC message accepted either way (blob chunks are 1 MiB; big directories can be more)."""
STREAM_CHUNK_SIZE = 512 << 10
"""Size of the BlobChunk messages we send (grpcio moves 512 KiB messages fastest here)."""
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    # Large frames and a fixed 16 MiB flow-control window instead of BDP probing
    # roughly double streaming throughput over loopback and unix sockets.
    ("grpc.http2.max_frame_size", 16777215),
    ("grpc.http2.bdp_probe", 0),
    ("grpc.http2.lookahead_bytes", 16 << 20),
]


def grpc_target(url: ServiceUrl) -> tuple[str, bool]:
    """The grpcio target for a ``grpc+unix``/``grpc+http(s)`` URL, and whether it uses TLS.

    ``grpc+unix:///abs/socket`` may not have a host; the HTTP forms need a
    host and may not have a path, as in the reference.
    """
    require_no_query(url)
    transport = url.scheme.removeprefix("grpc+")
    if transport == "unix":
        require_no_host(url)
        if not url.path or url.path == "/":
            raise InvalidUrlError(f"invalid url {url.text!r}: grpc+unix needs a socket path")
        return f"unix:{url.path}", False
    if transport in ("http", "https"):
        if url.path:
            raise InvalidUrlError(f"invalid url {url.text!r}: path may not be set")
        if not url.host:
            raise InvalidUrlError(f"invalid url {url.text!r}: a host is required")
        host = f"[{url.host}]" if ":" in url.host else url.host
        port = url.port or (443 if transport == "https" else 80)
        return f"{host}:{port}", transport == "https"
    raise InvalidUrlError(f"invalid url {url.text!r}: unknown transport {url.scheme}")


def open_channel(url: ServiceUrl) -> Any:
    """A lazily connecting grpcio channel for the URL."""
    import grpc

    target, tls = grpc_target(url)
    if tls:
        return grpc.secure_channel(target, grpc.ssl_channel_credentials(), options=CHANNEL_OPTIONS)
    return grpc.insecure_channel(target, options=CHANNEL_OPTIONS)


def error_from_rpc(error: Any, action: str) -> CastoreError:
    """Turn a grpc.RpcError into the castore exception its status code stands for."""
    import grpc

    code = error.code() if hasattr(error, "code") else None
    details = error.details() if hasattr(error, "details") else str(error)
    message = f"{action}: {details}"
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidRequestError(message)
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFoundError(message)
    name = code.name if code is not None else "UNKNOWN"
    return StorageError(f"{action}: {name}: {details}")
