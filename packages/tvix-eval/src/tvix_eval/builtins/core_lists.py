"""List builtins: ``length``, ``head``, ``map``, ``filter``, ``foldl'``, ``sort``, ``genList``…"""

from __future__ import annotations

from tvix_eval.builtins.registry import builtin
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import (
    call_value,
    call_value2,
    expect_bool,
    expect_int,
    expect_list,
    lazy_call,
    nix_eq_shared,
)
from tvix_eval.runtime.values import NixAttrs, Value, force


@builtin("length", 1)
def _length(xs: Value) -> Value:
    return len(expect_list(xs))


@builtin("head", 1)
def _head(xs: Value) -> Value:
    xs = expect_list(xs)
    if not xs:
        raise EvalError("list index 0 is out of bounds")
    return force(xs[0])


@builtin("tail", 1)
def _tail(xs: Value) -> Value:
    xs = expect_list(xs)
    if not xs:
        raise EvalError("'tail' called on an empty list")
    return xs[1:]


@builtin("elemAt", 2)
def _elem_at(xs: Value, n: Value) -> Value:
    xs = expect_list(xs)
    i = expect_int(n)
    if i < 0 or i >= len(xs):
        raise EvalError(f"list index {i} is out of bounds")
    return force(xs[i])


@builtin("map", 2, global_=True)
def _map(f: Value, xs: Value) -> Value:
    return [lazy_call(f, x) for x in expect_list(xs)]


@builtin("filter", 2)
def _filter(f: Value, xs: Value) -> Value:
    xs = expect_list(xs)
    out = []
    for x in xs:
        if expect_bool(call_value(f, x)):
            out.append(x)
    if len(out) == len(xs):
        return xs
    return out


@builtin("foldl'", 3, lazy_args=(1,))
def _foldl(f: Value, acc: Value, xs: Value) -> Value:
    """Left fold forcing each intermediate result (but not the initial accumulator)."""
    xs = expect_list(xs)
    if not xs:
        return force(acc)
    for x in xs:
        acc = call_value2(f, acc, x)
    return acc


@builtin("genList", 2)
def _gen_list(f: Value, n: Value) -> Value:
    count = expect_int(n)
    if count < 0:
        raise EvalError(f"cannot create list of size {count}")
    return [lazy_call(f, i) for i in range(count)]


@builtin("elem", 2, lazy_args=(0,))
def _elem(x: Value, xs: Value) -> Value:
    for y in expect_list(xs):  # noqa: SIM110 (no forcing through C-level any())
        if nix_eq_shared(x, y):
            return True
    return False


@builtin("concatLists", 1)
def _concat_lists(xss: Value) -> Value:
    out: list[Value] = []
    for xs in expect_list(xss):
        out.extend(expect_list(xs))
    return out


@builtin("concatMap", 2)
def _concat_map(f: Value, xs: Value) -> Value:
    out: list[Value] = []
    for x in expect_list(xs):
        out.extend(expect_list(call_value(f, x)))
    return out


@builtin("any", 2)
def _any(f: Value, xs: Value) -> Value:
    for x in expect_list(xs):  # noqa: SIM110 (no forcing through C-level any())
        if expect_bool(call_value(f, x)):
            return True
    return False


@builtin("all", 2)
def _all(f: Value, xs: Value) -> Value:
    for x in expect_list(xs):  # noqa: SIM110 (no forcing through C-level all())
        if not expect_bool(call_value(f, x)):
            return False
    return True


@builtin("partition", 2)
def _partition(f: Value, xs: Value) -> Value:
    right: list[Value] = []
    wrong: list[Value] = []
    for x in expect_list(xs):
        if expect_bool(call_value(f, x)):
            right.append(x)
        else:
            wrong.append(x)
    return NixAttrs({"right": right, "wrong": wrong})


@builtin("groupBy", 2)
def _group_by(f: Value, xs: Value) -> Value:
    from tvix_eval.runtime.ops import expect_string

    groups: dict[str, list[Value]] = {}
    for x in expect_list(xs):
        key = expect_string(call_value(f, x))
        groups.setdefault(str(key), []).append(x)
    return NixAttrs(dict(groups))


def _less(cmp: Value, a: Value, b: Value) -> bool:
    return expect_bool(call_value2(cmp, a, b))


def _merge_sort(cmp: Value, xs: list[Value]) -> list[Value]:
    """A stable merge sort calling the Nix comparator directly (no ``key=``)."""
    n = len(xs)
    if n <= 1:
        return list(xs)
    if n <= 8:
        out = list(xs)
        for i in range(1, n):
            x = out[i]
            j = i
            while j > 0 and _less(cmp, x, out[j - 1]):
                out[j] = out[j - 1]
                j -= 1
            out[j] = x
        return out
    mid = n // 2
    left = _merge_sort(cmp, xs[:mid])
    right = _merge_sort(cmp, xs[mid:])
    merged: list[Value] = []
    i = j = 0
    while i < len(left) and j < len(right):
        if _less(cmp, right[j], left[i]):
            merged.append(right[j])
            j += 1
        else:
            merged.append(left[i])
            i += 1
    merged.extend(left[i:])
    merged.extend(right[j:])
    return merged


@builtin("sort", 2)
def _sort(cmp: Value, xs: Value) -> Value:
    xs = expect_list(xs)
    return _merge_sort(cmp, xs)


@builtin("genericClosure", 1)
def _generic_closure(args: Value) -> Value:
    """Breadth-first closure of ``startSet`` under ``operator``, deduplicated by ``key``.

    C++ Nix keeps the keys in an ordered set, so keys must be comparable with ``<``; numbers and
    strings use hashing here, other keys a linear scan with the same comparison.
    """
    from tvix_eval.runtime.ops import expect_attrs, less_than

    args = expect_attrs(args)
    start = args.d.get("startSet")
    if start is None:
        raise EvalError("attribute 'startSet' missing for call to 'genericClosure'")
    op = args.d.get("operator")
    if op is None:
        raise EvalError("attribute 'operator' missing for call to 'genericClosure'")
    work = list(expect_list(start))
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
        work.extend(expect_list(call_value(op, item)))
    return out


_NO_KEY: Value = object()
