"""Specialised closures for arithmetic and comparisons, generated from templates.

The hot loops of Nix programs are ``n - 1``, ``n < 2``, ``a + b`` on integers. For those, the
operands are read inline (a constant, or a frame slot when the variable is already evaluated)
instead of through another closure call, and the integer case is computed directly; anything else
falls back to the general implementation with the forced operands.
"""

from __future__ import annotations

from types import CodeType
from typing import Any

from tvix_eval.compiler.code import NO_CONST, Code, EvFn
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import INT_MAX, INT_MIN, arith, less_than, nix_eq
from tvix_eval.runtime.values import Thunk, Value

_INT_OPS = {
    "+": "a + b",
    "-": "a - b",
    "*": "a * b",
}
_CMP_OPS = {
    "<": "a < b",
    ">": "a > b",
    "<=": "a <= b",
    ">=": "a >= b",
    "==": "a == b",
    "!=": "a != b",
}


#: ``a > b`` and ``a <= b`` are C++ Nix's ``__lessThan b a``: the right operand is forced first.
_RHS_FIRST = frozenset([">", "<="])


_CODE_CACHE: dict[str, CodeType] = {}


def _compiled(src: str, name: str) -> CodeType:
    """The code object for a generated template (a handful of distinct ones per program)."""
    code = _CODE_CACHE.get(src)
    if code is None:
        code = _CODE_CACHE[src] = compile(src, name, "exec")
    return code


def _slot_expr(depth: int, idx: int) -> str:
    return "frame" + "[0]" * depth + f"[{idx}]"


def _operand(code: Code, var: str, fn_name: str) -> tuple[str, str]:
    """Source that sets ``var`` to the forced operand, and a peek expression (maybe a thunk)."""
    if code.const is not NO_CONST:
        return f"    {var} = {var}_const\n", f"{var}_const"
    if code.local is not None:
        depth, idx = code.local
        slot = _slot_expr(depth, idx)
        load = (
            f"    {var} = {slot}\n    if type({var}) is Thunk:\n        {var} = {fn_name}(frame)\n"
        )
        return load, slot
    return f"    {var} = {fn_name}(frame)\n", ""


def _slow(op: str, node: Any) -> Any:
    from tvix_eval.compiler.operators import add_values

    if op == "+":

        def slow(a: Value, b: Value) -> Value:
            return add_values(a, b, node)

    elif op in ("-", "*", "/"):

        def slow(a: Value, b: Value) -> Value:
            try:
                return arith(op, a, b)
            except EvalError as e:
                raise e.at(node) from None

    elif op in ("==", "!="):
        negate = op == "!="

        def slow(a: Value, b: Value) -> Value:
            try:
                r = nix_eq(a, b)
            except EvalError as e:
                raise e.at(node) from None
            return (not r) if negate else r

    else:
        swap = op in (">", "<=")
        negate = op in ("<=", ">=")

        def slow(a: Value, b: Value) -> Value:
            try:
                r = less_than(b, a) if swap else less_than(a, b)
            except EvalError as e:
                raise e.at(node) from None
            return (not r) if negate else r

    return slow


def _add_rest(node: Any) -> Any:
    from tvix_eval.compiler.operators import add_values
    from tvix_eval.runtime.ops import coerce_to_string
    from tvix_eval.runtime.values import NixPath

    def add_rest(a: Value, rev: EvFn, frame: Any) -> Value:
        if type(a) is not NixPath:
            try:
                a = coerce_to_string(a)
            except EvalError as e:
                raise e.at(node.lhs) from None
        return add_values(a, rev(frame), node)

    return add_rest


