"""The one place where castore exceptions become gRPC status codes."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar

import grpc

from tvix_castore.errors import CastoreError, InvalidRequestError, NotFoundError

log = logging.getLogger("tvix_castore.server")

T = TypeVar("T")


def status_code_for(error: CastoreError) -> grpc.StatusCode:
    """INVALID_ARGUMENT for bad requests, NOT_FOUND for missing objects, INTERNAL otherwise."""
    if isinstance(error, InvalidRequestError):
        return grpc.StatusCode.INVALID_ARGUMENT
    if isinstance(error, NotFoundError):
        return grpc.StatusCode.NOT_FOUND
    return grpc.StatusCode.INTERNAL


def abort_with(context: Any, error: Exception, method: str) -> NoReturn:
    """End the RPC with the status for ``error``; log unexpected exceptions with a traceback."""
    if not context.is_active():
        log.info("%s abandoned: the client went away", method, extra={"rpc": method})
        context.abort(grpc.StatusCode.CANCELLED, "the client went away")
    if isinstance(error, CastoreError):
        code = status_code_for(error)
        log.log(
            logging.INFO if code != grpc.StatusCode.INTERNAL else logging.WARNING,
            "%s failed: %s",
            method,
            error,
            extra={"rpc": method, "code": code.name},
        )
        context.abort(code, str(error))
    log.exception("%s failed unexpectedly", method, extra={"rpc": method})
    context.abort(grpc.StatusCode.INTERNAL, f"internal error: {error}")
    raise AssertionError("unreachable")  # context.abort always raises


def unary_errors(method: Callable[..., T]) -> Callable[..., T]:
    """Map exceptions of a unary-response handler to status codes."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: Any) -> T:
        try:
            return method(self, request, context)
        except Exception as e:
            if context.code() is not None and not isinstance(e, CastoreError):
                raise
            abort_with(context, e, method.__name__)

    return wrapper


def stream_errors(method: Callable[..., Iterator[T]]) -> Callable[..., Iterator[T]]:
    """Map exceptions of a response-streaming handler to status codes."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Any, context: Any) -> Iterator[T]:
        try:
            yield from method(self, request, context)
        except Exception as e:
            if context.code() is not None and not isinstance(e, CastoreError):
                raise
            abort_with(context, e, method.__name__)

    return wrapper
