"""Compiled function calls: application of variables and of builtins, and call traces."""

from __future__ import annotations

from typing import Any

from tvix_eval.compiler.code import NO_CONST, Code, Frame
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import call_value, run_primop
from tvix_eval.runtime.values import Lambda, NixAttrs, PrimOp, Thunk, Value


def apply_local(node: Any, fn: Any, arg: Any, depth: int, idx: int) -> Code:
    """Application of a variable: the function is read from its slot inline."""
    if depth == 0:

        def load(frame: Frame) -> Value:
            return frame[idx]

    elif depth == 1:

        def load(frame: Frame) -> Value:
            return frame[0][idx]

    else:

        def load(frame: Frame) -> Value:
            return frame[0][0][idx]

    if depth == 1:

        def ev(frame: Frame) -> Value:
            f = frame[0][idx]
            if type(f) is not Lambda:
                f = fn(frame)
            try:
                if type(f) is Lambda:
                    body = f.body
                    if body is not None:
                        return body([f.env, arg(frame)])
                    return f.invoke(f.env, arg(frame))
                return call_value(f, arg(frame))
            except EvalError as e:
                if e.pos is None:
                    e.pos = node
                call_trace(e, f, node)
                raise

        return Code(ev)

    def ev_any(frame: Frame) -> Value:
        f = load(frame)
        if type(f) is not Lambda:
            f = fn(frame)
        try:
            if type(f) is Lambda:
                body = f.body
                if body is not None:
                    return body([f.env, arg(frame)])
                return f.invoke(f.env, arg(frame))
            return call_value(f, arg(frame))
        except EvalError as e:
            if e.pos is None:
                e.pos = node
            call_trace(e, f, node)
            raise

    return Code(ev_any)


def fold_select(base: Code, path: list[Any]) -> Any:
    """``builtins.map`` and the like: the selected value when it is known at compile time."""
    v = base.known
    for p in path:
        if type(v) is not NixAttrs or type(p) is not str:
            return NO_CONST
        v = v.d.get(p, NO_CONST)
        if v is NO_CONST or type(v) is Thunk:
            return NO_CONST
    return v


def direct_primop(prim: PrimOp, lzs: list[Any], node: Any) -> Code:
    fn = prim.fn
    lazy = prim.lazy
    if len(lzs) == 1:
        (a_lz,) = lzs
        strict0 = 0 not in lazy

        def ev1(frame: Frame) -> Value:
            a = a_lz(frame)
            try:
                if strict0 and type(a) is Thunk:
                    a = a.force()
                return fn(a)
            except EvalError as e:
                if e.pos is None:
                    e.pos = node
                raise

        return Code(ev1)
    if len(lzs) == 2:
        a_lz, b_lz = lzs
        s0 = 0 not in lazy
        s1 = 1 not in lazy

        def ev2(frame: Frame) -> Value:
            a = a_lz(frame)
            b = b_lz(frame)
            try:
                if s0 and type(a) is Thunk:
                    a = a.force()
                if s1 and type(b) is Thunk:
                    b = b.force()
                return fn(a, b)
            except EvalError as e:
                if e.pos is None:
                    e.pos = node
                raise

        return Code(ev2)

    def ev3(frame: Frame) -> Value:
        args = tuple([lz(frame) for lz in lzs])
        try:
            return run_primop(prim, args)
        except EvalError as e:
            if e.pos is None:
                e.pos = node
            raise

    return Code(ev3)


def call_trace(e: EvalError, f: Value, node: Any) -> None:
    """Record the ``… while evaluating 'f'`` / ``… from call site`` frames of a failed call."""
    if type(f) is Lambda:
        what = f"'{f.name}'" if f.name is not None else "anonymous lambda"
        e.add_trace(f.pos, f"while evaluating {what}")
        e.add_trace(node, "from call site")


def describe_lambda(name: str | None, node: Any) -> str:
    line, col = node.source.position(node.start)
    where = node.source.name
    if where == "«string»":
        where = "(string)"
    if name is None:
        return f"anonymous function at {where}:{line}:{col}"
    return f"'{name}' at {where}:{line}:{col}"
