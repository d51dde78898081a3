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
from tvix_eval.runtime.ops import INT_MAX, INT_MIN, arith, coerce_to_string, less_than, nix_eq
from tvix_eval.runtime.values import NixPath, Thunk, Value

_INT_OPS = {
    "+": "a + b",
    "-": "a - b",
    "*": "a * b",
    "/": "a // b",
}
#: extra conditions for the inline integer case (C division truncates; Python's floors)
_INT_GUARDS = {"/": " and a >= 0 and b > 0"}
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


def _compiled(src: str, name: str, cache: str | None) -> CodeType:
    """The code object for a generated template (a handful of distinct ones per program),
    compiled once and kept like the code of hot lambdas (see code_cache)."""
    from tvix_eval.compiler.code_cache import compiled

    return compiled(src, name, cache)


#: the cached compilation of generated code, for the other compiler modules
compiled_template = _compiled


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
    from tvix_eval.compiler.operators import add_values  # operators imports this module

    def add_rest(a: Value, rev: EvFn, frame: Any) -> Value:
        if type(a) is not NixPath:
            try:
                a = coerce_to_string(a)
            except EvalError as e:
                raise e.at(node.lhs) from None
        return add_values(a, rev(frame), node)

    return add_rest


def specialise(
    node: Any, lhs: Code, rhs: Code, allow_eager: bool, cache: str | None = None
) -> Code | None:
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
            f"    if type(a) is int and type(b) is int{_INT_GUARDS.get(op, '')}:\n"
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
            f"    if type(a) is int and type(b) is int{_INT_GUARDS.get(op, '')}:\n"
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
    exec(_compiled(src, f"<nix operator {op}>", cache), namespace)
    ev: EvFn = namespace["ev"]
    if eager:
        code = Code(ev, namespace["lz"])
        code.lz_src = _eager_lz_src(op, peek_a, peek_b, lhs, rhs, ev)
        return code
    return Code(ev)


def _eager_lz_src(  # noqa: PLR0917
    op: str, peek_a: str, peek_b: str, lhs: Code, rhs: Code, ev: EvFn
) -> tuple[list[str], dict[str, Any]]:
    """The eager ``lz`` of ``a op b`` as lines setting ``x`` (see :func:`lazy_arg_src`)."""
    lines = [
        f"a = {peek_a}",
        f"b = {peek_b}",
        f"if type(a) is int and type(b) is int{_INT_GUARDS.get(op, '')}:",
        f"    x = {_INT_OPS[op]}",
        "    if not INT_MIN <= x <= INT_MAX:",
        "        x = Thunk(x_ev, frame)",
        "else:",
        "    x = Thunk(x_ev, frame)",
    ]
    namespace = {
        "a_const": lhs.const,
        "b_const": rhs.const,
        "x_ev": ev,
        "INT_MIN": INT_MIN,
        "INT_MAX": INT_MAX,
    }
    return lines, namespace


def lazy_arg_src(code: Code) -> tuple[list[str], dict[str, Any]] | None:
    """Source lines setting ``x`` to what ``code.lz(frame)`` returns (with the names they use),
    or ``None`` when there is no inline form."""
    if code.const is not NO_CONST:
        return ["x = x_const"], {"x_const": code.const}
    if code.local is not None:
        return [f"x = {_slot_expr(*code.local)}"], {}
    if code.thunk_lz:
        return ["x = Thunk(x_ev, frame)"], {"x_ev": code.ev}
    return code.lz_src


