"""Running deeply recursive code (parsing, printing) without RecursionError.

The recursive-descent parser uses a handful of Python frames per nesting
level, so 100,000 nested parentheses need far more than Python's default
recursion limit. :func:`run_deep` runs a function normally and, only if it
hits the limit, runs it again in a worker thread with a large stack and a
recursion limit sized for the input.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["run_deep"]

T = TypeVar("T")

_STACK_BYTES = 1 << 30
_lock = threading.Lock()


def run_deep(fn: Callable[[], T], depth_hint: int = 2_000_000) -> T:
    """Call ``fn``; if it overflows the recursion limit, retry it with room
    for about ``depth_hint`` frames. Exceptions of ``fn`` propagate."""
    try:
        return fn()
    except RecursionError:
        pass
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # re-raised in the calling thread
            error.append(exc)

    with _lock:
        old_limit = sys.getrecursionlimit()
        old_stack = threading.stack_size()
        new_limit = max(old_limit, depth_hint)
        sys.setrecursionlimit(new_limit)
        try:
            threading.stack_size(_STACK_BYTES)
            worker = threading.Thread(target=target, name="tvix-deep")
            worker.start()
        finally:
            threading.stack_size(old_stack)
        worker.join()
        if sys.getrecursionlimit() == new_limit:
            sys.setrecursionlimit(old_limit)
    if error:
        raise error[0]
    return result[0]
