"""Decoders for collections: lists, tuples and sets from Nix lists, dicts from Nix sets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tvix_eval.runtime.values import NixAttrs, Thunk

from tvix_serde.decode.core import PASS_THROUGH, Decoder, at
from tvix_serde.errors import ShapeError


def _items(v: Any, item: Decoder) -> list[Any]:
    out: list[Any] = []
    append = out.append
    i = 0
    try:
        for x in v:
            append(item(x))
            i += 1
    except PASS_THROUGH as e:
        raise at(e, i) from None
    return out


def list_decoder(item: Decoder) -> Decoder:
    """``list[T]`` (and ``Sequence[T]``…) from a Nix list."""

    def decode_list(v: Any) -> list[Any]:
        if type(v) is Thunk:
            v = v.force()
        if type(v) is not list:
            raise ShapeError.expected("a list", v)
        return _items(v, item)

    return decode_list


def collection_decoder(item: Decoder, make: Callable[[list[Any]], Any]) -> Decoder:
    """``tuple[T, ...]``, ``set[T]``, ``frozenset[T]`` from a Nix list (``make`` builds it)."""

    def decode_collection(v: Any) -> Any:
        if type(v) is Thunk:
            v = v.force()
        if type(v) is not list:
            raise ShapeError.expected("a list", v)
        items = _items(v, item)
        try:
            return make(items)
        except TypeError as e:
            raise ShapeError(f"cannot build {make.__name__} of these elements: {e}") from None

    return decode_collection


def tuple_decoder(items: list[Decoder]) -> Decoder:
    """``tuple[A, B, …]`` from a Nix list of exactly that many elements."""
    n = len(items)

    def decode_tuple(v: Any) -> tuple[Any, ...]:
        if type(v) is Thunk:
            v = v.force()
        if type(v) is not list or len(v) != n:
            raise ShapeError.expected(f"a list of {n} element{'s' if n != 1 else ''}", v)
        out: list[Any] = []
        i = 0
        try:
            for decode, x in zip(items, v, strict=True):
                out.append(decode(x))
                i += 1
        except PASS_THROUGH as e:
            raise at(e, i) from None
        return tuple(out)

    return decode_tuple


def dict_decoder(key: Decoder | None, value: Decoder) -> Decoder:
    """``dict[K, V]`` from a Nix set; ``key`` converts names (``None``: names stay strings)."""

    def decode_dict(v: Any) -> dict[Any, Any]:
        if type(v) is Thunk:
            v = v.force()
        if type(v) is not NixAttrs:
            raise ShapeError.expected("a set", v)
        d = v.d
        out: dict[Any, Any] = {}
        for k in v.sorted_keys():
            try:
                out[k if key is None else key(k)] = value(d[k])
            except PASS_THROUGH as e:
                raise at(e, k) from None
        return out

    return decode_dict


def int_key(name: str) -> int:
    """A set's attribute name as an integer key (``"8080"`` for ``dict[int, T]``)."""
    try:
        return int(name)
    except ValueError:
        raise ShapeError.expected("an integer attribute name", name) from None