def fused_if(  # noqa: PLR0917
    node: Any,
    cond: Any,
    lhs: Code,
    rhs: Code,
    then_: Code,
    else_: Code,
    cache: str | None = None,
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
    exec(_compiled(src, "<nix if>", cache), namespace)
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


#: interpolations with more parts use the general loop (compiler.c_Str)
MAX_FUSED_PARTS = 8


def fused_interpolation(
    parts: list[str | tuple[Code, Any]], cache: str | None = None
) -> Code | None:
    """``"a${x}b${y}"`` as one generated closure: each part is read inline (a variable's slot
    when already evaluated), plain strings are joined directly, anything else is coerced as in
    the general case. ``parts`` are literal strings and ``(code, node)`` pairs."""
    from tvix_eval.compiler.access import interpolation_pos
    from tvix_eval.runtime.ops import coerce_to_string, concat_strings

    n_exprs = sum(1 for p in parts if not isinstance(p, str))
    if not n_exprs or n_exprs > MAX_FUSED_PARTS:
        return None
    namespace: dict[str, Any] = {"Thunk": Thunk, "concat_strings": concat_strings}
    src = ["def ev(frame):\n    ctx = False\n"]
    pieces: list[str] = []
    k = 0
    for p in parts:
        if isinstance(p, str):
            namespace[f"lit{len(pieces)}"] = p
            pieces.append(f"lit{len(pieces)}")
            continue
        code, pnode = p
        load, _ = _operand(code, f"v{k}", f"e{k}")
        namespace[f"e{k}"] = code.ev
        namespace[f"v{k}_const"] = code.const
        namespace[f"coerce{k}"] = _interpolation_coercer(pnode, coerce_to_string, interpolation_pos)
        src.append(
            load + f"    if type(v{k}) is not str:\n"
            f"        v{k} = coerce{k}(v{k})\n"
            f"        if type(v{k}) is not str:\n"
            "            ctx = True\n"
        )
        pieces.append(f"v{k}")
        k += 1
    joined = ", ".join(pieces)
    src.append(f"    if ctx:\n        return concat_strings([{joined}])\n")
    src.append(f"    return ''.join(({joined},))\n")
    exec(_compiled("".join(src), "<nix interpolation>", cache), namespace)
    ev: EvFn = namespace["ev"]
    return Code(ev)


def _interpolation_coercer(pnode: Any, coerce: Any, position: Any) -> Any:
    def coerce_part(v: Value) -> str:
        try:
            s: str = coerce(v)
        except EvalError as e:
            raise e.at(position(pnode)) from None
        return s

    return coerce_part


#: set literals with more attributes use a loop (bounds the size of generated code)
MAX_FUSED_ATTRS = 64


def dict_builder(entries: list[tuple[str, Code]], cache: str | None = None) -> EvFn | None:
    """A function building the ``dict`` of a set literal's static attributes in one display:
    constants and variables are read inline and thunks made directly, without a call of each
    value's ``lz``. ``None`` for literals with more than :data:`MAX_FUSED_ATTRS` attributes."""
    if len(entries) > MAX_FUSED_ATTRS:
        return None
    namespace: dict[str, Any] = {"Thunk": Thunk}
    items: list[str] = []
    for i, (name, code) in enumerate(entries):
        namespace[f"k{i}"] = name
        items.append(f"k{i}: {_lazy_expr(code, i, namespace)}")
    src = "def build(frame):\n    return {" + ", ".join(items) + "}\n"
    exec(_compiled(src, "<nix set>", cache), namespace)
    build: EvFn = namespace["build"]
    return build


def list_builder(items: list[Code], cache: str | None = None) -> EvFn | None:
    """Like :func:`dict_builder`, for the elements of a list literal."""
    if len(items) > MAX_FUSED_ATTRS:
        return None
    namespace: dict[str, Any] = {"Thunk": Thunk}
    values = [_lazy_expr(code, i, namespace) for i, code in enumerate(items)]
    src = "def build(frame):\n    return [" + ", ".join(values) + "]\n"
    exec(_compiled(src, "<nix list>", cache), namespace)
    build: EvFn = namespace["build"]
    return build


def _lazy_expr(code: Code, i: int, namespace: dict[str, Any]) -> str:
    """An expression for ``code.lz(frame)``, adding the names it uses to ``namespace``."""
    if code.const is not NO_CONST:
        namespace[f"c{i}"] = code.const
        return f"c{i}"
    if code.local is not None:
        return _slot_expr(*code.local)
    if code.thunk_lz:
        namespace[f"e{i}"] = code.ev
        return f"Thunk(e{i}, frame)"
    namespace[f"l{i}"] = code.lz
    return f"l{i}(frame)"
