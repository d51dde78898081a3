"""Nix functions as Python callables (``Callable[[A, B], R]`` targets).

The callable keeps the evaluation state it came from; each call converts the Python arguments to
Nix, applies the function (curried, one argument at a time) on an evaluation thread and decodes
the result as ``R``.
"""

from __future__ import annotations

from typing import Any

from tvix_eval.runtime.values import Lambda, NixAttrs, PrimOp, PrimOpApp, Thunk

from tvix_serde.decode.core import Decoder
from tvix_serde.errors import ShapeError


class NixFunction:
    """A Nix function loaded into Python; call it like a Python function."""

    __slots__ = ("_arity", "_fn", "_result", "_state")

    def __init__(self, fn: Any, state: Any, result: Decoder, arity: int | None) -> None:
        self._fn = fn
        self._state = state
        self._result = result
        self._arity = arity

    def __call__(self, *args: Any) -> Any:
        from tvix_eval.api import run_in_deep_thread
        from tvix_eval.errors import NixError
        from tvix_eval.runtime import context
        from tvix_eval.runtime.ops import call_value

        from tvix_serde.errors import EvaluationError
        from tvix_serde.to_nix import to_nix

        if self._arity is not None and len(args) != self._arity:
            raise TypeError(f"this Nix function takes {self._arity} arguments, got {len(args)}")
        nix_args = [to_nix(a) for a in args]

        def apply() -> Any:
            previous = context.activate(self._state)
            try:
                value = self._fn
                for arg in nix_args:
                    value = call_value(value, arg)
                return self._result(value)
            finally:
                context.activate(previous)

        try:
            return run_in_deep_thread(apply)
        except NixError as e:
            raise EvaluationError(e) from None

    def __repr__(self) -> str:
        return "<Nix function>"


def callable_decoder(arity: int | None, result: Decoder) -> Decoder:
    """A decoder for ``Callable``: ``arity`` arguments (``None``: any), results decoded by
    ``result``."""

    def decode_callable(v: Any) -> NixFunction:
        from tvix_eval.runtime import context

        if type(v) is Thunk:
            v = v.force()
        t = type(v)
        if not (
            t is Lambda or t is PrimOp or t is PrimOpApp or (t is NixAttrs and "__functor" in v)
        ):
            raise ShapeError.expected("a function", v)
        return NixFunction(v, context.current(), result, arity)

    return decode_callable
