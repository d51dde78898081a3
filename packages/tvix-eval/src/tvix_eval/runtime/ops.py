"""Operations on values every part of the evaluator needs: calling, forcing deeply, equality,
ordering, arithmetic and string coercion, with C++ Nix's semantics and error texts.

All of these are plain Python functions that call each other directly (never through dunder
methods, ``map`` or ``sorted(key=…)``), so deep Nix recursion stays within the Python stack the
evaluator thread provides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tvix_eval.runtime import context as _context
from tvix_eval.runtime.errors import EvalError, TypeMismatch
from tvix_eval.runtime.values import (
    Lambda,
    MergedPositions,
    NixAttrs,
    NixPath,
    NixString,
    PrimOp,
    PrimOpApp,
    Thunk,
    Value,
    make_string,
    show_type,
)

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1


# --------------------------------------------------------------------------- calling


def call_value(f: Value, arg: Value) -> Value:
    """Apply a function value (lambda, builtin, ``__functor`` set) to one argument."""
    t = type(f)
    if t is Thunk:
        f = f.force()
        t = type(f)
    if t is Lambda:
        code = f.code
        body = code.body
        if body is not None:
            return body([f.env, arg])
        return code.invoke(f.env, arg)
    if t is PrimOp:
        if f.arity == 1:
            return run_primop(f, (arg,))
        return PrimOpApp(f, (arg,))
    if t is PrimOpApp:
        p = f.primop
        args = (*f.args, arg)
        if len(args) == p.arity:
            return run_primop(p, args)
        return PrimOpApp(p, args)
    if t is NixAttrs:
        functor = f.d.get("__functor")
        if functor is not None:
            return call_value(call_value(functor, f), arg)
    raise TypeMismatch(f"attempt to call something which is not a function but {show_type(f)}")


def call_value2(f: Value, a: Value, b: Value) -> Value:
    """``f a b``, with a shortcut for curried plain lambdas (``a: b: …``)."""
    if type(f) is Lambda:
        code = f.code
        if code.body2 is not None:
            return code.body2([[f.env, a], b])
        g = code.invoke(f.env, a)
    else:
        g = call_value(f, a)
    if type(g) is Lambda:
        return g.code.invoke(g.env, b)
    return call_value(g, b)


def run_primop(p: PrimOp, args: tuple[Value, ...]) -> Value:
    """Run a saturated builtin: force the strict arguments, then call its implementation."""
    lazy = p.lazy
    fn = p.fn
    n = len(args)
    if n == 1:
        a0 = args[0]
        if not lazy and type(a0) is Thunk:
            a0 = a0.force()
        return fn(a0)
    if n == 2:
        a0, a1 = args
        if 0 not in lazy and type(a0) is Thunk:
            a0 = a0.force()
        if 1 not in lazy and type(a1) is Thunk:
            a1 = a1.force()
        return fn(a0, a1)
    forced = []
    for i, a in enumerate(args):
        forced.append(a.force() if i not in lazy and type(a) is Thunk else a)
    if n == 3:
        return fn(forced[0], forced[1], forced[2])
    return fn(*forced)


def _apply_pair(pair: tuple[Value, Value]) -> Value:
    return call_value(pair[0], pair[1])


def lazy_call(f: Value, arg: Value) -> Thunk:
    """A thunk for ``f arg`` (what ``map`` and friends put in their results)."""
    return Thunk(_apply_pair, (f, arg))


_new = object.__new__

#: a builtin that will call a lambda this many times or more has it compiled first
MANY_CALLS = 32


def lazy_calls(f: Value, args: Sequence[Value]) -> list[Value]:
    """Thunks for ``f x``, one per ``x`` in ``args`` (``map``, ``genList``).

    For a plain lambda ``x: e`` each thunk runs ``e`` in a new frame directly, as calling the
    lambda would, without going through :func:`call_value`.
    """
    if type(f) is Lambda:
        code = f.code
        if code.warm_up is not None and len(args) >= MANY_CALLS:
            code.warm_up()
        body = code.body
        if body is not None:
            env = f.env
            out: list[Value] = []
            append = out.append
            for x in args:  # without the frame of Thunk.__init__
                t = _new(Thunk)
                t.code = body
                t.env = [env, x]
                append(t)
            return out
    return [Thunk(_apply_pair, (f, x)) for x in args]


# --------------------------------------------------------------------------- // and ++


def update_attrs(a: NixAttrs, b: NixAttrs) -> NixAttrs:
    """``a // b`` on sets (an empty side gives the other one itself, as in C++ Nix)."""
    if not b.d:
        return a
    if not a.d:
        return b
    d = a.d.copy()
    d.update(b.d)
    pa = a.pos
    pb = b.pos
    if pa is None:
        pos = pb
    elif pb is None:
        pos = pa
    else:
        pos = MergedPositions((pb, pa))
    r = _new(NixAttrs)  # without the frame of NixAttrs.__init__
    r.d = d
    r._keys = None
    r.pos = pos
    return r


