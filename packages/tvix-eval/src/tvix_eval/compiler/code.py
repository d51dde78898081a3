"""The compiled form of an expression: two Python closures over a run-time frame.

``ev(frame)`` evaluates to a forced value (weak head normal form). ``lz(frame)`` is what a lazy
position (function argument, list element, attribute value, binding) stores: the value itself when
it is free to compute (a literal, an already-evaluated variable, arithmetic on forced numbers) and
otherwise a :class:`~tvix_eval.runtime.values.Thunk` of ``ev``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tvix_eval.runtime.values import LambdaCode, Thunk, Value

Frame = list[Any]
EvFn = Callable[[Frame], Value]

#: Marks a :class:`Code` without a compile-time constant value.
NO_CONST: Any = object()

#: The content of a frame slot that is not filled yet (``None`` is Nix's ``null``).
UNSET: Any = object()


class Code:
    """One compiled expression.

    ``const`` is the value when it is known at compile time (else :data:`NO_CONST`); ``local0``
    says that ``lz`` reads a slot of the innermost frame, which is not safe while that frame is
    still being filled (``let a = b; b = …;``), see :func:`frame_init_lz`.
    """

    __slots__ = (
        "const",
        "ev",
        "known",
        "lambda_code",
        "local",
        "local0",
        "lz",
        "lz_src",
        "thunk_lz",
    )

    def __init__(
        self,
        ev: EvFn,
        lz: EvFn | None = None,
        const: Any = NO_CONST,
        local0: bool = False,
        local: tuple[int, int] | None = None,
    ) -> None:
        self.ev = ev
        #: for a lambda literal, what its closures share (see ``LambdaCode.body2``)
        self.lambda_code: LambdaCode | None = None
        #: the value when known at compile time even though lazy uses must still thunk it
        #: (``builtins.map``: C++ Nix shows such a selection as ``<CODE>`` until forced)
        self.known = const
        #: ``(depth, slot)`` when the expression is a variable in a lexical frame
        self.local = local
        #: whether ``lz`` is the plain ``Thunk(ev, frame)``
        self.thunk_lz = lz is None
        #: ``lz`` as source lines setting ``x`` (and the names they use), for generated code
        self.lz_src: tuple[list[str], dict[str, Any]] | None = None
        if lz is None:

            def lz(frame: Frame, ev: EvFn = ev) -> Value:
                return Thunk(ev, frame)

        self.lz = lz
        self.const = const
        self.local0 = local0


def constant(value: Value) -> Code:
    """Code for a value known at compile time."""

    def ev(frame: Frame) -> Value:
        return value

    return Code(ev, ev, const=value)


def frame_init_lz(code: Code) -> EvFn:
    """The lazy form to use while the innermost frame is being filled."""
    if code.local0:
        ev = code.ev
        peek = code.lz

        def lz(frame: Frame) -> Value:
            # Share the value of a binding filled earlier (as C++ Nix does); thunk otherwise.
            # Known difference, visible only in lazy printing (``<CODE>`` or the value): C++ Nix
            # 2.8 fills a let/rec frame in the order of its ``std::map<Symbol, AttrDef>``, i.e.
            # of the addresses of the interned names, so ``let x = 1; y = x; in [ x y ]``
            # prints ``[ 1 <CODE> ]`` there (``x`` is filled after ``y``) but
            # ``let b = 1; a = b; in [ a b ]`` prints ``[ 1 1 ]``. That order depends on the
            # heap, not on the program; we fill in source order.
            v = peek(frame)
            if v is UNSET:
                return Thunk(ev, frame)
            return v

        return lz
    return code.lz
