"""``builtins.sort``: libstdc++'s ``std::stable_sort``, step for step.

C++ Nix sorts with ``std::stable_sort`` and a comparator that calls the Nix function. Copying
the exact algorithm (insertion sort of 7-element chunks, then buffered merges) makes the result
and the order of comparator calls identical to Nix, even for comparators that are not a strict
weak order, whose results depend on the algorithm.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
Less = Callable[[T, T], bool]

_CHUNK = 7


def _insertion_sort(a: list[T], first: int, last: int, lt: Less[T]) -> None:
    for i in range(first + 1, last):
        val = a[i]
        if lt(val, a[first]):
            a[first + 1 : i + 1] = a[first:i]
            a[first] = val
        else:
            j = i
            prev = j - 1
            while lt(val, a[prev]):
                a[j] = a[prev]
                j = prev
                prev -= 1
            a[j] = val


def _move_merge(
    src: list[T], f1: int, l1: int, f2: int, l2: int, *, dst: list[T], out: int, lt: Less[T]
) -> int:
    while f1 != l1 and f2 != l2:
        if lt(src[f2], src[f1]):
            dst[out] = src[f2]
            f2 += 1
        else:
            dst[out] = src[f1]
            f1 += 1
        out += 1
    n1 = l1 - f1
    dst[out : out + n1] = src[f1:l1]
    out += n1
    n2 = l2 - f2
    dst[out : out + n2] = src[f2:l2]
    return out + n2


def _merge_sort_loop(
    src: list[T], first: int, last: int, dst: list[T], out: int, *, step: int, lt: Less[T]
) -> None:
    two_step = 2 * step
    while last - first >= two_step:
        out = _move_merge(
            src, first, first + step, first + step, first + two_step, dst=dst, out=out, lt=lt
        )
        first += two_step
    step = min(last - first, step)
    _move_merge(src, first, first + step, first + step, last, dst=dst, out=out, lt=lt)


def _merge_sort_with_buffer(a: list[T], first: int, last: int, buf: list[T], lt: Less[T]) -> None:
    length = last - first
    step = _CHUNK
    while last - first >= step:
        _insertion_sort(a, first, first + step, lt)
        first += step
    _insertion_sort(a, first, last, lt)
    first = last - length
    while step < length:
        _merge_sort_loop(a, first, last, buf, 0, step=step, lt=lt)
        step *= 2
        _merge_sort_loop(buf, 0, length, a, first, step=step, lt=lt)
        step *= 2


def _merge_adaptive(a: list[T], first: int, middle: int, last: int, lt: Less[T]) -> None:
    len1 = middle - first
    len2 = last - middle
    if len1 <= len2:
        buf = a[first:middle]
        f1, l1 = 0, len1
        f2, l2 = middle, last
        out = first
        while f1 != l1 and f2 != l2:
            if lt(a[f2], buf[f1]):
                a[out] = a[f2]
                f2 += 1
            else:
                a[out] = buf[f1]
                f1 += 1
            out += 1
        a[out : out + (l1 - f1)] = buf[f1:l1]
    else:
        buf = a[middle:last]
        result = last
        if first == middle:
            a[result - len2 : result] = buf
            return
        l1 = middle - 1
        l2 = len2 - 1
        while True:
            if lt(buf[l2], a[l1]):
                result -= 1
                a[result] = a[l1]
                if first == l1:
                    a[result - (l2 + 1) : result] = buf[0 : l2 + 1]
                    return
                l1 -= 1
            else:
                result -= 1
                a[result] = buf[l2]
                if l2 == 0:
                    return
                l2 -= 1


def stable_sort(items: list[T], lt: Less[T]) -> list[T]:
    """A sorted copy of ``items``; ``lt(a, b)`` is the comparator ("a goes before b")."""
    a = list(items)
    n = len(a)
    if n < 2:
        return a
    middle = (n + 1) // 2
    buf: list[T] = a[:middle]
    _merge_sort_with_buffer(a, 0, middle, buf, lt)
    _merge_sort_with_buffer(a, middle, n, buf, lt)
    _merge_adaptive(a, 0, middle, n, lt)
    return a


# --------------------------------------------------------------------------- natural order


def natural_order(cmp: object) -> bool | None:
    """Whether ``cmp`` is Nix's own ``<`` between its two arguments: ``False`` for
    ``lessThan`` and ``a: b: a < b`` (ascending), ``True`` for ``a: b: a > b`` (descending),
    ``None`` for any other comparator."""
    from tvix_eval.runtime.values import Lambda, PrimOp
    from tvix_eval.syntax import ast

    if type(cmp) is PrimOp:
        return False if cmp.name == "lessThan" else None
    if type(cmp) is not Lambda or cmp.formals is not None:
        return None
    outer = cmp.pos
    if type(outer) is not ast.Lambda or type(outer.param) is not ast.Ident:
        return None
    inner = outer.body
    if type(inner) is not ast.Lambda or type(inner.param) is not ast.Ident:
        return None
    test = inner.body
    if type(test) is not ast.BinOp or test.op not in ("<", ">"):
        return None
    lhs, rhs = test.lhs, test.rhs
    if type(lhs) is not ast.Ident or type(rhs) is not ast.Ident:
        return None
    a, b = outer.param.name, inner.param.name
    if a == b:
        return None
    if (lhs.name, rhs.name) == (a, b):
        return test.op == ">"
    if (lhs.name, rhs.name) == (b, a):
        return test.op == "<"
    return None


def sort_numbers_or_strings(values: list[object], descending: bool) -> list[object] | None:
    """``values`` (forced) sorted by Nix's ``<`` when they are all integers, all floats (no NaN)
    or all strings; ``None`` otherwise.

    For such values ``<`` is a strict weak order, so every stable sort gives the same result
    as ``std::stable_sort``, and no comparison can fail: Python's own sort is used.
    """
    from tvix_eval.runtime.values import NixString

    if not values:
        return []
    first = type(values[0])
    if first is int or first is float:
        for v in values:
            if type(v) is not first or v != v:  # noqa: PLR0124 (NaN is not ordered)
                return None
        return sorted(values, reverse=descending)  # type: ignore[type-var]
    if first is str or first is NixString:
        keyed: list[tuple[bytes, int]] = []
        for i, v in enumerate(values):
            t = type(v)
            if t is not str and t is not NixString:
                return None
            keyed.append((str.encode(v, "utf-8", "surrogateescape"), i))  # type: ignore[arg-type]
        if descending:
            # stable: equal strings keep their order, so sort on the negated position
            keyed = [(k, -i) for k, i in keyed]
            keyed.sort(reverse=True)
            return [values[-i] for _, i in keyed]
        keyed.sort()
        return [values[i] for _, i in keyed]
    return None