def concat_lists(a: Value, b: Value, node: Any) -> list[Value]:
    """``a ++ b`` on forced operands; a type error gets the position ``node``."""
    try:
        a = a if type(a) is list else expect_list(a)
        b = b if type(b) is list else expect_list(b)
    except EvalError as e:
        raise e.at(node) from None
    if not b and len(a) > 2:
        return a  # type: ignore[no-any-return]
    if not a and len(b) > 2:
        return b  # type: ignore[no-any-return]
    return a + b  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- forcing


def force_deep(v: Value, seen: set[int] | None = None) -> Value:
    """Force a value and everything inside it (``--strict``, ``deepSeq``); returns it forced.

    ``seen`` holds the ids of the lists and sets already walked (each is walked once)."""
    if type(v) is Thunk:
        v = v.force()
    t = type(v)
    if t is NixAttrs:
        _force_attrs(v, set() if seen is None else seen)
    elif t is list:
        _force_list(v, set() if seen is None else seen)
    return v


def _force_attrs(v: NixAttrs, seen: set[int]) -> None:
    if id(v) in seen:
        return
    seen.add(id(v))
    d = v.d
    for name in v.sorted_keys():
        item = d[name]
        try:
            if type(item) is Thunk:
                item = item.force()
            t = type(item)
            if t is NixAttrs:
                _force_attrs(item, seen)
            elif t is list:
                _force_list(item, seen)
        except EvalError as e:
            pos = v.pos.get(name) if v.pos is not None else None
            e.add_trace(pos, f"while evaluating the attribute '{name}'", True)
            raise


def _force_list(v: list[Value], seen: set[int]) -> None:
    if id(v) in seen:
        return
    seen.add(id(v))
    for slot in v:
        item = slot.force() if type(slot) is Thunk else slot
        t = type(item)
        if t is NixAttrs:
            _force_attrs(item, seen)
        elif t is list:
            _force_list(item, seen)


# --------------------------------------------------------------------------- typed forcing


def expect_int(v: Value) -> int:
    """Force ``v`` and check it is an integer."""
    if type(v) is Thunk:
        v = v.force()
    if type(v) is not int:
        raise TypeMismatch(f"value is {show_type(v)} while an integer was expected")
    return v


def expect_float(v: Value) -> float:
    """Force ``v`` and check it is a number; returns it as a float."""
    if type(v) is Thunk:
        v = v.force()
    t = type(v)
    if t is float:
        return v  # type: ignore[no-any-return]
    if t is int:
        return float(v)
    raise TypeMismatch(f"value is {show_type(v)} while a float was expected")


def expect_bool(v: Value) -> bool:
    """Force ``v`` and check it is a Boolean."""
    if type(v) is Thunk:
        v = v.force()
    if type(v) is not bool:
        raise TypeMismatch(f"value is {show_type(v)} while a Boolean was expected")
    return v


def expect_string(v: Value) -> str:
    """Force ``v`` and check it is a string (no coercion); the result keeps its context."""
    if type(v) is Thunk:
        v = v.force()
    t = type(v)
    if t is not str and t is not NixString:
        raise TypeMismatch(f"value is {show_type(v)} while a string was expected")
    return v  # type: ignore[no-any-return]


