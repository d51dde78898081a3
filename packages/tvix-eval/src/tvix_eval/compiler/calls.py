"""Compiled function calls: application of variables and of builtins, and call traces."""

from __future__ import annotations

from typing import Any

from tvix_eval.compiler.code import NO_CONST, Code, EvFn, Frame
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import INT_MAX, INT_MIN, call_value, run_primop
from tvix_eval.runtime.values import Lambda, NixAttrs, PrimOp, Thunk, Value
from tvix_eval.syntax import ast

_APPLY_TEMPLATE = """def ev(frame):
    f = {slot}
    if type(f) is not Lambda:
        f = fn(frame)
    try:
        if type(f) is Lambda:
            c = f.code
            body = c.body
            if body is not None:
{arg_lines}
                return body([f.env, x])
            return c.invoke(f.env, arg(frame))
        return call_value(f, arg(frame))
    except EvalError as e:
        note_failed_call(e, f, node)
        raise
"""


def apply_local_inline(  # noqa: PLR0917
    node: Any, fn: Any, arg_code: Code, depth: int, idx: int, cache: str | None = None
) -> Code | None:
    """``f arg`` for a variable ``f``, generated with the argument's lazy form inline (a
    constant, a slot, a thunk, eager arithmetic) when it has one; else ``None``."""
    from tvix_eval.compiler.fastops import compiled_template, lazy_arg_src

    inline = lazy_arg_src(arg_code)
    if inline is None:
        return None
    lines, names = inline
    slot = "frame" + "[0]" * depth + f"[{idx}]"
    src = _APPLY_TEMPLATE.format(slot=slot, arg_lines="\n".join(" " * 16 + line for line in lines))
    namespace: dict[str, Any] = {
        "Lambda": Lambda,
        "Thunk": Thunk,
        "EvalError": EvalError,
        "call_value": call_value,
        "note_failed_call": note_failed_call,
        "INT_MIN": INT_MIN,
        "INT_MAX": INT_MAX,
        "fn": fn,
        "arg": arg_code.lz,
        "node": node,
        **names,
    }
    exec(compiled_template(src, "<nix call>", cache), namespace)
    ev: EvFn = namespace["ev"]
    return Code(ev)


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
                    c = f.code
                    body = c.body
                    if body is not None:
                        return body([f.env, arg(frame)])
                    return c.invoke(f.env, arg(frame))
                return call_value(f, arg(frame))
            except EvalError as e:
                note_failed_call(e, f, node)
                raise

        return Code(ev)

    def ev_any(frame: Frame) -> Value:
        f = load(frame)
        if type(f) is not Lambda:
            f = fn(frame)
        try:
            if type(f) is Lambda:
                c = f.code
                body = c.body
                if body is not None:
                    return body([f.env, arg(frame)])
                return c.invoke(f.env, arg(frame))
            return call_value(f, arg(frame))
        except EvalError as e:
            note_failed_call(e, f, node)
            raise

    return Code(ev_any)


def direct_call(node: Any, known: Any) -> tuple[PrimOp, list[Any]] | None:
    """For ``f a b …`` whose head ``f`` (a variable or selection) holds a builtin known at
    compile time (``known(f)``) that takes exactly these arguments (at most 3): the builtin
    and the argument nodes in order, to call it without partial applications."""
    args: list[Any] = []
    head: Any = node
    while type(head) is ast.Apply:
        args.append(head.arg)
        head = head.fn
    if type(head) not in (ast.Ident, ast.Select):
        return None
    prim = known(head)
    if type(prim) is not PrimOp or prim.arity != len(args) or prim.arity > 3:
        return None
    args.reverse()
    return prim, args


def fold_select(base: Code, path: list[Any]) -> Any:
    """``builtins.map`` and the like: the selected value when it is known at compile time."""
    return fold_path(base.known, path)


def fold_path(v: Any, path: Any) -> Any:
    """``v.path`` when ``v`` is a value known at compile time and every name is static and
    leads to a value (not a thunk); else NO_CONST."""
    for p in path:
        if type(v) is not NixAttrs or type(p) is not str:
            return NO_CONST
        v = v.d.get(p, NO_CONST)
        if v is NO_CONST or type(v) is Thunk:
            return NO_CONST
    return v


def _strict_arg(code: Code) -> EvFn:
    """How a direct builtin call gets an argument it forces at once: evaluated in place, or (a
    variable) read from its slot and forced by the call, so errors keep the call's position."""
    if code.local is not None:
        lz = code.lz

        def read(frame: Frame) -> Value:
            v = lz(frame)
            if type(v) is Thunk:
                return v.force()
            return v

        return read
    return code.ev


def direct_primop(prim: PrimOp, args: list[Code], node: Any) -> Code:
    """``prim a b …`` with exactly ``prim.arity`` arguments: the strict ones are evaluated
    directly (no thunk), the lazy ones as thunks, and the implementation is called at once."""
    fn = prim.fn
    lazy = prim.lazy
    gets = [c.lz if i in lazy else _strict_arg(c) for i, c in enumerate(args)]
    if len(gets) == 1:
        (a_get,) = gets

        def ev1(frame: Frame) -> Value:
            try:
                return fn(a_get(frame))
            except EvalError as e:
                if e.pos is None:
                    e.pos = node
                raise

        return Code(ev1)
    if len(gets) == 2:
        a_get, b_get = gets

        def ev2(frame: Frame) -> Value:
            try:
                return fn(a_get(frame), b_get(frame))
            except EvalError as e:
                if e.pos is None:
                    e.pos = node
                raise

        return Code(ev2)
    if len(gets) == 3:
        a_get, b_get, c_get = gets

        def ev3(frame: Frame) -> Value:
            try:
                return fn(a_get(frame), b_get(frame), c_get(frame))
            except EvalError as e:
                if e.pos is None:
                    e.pos = node
                raise

        return Code(ev3)
    lzs = [c.lz for c in args]

    def evn(frame: Frame) -> Value:
        values = tuple([lz(frame) for lz in lzs])
        try:
            return run_primop(prim, values)
        except EvalError as e:
            if e.pos is None:
                e.pos = node
            raise

    return Code(evn)


def note_failed_call(e: EvalError, f: Value, node: Any) -> None:
    """Give a failed call's error the call site as position (if it has none yet) and the
    ``… while evaluating 'f'`` / ``… from call site`` frames."""
    if e.pos is None:
        e.pos = node
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