def specialise(node: Any, lhs: Code, rhs: Code, allow_eager: bool) -> Code | None:
    """A specialised :class:`Code` for ``lhs op rhs``, or ``None`` when no template applies.

    With ``allow_eager``, a lazy use of ``a + b`` on already-evaluated integers computes the
    result at once instead of allocating a thunk. That is invisible except in lazy printing
    (``<CODE>``), so it is only allowed when the result is printed strictly.
    """
    op = node.op
    if op not in _INT_OPS and op not in _CMP_OPS:
        return None
    load_a, peek_a = _operand(lhs, "a", "lev")
    load_b, peek_b = _operand(rhs, "b", "rev")
    if op in _INT_OPS:
        body = (
            "    if type(a) is int and type(b) is int:\n"
            f"        r = {_INT_OPS[op]}\n"
            "        if INT_MIN <= r <= INT_MAX:\n"
            "            return r\n"
            "    return slow(a, b)\n"
        )
    elif op in ("==", "!="):
        body = (
            "    ta = type(a)\n"
            "    if ta is type(b) and (ta is int or ta is str):\n"
            f"        return {_CMP_OPS[op]}\n"
            "    return slow(a, b)\n"
        )
    else:
        body = (
            "    if type(a) is int and type(b) is int:\n"
            f"        return {_CMP_OPS[op]}\n"
            "    return slow(a, b)\n"
        )
    loads = load_b + load_a if op in _RHS_FIRST else load_a + load_b
    src = "def ev(frame):\n" + loads + body
    if op == "+":
        # C++ Nix coerces a string/path/set left operand before evaluating the right one.
        src = (
            "def ev(frame):\n"
            + load_a
            + "    if type(a) is not int and type(a) is not float:\n"
            + "        return add_rest(a, rev, frame)\n"
            + load_b
            + body
        )
    eager = allow_eager and op in _INT_OPS and peek_a and peek_b
    if eager:
        src += (
            "\ndef lz(frame):\n"
            f"    a = {peek_a}\n"
            f"    b = {peek_b}\n"
            "    if type(a) is int and type(b) is int:\n"
            f"        r = {_INT_OPS[op]}\n"
            "        if INT_MIN <= r <= INT_MAX:\n"
            "            return r\n"
            "    return Thunk(ev, frame)\n"
        )
    namespace: dict[str, Any] = {
        "Thunk": Thunk,
        "INT_MIN": INT_MIN,
        "INT_MAX": INT_MAX,
        "lev": lhs.ev,
        "rev": rhs.ev,
        "a_const": lhs.const,
        "b_const": rhs.const,
        "slow": _slow(op, node),
        "add_rest": _add_rest(node),
    }
    exec(_compiled(src, f"<nix operator {op}>"), namespace)
    ev: EvFn = namespace["ev"]
    if eager:
        return Code(ev, namespace["lz"])
    return Code(ev)


def fused_if(  # noqa: PLR0917
    node: Any, cond: Any, lhs: Code, rhs: Code, then_: Code, else_: Code
) -> Code | None:
    """``if a < b then … else …`` in one closure: the comparison and branch reads are inlined."""
    op = cond.op
    if op not in _CMP_OPS:
        return None
    load_a, _ = _operand(lhs, "a", "lev")
    load_b, _ = _operand(rhs, "b", "rev")
    if op in ("==", "!="):
        test = "    ta = type(a)\n    if ta is type(b) and (ta is int or ta is str):\n"
    else:
        test = "    if type(a) is int and type(b) is int:\n"
    src = (
        "def ev(frame):\n"
        + (load_b + load_a if op in _RHS_FIRST else load_a + load_b)
        + test
        + f"        c = {_CMP_OPS[op]}\n"
        + "    else:\n"
        + "        c = slow(a, b)\n"
        + "    if c:\n"
        + _branch(then_, "then_ev", "        ")
        + _branch(else_, "else_ev", "    ")
    )
    namespace: dict[str, Any] = {
        "Thunk": Thunk,
        "lev": lhs.ev,
        "rev": rhs.ev,
        "then_ev": then_.ev,
        "else_ev": else_.ev,
        "a_const": lhs.const,
        "b_const": rhs.const,
        "slow": _slow(op, cond),
    }
    exec(_compiled(src, "<nix if>"), namespace)
    ev: EvFn = namespace["ev"]
    return Code(ev)


def _branch(code: Code, fn_name: str, indent: str) -> str:
    if code.local is not None:
        slot = _slot_expr(*code.local)
        return (
            f"{indent}v = {slot}\n"
            f"{indent}if type(v) is Thunk:\n"
            f"{indent}    return {fn_name}(frame)\n"
            f"{indent}return v\n"
        )
    return f"{indent}return {fn_name}(frame)\n"