def expect_list(v: Value) -> list[Value]:
    """Force ``v`` and check it is a list."""
    if type(v) is Thunk:
        v = v.force()
    if type(v) is not list:
        raise TypeMismatch(f"value is {show_type(v)} while a list was expected")
    return v


def expect_attrs(v: Value) -> NixAttrs:
    """Force ``v`` and check it is an attribute set."""
    if type(v) is Thunk:
        v = v.force()
    if type(v) is not NixAttrs:
        raise TypeMismatch(f"value is {show_type(v)} while a set was expected")
    return v


def expect_function(v: Value) -> Value:
    """Force ``v`` and check it can be called: a lambda, a builtin or a set with ``__functor``
    (C++ Nix's ``forceFunction``)."""
    if type(v) is Thunk:
        v = v.force()
    t = type(v)
    if (
        t is not Lambda
        and t is not PrimOp
        and t is not PrimOpApp
        and (t is not NixAttrs or "__functor" not in v.d)
    ):
        raise TypeMismatch(f"value is {show_type(v)} while a function was expected")
    return v


# --------------------------------------------------------------------------- arithmetic


def check_int(n: int, op: str, a: int, b: int) -> int:
    """Raise Nix's overflow error when ``n`` does not fit in 64 bits."""
    if INT_MIN <= n <= INT_MAX:
        return n
    raise EvalError(f"integer overflow in {op} {a} {_OP_SYMBOL[op]} {b}")


_OP_SYMBOL = {"adding": "+", "subtracting": "-", "multiplying": "*", "dividing": "/"}


def arith(op: str, a: Value, b: Value) -> Value:
    """``-``, ``*`` and ``/`` (``builtins.sub``/``mul``/``div``) on forced or unforced numbers."""
    if type(a) is Thunk:
        a = a.force()
    if type(b) is Thunk:
        b = b.force()
    ta = type(a)
    tb = type(b)
    if op == "/" and expect_float(b) == 0.0:
        raise EvalError("division by zero")
    if ta is int and tb is int:
        if op == "-":
            return check_int(a - b, "subtracting", a, b)
        if op == "*":
            return check_int(a * b, "multiplying", a, b)
        if a == INT_MIN and b == -1:
            raise EvalError("overflow in integer division")
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q
    if ta is float or tb is float:
        x = expect_float(a)
        y = expect_float(b)
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        return x / y
    expect_int(a)
    expect_int(b)
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- equality and order


def nix_eq(a: Value, b: Value) -> bool:
    """Nix's ``==``: numbers across int/float, structural on lists and sets, functions never."""
    if type(a) is Thunk:
        a = a.force()
    if type(b) is Thunk:
        b = b.force()
    ta = type(a)
    tb = type(b)
    if ta is int or ta is float:
        return (tb is int or tb is float) and a == b
    if ta is str or ta is NixString:
        return (tb is str or tb is NixString) and str.__eq__(a, b)
    if ta is bool:
        return tb is bool and a is b
    if a is None:
        return b is None
    if ta is NixPath:
        return tb is NixPath and a.path == b.path
    if ta is list:
        if tb is not list or len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            if x is y:
                if type(x) is Thunk:
                    x.force()
                continue
            if not nix_eq(x, y):
                return False
        return True
    if ta is NixAttrs:
        if tb is not NixAttrs:
            return False
        if is_derivation(a) and is_derivation(b):
            pa = a.d.get("outPath")
            pb = b.d.get("outPath")
            if pa is not None and pb is not None:
                return nix_eq(pa, pb)
        if len(a.d) != len(b.d):
            return False
        bd = b.d
        for k, x in a.sorted_items():
            y = bd.get(k)
            if y is None and k not in bd:
                return False
            if x is y:
                if type(x) is Thunk:
                    x.force()
                continue
            if not nix_eq(x, y):
                return False
        return True
    return False


def nix_eq_shared(x: Value, y: Value) -> bool:
    """Equality of two slots (list elements, attribute values, builtin arguments): the same
    slot is equal to itself once forced, even if it holds a function, as in C++ Nix."""
    if x is y:
        if type(x) is Thunk:
            x.force()
        return True
    return nix_eq(x, y)


