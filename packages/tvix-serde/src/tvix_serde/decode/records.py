"""Decoders for record types from Nix sets: dataclasses, ``TypedDict`` and ``NamedTuple``.

Only the attributes the record declares are forced; the names of the others are checked
(unknown attributes are an error unless ignored) without evaluating their values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from tvix_eval.runtime.values import NixAttrs, Thunk

from tvix_serde.decode.core import PASS_THROUGH, Decoder, at
from tvix_serde.errors import Error, MissingAttributeError, ShapeError, UnknownAttributeError

_MISSING: Any = object()


class FieldSpec(NamedTuple):
    """One field: its Python name, its Nix attribute name, its decoder, whether it is required."""

    attr: str
    key: str
    decode: Decoder
    required: bool


def _construct(make: Callable[[dict[str, Any]], Any], kwargs: dict[str, Any], what: str) -> Any:
    try:
        return make(kwargs)
    except Error:
        raise
    except (ValueError, TypeError) as e:
        raise ShapeError(f"invalid {what}: {e}") from e


def record_decoder(
    make: Callable[[dict[str, Any]], Any],
    fields: list[FieldSpec],
    what: str,
    *,
    ignore_unknown: bool,
) -> Decoder:
    """Decode a set into ``make(kwargs)``; ``what`` names the type in messages.

    A ``ValueError`` or ``TypeError`` raised by ``make`` (validation in ``__post_init__``) is
    reported as a shape error at the set's path.
    """
    known = frozenset(f.key for f in fields)
    specs = [(f.attr, f.key, f.decode, f.required) for f in fields]

    def decode_record(v: Any) -> Any:
        if type(v) is Thunk:
            v = v.force()
        if type(v) is not NixAttrs:
            raise ShapeError.expected("a set", v)
        d = v.d
        if not ignore_unknown and not known.issuperset(d):
            for k in v.sorted_keys():
                if k not in known:
                    raise UnknownAttributeError(k, known).push(k)
        kwargs: dict[str, Any] = {}
        for attr, key, decode, required in specs:
            x = d.get(key, _MISSING)
            if x is _MISSING:
                if required:
                    raise MissingAttributeError(key)
                continue
            try:
                kwargs[attr] = decode(x)
            except PASS_THROUGH as e:
                raise at(e, key) from None
        return _construct(make, kwargs, what)

    return decode_record


def namedtuple_decoder(cls: type[Any], fields: list[FieldSpec], *, ignore_unknown: bool) -> Decoder:
    """A ``NamedTuple`` from a set (by field name) or from a list (by position)."""
    by_name = record_decoder(
        lambda kw: cls(**kw), fields, cls.__name__, ignore_unknown=ignore_unknown
    )
    n_required = sum(1 for f in fields if f.required)
    n_all = len(fields)
    sizes = f"{n_required}" if n_required == n_all else f"{n_required} to {n_all}"

    def decode_namedtuple(v: Any) -> Any:
        if type(v) is Thunk:
            v = v.force()
        if type(v) is not list:
            return by_name(v)
        if not n_required <= len(v) <= n_all:
            raise ShapeError.expected(f"a set or a list of {sizes} elements", v)
        args: list[Any] = []
        i = 0
        try:
            for f, x in zip(fields, v, strict=False):
                args.append(f.decode(x))
                i += 1
        except PASS_THROUGH as e:
            raise at(e, i) from None
        return _construct(lambda _: cls(*args), {}, cls.__name__)

    return decode_namedtuple
