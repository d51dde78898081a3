"""Compiling unary and binary operators, with fast paths for the common numeric cases.

Semantics follow C++ Nix 2.8: ``-``, ``*``, ``/``, ``<`` behave like ``builtins.sub``/``mul``/
``div``/``lessThan``; ``+`` is string/path concatenation or addition; ``a > b`` is ``b < a``,
``a <= b`` is ``!(b < a)``; ``&&``, ``||``, ``->`` demand Booleans.
"""

from __future__ import annotations

from typing import Any

from tvix_eval.compiler.code import Code, Frame
from tvix_eval.compiler.fastops import specialise
from tvix_eval.compiler.genrt import negate
from tvix_eval.runtime.errors import EvalError, TypeMismatch
from tvix_eval.runtime.ops import (
    INT_MAX,
    INT_MIN,
    arith,
    canon_path,
    check_int,
    coerce_to_string,
    concat_lists,
    concat_strings,
    expect_attrs,
    expect_bool,
    update_attrs,
)
from tvix_eval.runtime.values import (
    NixPath,
    NixString,
    Value,
    show_type,
)

#: ``&&``, ``||`` and ``->``: the left value that decides alone, and the result it decides.
_SHORT_CIRCUIT: dict[str, tuple[bool, bool]] = {
    "&&": (False, False),
    "||": (True, True),
    "->": (False, True),
}


def add_values(a: Value, b: Value, node: Any) -> Value:
    """``a + b`` on forced values (C++ Nix's two-element ``ExprConcatStrings``)."""
    ta = type(a)
    tb = type(b)
    if ta is int:
        if tb is int:
            r = a + b
            if INT_MIN <= r <= INT_MAX:
                return r
            return check_int(r, "adding", a, b)
        if tb is float:
            return a + b
        raise EvalError(f"cannot add {show_type(b)} to an integer", _pos(node.rhs))
    if ta is float:
        if tb is int or tb is float:
            return a + b
        raise EvalError(f"cannot add {show_type(b)} to a float", _pos(node.rhs))
    if ta is NixPath:
        try:
            s = coerce_to_string(b, copy_to_store=False)
        except EvalError as e:
            raise e.at(_pos(node.rhs)) from None
        if type(s) is NixString and s.context:
            raise EvalError(
                "a string that refers to a store path cannot be appended to a path", _pos(node)
            )
        return NixPath(canon_path(a.path + s))
    try:
        sa = coerce_to_string(a)
    except EvalError as e:
        raise e.at(_pos(node.lhs)) from None
    try:
        sb = coerce_to_string(b)
    except EvalError as e:
        raise e.at(_pos(node.rhs)) from None
    if type(sa) is NixString or type(sb) is NixString:
        return concat_strings([sa, sb])
    return sa + sb


def _pos(node: Any) -> Any:
    return node


def compile_binop(
    node: Any, lhs: Code, rhs: Code, allow_eager: bool = False, cache: str | None = None
) -> Code:
    """Code for ``lhs op rhs``."""
    fast = specialise(node, lhs, rhs, allow_eager, cache)
    if fast is not None:
        return fast
    op = node.op
    lev = lhs.ev
    rev = rhs.ev
    if op == "/":

        def ev(frame: Frame) -> Value:
            a = lev(frame)
            b = rev(frame)
            try:
                return arith(op, a, b)
            except EvalError as e:
                raise e.at(node) from None

        return Code(ev)
    if op in _SHORT_CIRCUIT:
        short_on, short_result = _SHORT_CIRCUIT[op]

        def ev(frame: Frame) -> Value:
            a = lev(frame)
            if a is short_on:
                return short_result
            if type(a) is not bool:
                raise TypeMismatch(f"value is {show_type(a)} while a Boolean was expected", node)
            b = rev(frame)
            if type(b) is not bool:
                raise TypeMismatch(f"value is {show_type(b)} while a Boolean was expected", node)
            return b

        return Code(ev)
    if op == "//":

        def ev_update(frame: Frame) -> Value:
            try:
                a = expect_attrs(lev(frame))
                b = expect_attrs(rev(frame))
            except EvalError as e:
                raise e.at(node) from None
            return update_attrs(a, b)

        return Code(ev_update)
    if op == "++":

        def ev_concat(frame: Frame) -> Value:
            return concat_lists(lev(frame), rev(frame), node)

        return Code(ev_concat)
    raise AssertionError(f"unknown operator {op}")


def compile_unary(node: Any, operand: Code) -> Code:
    """Code for ``-e`` (``0 - e``) and ``!e``."""
    oev = operand.ev
    if node.op == "!":

        def ev(frame: Frame) -> Value:
            v = oev(frame)
            if type(v) is not bool:
                try:
                    expect_bool(v)
                except EvalError as e:
                    raise e.at(node) from None
            return not v

        return Code(ev)

    def neg(frame: Frame) -> Value:
        return negate(oev(frame), node)

    return Code(neg)