def is_derivation(a: NixAttrs) -> bool:
    """Whether a set has ``type = "derivation"`` (forcing ``type``)."""
    t = a.d.get("type")
    if t is None:
        return False
    if type(t) is Thunk:
        t = t.force()
    return (type(t) is str or type(t) is NixString) and t == "derivation"


def less_than(a: Value, b: Value) -> bool:
    """Nix's ``<``: numbers, strings, paths and (lexicographically) lists."""
    if type(a) is Thunk:
        a = a.force()
    if type(b) is Thunk:
        b = b.force()
    ta = type(a)
    tb = type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a < b  # type: ignore[no-any-return]
    if (ta is str or ta is NixString) and (tb is str or tb is NixString):
        return a.encode() < b.encode()  # type: ignore[no-any-return]
    if ta is NixPath and tb is NixPath:
        return a.path.encode() < b.path.encode()  # type: ignore[no-any-return]
    if ta is list and tb is list:
        n = min(len(a), len(b))
        for i in range(n):
            x = a[i]
            y = b[i]
            if x is y:
                continue
            if not nix_eq(x, y):
                return less_than(x, y)
        return len(a) < len(b)
    raise EvalError(f"cannot compare {show_type(a)} with {show_type(b)}", positioned=False)


# --------------------------------------------------------------------------- coercion


def canon_path(path: str) -> str:
    """Lexical canonicalisation of an absolute path (``.``, ``..``, ``//``, trailing ``/``)."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in {"", "."}:
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def copy_path_to_store(path: str) -> NixString:
    """Copy a path to the store through the evaluation's IO; a string with the store path."""
    from tvix_eval.io import EvalIOError

    state = _context.current()
    cache = state.extra.setdefault("copied_paths", {})
    store_path = cache.get(path)
    if store_path is None:
        try:
            store_path = state.io.import_path(path)
        except EvalIOError as e:
            raise EvalError(str(e), positioned=False) from None
        cache[path] = store_path
    return NixString(store_path, (store_path,))


def coerce_to_string(
    v: Value,
    *,
    strong: bool = False,
    copy_to_store: bool = True,
) -> str:
    """C++ Nix's ``coerceToString``: returns a ``str`` (a :class:`NixString` if it has context).

    Weak coercion (``strong=False``: interpolation, ``+``) accepts strings, paths (copied to the
    store when ``copy_to_store``), and sets with ``__toString`` or ``outPath``; strong coercion
    (``toString``) also accepts null, Booleans, numbers and lists.
    """
    if type(v) is Thunk:
        v = v.force()
    t = type(v)
    if t is str or t is NixString:
        return v  # type: ignore[no-any-return]
    if t is NixPath:
        if copy_to_store:
            return copy_path_to_store(v.path)
        return v.path  # type: ignore[no-any-return]
    if t is NixAttrs:
        to_string = v.d.get("__toString")
        if to_string is not None:
            r = call_value(to_string, v)
            return coerce_to_string(r, strong=strong, copy_to_store=copy_to_store)
        out_path = v.d.get("outPath")
        if out_path is None:
            raise TypeMismatch("cannot coerce a set to a string")
        return coerce_to_string(out_path, strong=strong, copy_to_store=copy_to_store)
    if strong:
        if t is bool:
            return "1" if v else ""
        if t is int:
            return str(v)
        if t is float:
            return f"{v:f}"
        if v is None:
            return ""
        if t is list:
            parts: list[str] = []
            context: set[str] = set()
            n = len(v)
            for i, item in enumerate(v):
                s = coerce_to_string(item, strong=True, copy_to_store=copy_to_store)
                if type(s) is NixString:
                    context |= s.context
                parts.append(s)
                if i < n - 1:
                    forced = item.force() if type(item) is Thunk else item
                    if type(forced) is not list or len(forced) != 0:
                        parts.append(" ")
            return make_string("".join(parts), frozenset(context))
    raise TypeMismatch(f"cannot coerce {show_type(v)} to a string")


def concat_strings(parts: list[str]) -> str:
    """Concatenate string values, uniting their contexts."""
    context: frozenset[str] | None = None
    for p in parts:
        if type(p) is NixString:
            context = p.context if context is None else context | p.context
    return make_string("".join(parts), context)
