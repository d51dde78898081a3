"""Debugging helpers newer Nix has: ``warn``, ``traceVerbose`` and ``break``."""

from __future__ import annotations

from tvix_eval.builtins.registry import builtin
from tvix_eval.runtime import context as _context
from tvix_eval.runtime.ops import coerce_to_string, expect_string
from tvix_eval.runtime.values import Value, force


def _emit(text: str) -> None:
    try:
        state = _context.current()
    except RuntimeError:
        return
    state.trace_out(text)


@builtin("warn", 2)
def _warn(msg: Value, v: Value) -> Value:
    """Print ``evaluation warning: msg`` and return the second argument."""
    text = expect_string(msg)
    _emit(f"evaluation warning: {text}")
    return v


@builtin("traceVerbose", 2, lazy_args=(1,))
def _trace_verbose(msg: Value, v: Value) -> Value:
    """Like ``trace`` when ``trace-verbose`` is enabled (it is not by default): returns ``v``."""
    try:
        enabled = bool(_context.current().extra.get("trace_verbose"))
    except RuntimeError:
        enabled = False
    if enabled:
        _emit(f"trace: {coerce_to_string(msg, strong=True)}")
    return force(v)


@builtin("break", 1, lazy_args=(0,))
def _break(v: Value) -> Value:
    """A breakpoint for a debugger; without one, the identity."""
    return force(v)
