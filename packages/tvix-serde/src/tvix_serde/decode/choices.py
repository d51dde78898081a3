"""Decoders that pick one of several alternatives: ``enum.Enum``, ``Literal`` and unions."""

from __future__ import annotations

import enum
from typing import Any

from tvix_eval.runtime.values import NixAttrs, NixString, Thunk

from tvix_serde.decode.core import Decoder
from tvix_serde.describe import describe
from tvix_serde.errors import ShapeError


def enum_decoder(cls: type[enum.Enum]) -> Decoder:
    """A member of ``cls`` from a string naming it (``"Tasty"`` for ``Flavour.Tasty``), or,
    failing that, from its value (``"red"`` for ``Colour.RED = "red"``)."""
    by_name: dict[str, enum.Enum] = dict(cls.__members__)
    by_value: dict[tuple[type, object], enum.Enum] = {}
    for member in cls:
        value = member.value
        if type(value) in (str, int, bool, float) or value is None:
            by_value.setdefault((_plain_type(value), value), member)
    expected = "one of " + ", ".join(by_name)

    def decode_enum(v: Any) -> enum.Enum:
        if type(v) is Thunk:
            v = v.force()
        t = type(v)
        if t is str or t is NixString:
            member = by_name.get(v)
            if member is not None:
                return member
        member = by_value.get((_plain_type(v), v)) if _hashable(v) else None
        if member is not None:
            return member
        raise ShapeError.expected(expected, v)

    return decode_enum


def _plain_type(v: object) -> type:
    t = type(v)
    return str if t is NixString else t


def _hashable(v: object) -> bool:
    t = type(v)
    return t is str or t is NixString or t is int or t is bool or t is float or v is None


def literal_decoder(values: tuple[Any, ...]) -> Decoder:
    """One of the ``Literal[…]`` values (matched by type and value: ``1`` is not ``True``)."""
    allowed: dict[tuple[type, object], Any] = {}
    for value in values:
        if isinstance(value, enum.Enum):
            allowed[(str, value.name)] = value
        else:
            allowed[(type(value), value)] = value
    expected = "one of " + ", ".join(
        v.name if isinstance(v, enum.Enum) else describe(v) for v in values
    )

    def decode_literal(v: Any) -> Any:
        if type(v) is Thunk:
            v = v.force()
        if _hashable(v):
            found = allowed.get((_plain_type(v), v), _MISSING)
            if found is not _MISSING:
                return found
        raise ShapeError.expected(expected, v)

    return decode_literal


_MISSING: Any = object()


def optional_decoder(inner: Decoder) -> Decoder:
    """``X | None``: null, or whatever ``inner`` accepts."""

    def decode_optional(v: Any) -> Any:
        if type(v) is Thunk:
            v = v.force()
        if v is None:
            return None
        return inner(v)

    return decode_optional


def union_decoder(names: list[str], members: list[Decoder], kinds: list[frozenset[str]]) -> Decoder:
    """The first member type that accepts the value.

    ``kinds`` lists, per member, the Nix types it can take (``"set"``, ``"int"``…); when the
    value fits no member and exactly one member takes values of its Nix type, that member's
    own error is reported (it says more than "expected A | B").
    """
    expected = " | ".join(names)
    pairs = list(zip(members, kinds, strict=True))

    def decode_union(v: Any) -> Any:
        if type(v) is Thunk:
            v = v.force()
        kind = nix_kind(v)
        errors: list[ShapeError] = []
        for decode, accepts in pairs:
            if kind not in accepts:
                continue
            try:
                return decode(v)
            except ShapeError as e:
                errors.append(e)
        if len(errors) == 1:
            raise errors[0]
        deepest: ShapeError | None = None
        for candidate in errors:
            if candidate.path and (deepest is None or len(candidate.path) > len(deepest.path)):
                deepest = candidate
        if deepest is not None:
            raise deepest
        raise ShapeError.expected(expected, v)

    return decode_union


def nix_kind(v: Any) -> str:
    """The Nix type of a forced value, as the unions' ``kinds`` name them."""
    t = type(v)
    if t is str or t is NixString:
        return "string"
    if t is int:
        return "int"
    if t is bool:
        return "bool"
    if t is float:
        return "float"
    if v is None:
        return "null"
    if t is list:
        return "list"
    if t is NixAttrs:
        return "set"
    from tvix_eval.runtime.values import NixPath

    if t is NixPath:
        return "path"
    return "function"
