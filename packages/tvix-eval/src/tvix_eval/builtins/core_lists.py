"""List builtins: ``length``, ``head``, ``map``, ``filter``, ``foldl'``, ``sort``, ``genList``…"""

from __future__ import annotations

from typing import Any

from tvix_eval.builtins._sort import natural_order, sort_numbers_or_strings, stable_sort
from tvix_eval.builtins.registry import builtin
from tvix_eval.runtime.errors import EvalError, TypeMismatch
from tvix_eval.runtime.ops import (
    MANY_CALLS,
    call_value,
    call_value2,
    expect_bool,
    expect_function,
    expect_int,
    expect_list,
    lazy_calls,
    less_than,
    nix_eq_shared,
)
from tvix_eval.runtime.values import (
    Lambda,
    NixAttrs,
    NixString,
    PrimOp,
    Thunk,
    Value,
    force,
    is_function,
)


def _plain_body(f: Value) -> tuple[Any, Any]:
    """For a plain lambda ``x: e``: its body and environment, to run ``e`` directly as calling
    it would; else ``(None, None)``."""
    if type(f) is Lambda:
        body = f.code.body
        if body is not None:
            return body, f.env
    return None, None


@builtin("length", 1)
def _length(xs: Value) -> Value:
    return len(xs if type(xs) is list else expect_list(xs))


@builtin("head", 1)
def _head(xs: Value) -> Value:
    xs = xs if type(xs) is list else expect_list(xs)
    if not xs:
        raise EvalError("list index 0 is out of bounds")
    return force(xs[0])


@builtin("tail", 1)
def _tail(xs: Value) -> Value:
    xs = xs if type(xs) is list else expect_list(xs)
    if not xs:
        raise EvalError("'tail' called on an empty list")
    return xs[1:]


@builtin("elemAt", 2)
def _elem_at(xs: Value, n: Value) -> Value:
    xs = xs if type(xs) is list else expect_list(xs)
    i = expect_int(n)
    if i < 0 or i >= len(xs):
        raise EvalError(f"list index {i} is out of bounds")
    return force(xs[i])


@builtin("map", 2, global_=True)
def _map(f: Value, xs: Value) -> Value:
    return lazy_calls(f, xs if type(xs) is list else expect_list(xs))


@builtin("filter", 2)
def _filter(f: Value, xs: Value) -> Value:
    if type(f) is not Lambda:
        expect_function(f)
    xs = xs if type(xs) is list else expect_list(xs)
    out = []
    if type(f) is Lambda and f.code.body is not None:
        # a plain lambda: run its body directly (what call_value would do)
        if f.code.warm_up is not None and len(xs) >= MANY_CALLS:
            f.code.warm_up()
        body = f.code.body
        env = f.env
        for x in xs:
            keep = body([env, x])
            if keep is True or (keep is not False and expect_bool(keep)):
                out.append(x)
    else:
        for x in xs:
            if expect_bool(call_value(f, x)):
                out.append(x)
    if len(out) == len(xs):
        return xs
    return out


@builtin("foldl'", 3, lazy_args=(1,))
def _foldl(f: Value, acc: Value, xs: Value) -> Value:
    """Left fold forcing each intermediate result (but not the initial accumulator)."""
    if type(f) is not Lambda:
        expect_function(f)
    xs = xs if type(xs) is list else expect_list(xs)
    if not xs:
        return force(acc)
    if type(f) is Lambda and f.code.body2 is not None:
        # a plain ``a: x: e``: run ``e`` directly (what call_value2 would do)
        if f.code.warm_up is not None and len(xs) >= MANY_CALLS:
            f.code.warm_up()
        body2 = f.code.body2
        env = f.env
        for x in xs:
            acc = body2([[env, acc], x])
        return acc
    for x in xs:
        acc = call_value2(f, acc, x)
    return acc


@builtin("genList", 2)
def _gen_list(f: Value, n: Value) -> Value:
    count = expect_int(n)
    if count < 0:
        raise EvalError(f"cannot create list of size {count}")
    return lazy_calls(f, range(count))


@builtin("elem", 2, lazy_args=(0,))
def _elem(x: Value, xs: Value) -> Value:
    """Whether the value is in the list (``==``, or the very same slot)."""
    items = xs if type(xs) is list else expect_list(xs)
    if not items:
        return False
    # nix_eq_shared forces x before the first element; a string is then compared inline
    xv = x.force() if type(x) is Thunk else x
    if type(xv) is str or type(xv) is NixString:
        for item in items:
            if item is x:
                return True
            y = item.force() if type(item) is Thunk else item
            if (type(y) is str or type(y) is NixString) and str.__eq__(xv, y):
                return True
        return False
    for y in items:  # noqa: SIM110 (no forcing through C-level any())
        if nix_eq_shared(x, y):
            return True
    return False


@builtin("concatLists", 1)
def _concat_lists(xss: Value) -> Value:
    out: list[Value] = []
    for xs in xss if type(xss) is list else expect_list(xss):
        out.extend(xs if type(xs) is list else expect_list(xs))
    return out


@builtin("concatMap", 2)
def _concat_map(f: Value, xs: Value) -> Value:
    if type(f) is not Lambda:
        expect_function(f)
    out: list[Value] = []
    body, env = _plain_body(f)
    for x in xs if type(xs) is list else expect_list(xs):
        result = body([env, x]) if body is not None else call_value(f, x)
        try:
            out.extend(result if type(result) is list else expect_list(result))
        except EvalError as e:
            # reported at the function (if it is a lambda), while invoking the builtin
            raise e.while_calling(
                "while invoking 'concatMap'", f.pos if type(f) is Lambda else None
            ) from None
    return out


@builtin("any", 2)
def _any(f: Value, xs: Value) -> Value:
    if type(f) is not Lambda:
        expect_function(f)
    body, env = _plain_body(f)
    for x in xs if type(xs) is list else expect_list(xs):
        keep = body([env, x]) if body is not None else call_value(f, x)
        if keep is True or (keep is not False and expect_bool(keep)):
            return True
    return False


@builtin("all", 2)
def _all(f: Value, xs: Value) -> Value:
    if type(f) is not Lambda:
        expect_function(f)
    body, env = _plain_body(f)
    for x in xs if type(xs) is list else expect_list(xs):
        keep = body([env, x]) if body is not None else call_value(f, x)
        if keep is False or (keep is not True and not expect_bool(keep)):
            return False
    return True


@builtin("partition", 2)
def _partition(f: Value, xs: Value) -> Value:
    if type(f) is not Lambda:
        expect_function(f)
    right: list[Value] = []
    wrong: list[Value] = []
    for x in xs if type(xs) is list else expect_list(xs):
        if expect_bool(call_value(f, x)):
            right.append(x)
        else:
            wrong.append(x)
    return NixAttrs({"right": right, "wrong": wrong})


@builtin("groupBy", 2)
def _group_by(f: Value, xs: Value) -> Value:
    from tvix_eval.runtime.ops import expect_string

    if type(f) is not Lambda:
        expect_function(f)
    groups: dict[str, list[Value]] = {}
    for x in xs if type(xs) is list else expect_list(xs):
        key = expect_string(call_value(f, x))
        groups.setdefault(str(key), []).append(x)
    return NixAttrs(dict(groups))


@builtin("sort", 2)
def _sort(cmp: Value, xs: Value) -> Value:
    """A stable sort by ``cmp a b`` (a is before b), comparing as C++ Nix's ``std::stable_sort``.

    The elements are forced first, and a comparator that is not a strict weak order gives the
    same result (and the same comparator calls) as in C++ Nix.
    """
    if type(cmp) is not Lambda:
        expect_function(cmp)
    items = xs if type(xs) is list else expect_list(xs)
    forced = [force(x) for x in items]
    descending = natural_order(cmp)
    if descending is not None:
        fast = sort_numbers_or_strings(forced, descending)
        if fast is not None:
            return fast
    if type(cmp) is PrimOp and cmp.name == "lessThan":
        return stable_sort(items, less_than)

    def lt(a: Value, b: Value) -> bool:
        return expect_bool(call_value2(cmp, a, b))

    return stable_sort(items, lt)


@builtin("genericClosure", 1)
def _generic_closure(args: Value) -> Value:
    """Breadth-first closure of ``startSet`` under ``operator``, deduplicated by ``key``.

    C++ Nix keeps the keys in an ordered set, so keys must be comparable with ``<``; numbers and
    strings use hashing here, other keys a linear scan with the same comparison.
    """
    from tvix_eval.builtins.core_attrs import missing_argument
    from tvix_eval.runtime.ops import expect_attrs

    args = expect_attrs(args)
    if "startSet" not in args.d:
        raise missing_argument("startSet", "genericClosure", args)
    work = list(expect_list(args.d["startSet"]))
    if "operator" not in args.d:
        raise missing_argument("operator", "genericClosure", args)
    op = args.d["operator"]
    out: list[Value] = []
    seen: set[object] = set()
    seen_kind: Value = _NO_KEY
    others: list[Value] = []
    i = 0
    while i < len(work):
        item = work[i]
        i += 1
        e = expect_attrs(item)
        if "key" not in e.d:
            raise EvalError("attribute 'key' required")
        key = force(e.d["key"])
        t = type(key)
        if t is int or t is float or t is bool:
            hk: object = ("n", key)
        elif isinstance(key, str):
            hk = ("s", str(key))
        else:
            hk = None
        if seen_kind is not _NO_KEY and (hk is None or type(seen_kind) is not type(key)):
            less_than(key, seen_kind)
        if seen_kind is _NO_KEY:
            seen_kind = key
        if hk is not None:
            if hk in seen:
                continue
            seen.add(hk)
        else:
            dup = False
            for k in others:
                if not less_than(k, key) and not less_than(key, k):
                    dup = True
                    break
            if dup:
                continue
            others.append(key)
        out.append(item)
        try:
            successors = call_value(op, item)
        except TypeMismatch as err:
            f = force(op)
            if not is_function(f) and not (type(f) is NixAttrs and "__functor" in f.d):
                # C++ Nix applies the operator without a position
                err.positioned = False
            raise
        work.extend(expect_list(successors))
    return out


_NO_KEY: Value = object()
