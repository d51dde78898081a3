"""Decoders for single values: null, Booleans, numbers, strings, paths, dates and times, and
``Any`` (plain Python data)."""

from __future__ import annotations

import datetime
from pathlib import PurePath, PurePosixPath
from typing import Any

from tvix_eval.runtime.values import NixAttrs, NixPath, NixString, Thunk

from tvix_serde.decode.core import PASS_THROUGH, Decoder, at
from tvix_serde.errors import ShapeError


def decode_none(v: Any) -> None:
    if type(v) is Thunk:
        v = v.force()
    if v is not None:
        raise ShapeError.expected("null", v)


def decode_bool(v: Any) -> bool:
    if type(v) is Thunk:
        v = v.force()
    if type(v) is not bool:
        raise ShapeError.expected("a Boolean", v)
    return v


def decode_int(v: Any) -> int:
    if type(v) is Thunk:
        v = v.force()
    if type(v) is not int:
        raise ShapeError.expected("an integer", v)
    return v


def decode_float(v: Any) -> float:
    """A Nix float, or an integer widened to float (as Python's typing allows)."""
    if type(v) is Thunk:
        v = v.force()
    t = type(v)
    if t is float:
        return v  # type: ignore[no-any-return]
    if t is int:
        return float(v)
    raise ShapeError.expected("a float", v)


def decode_str(v: Any) -> str:
    """A Nix string (its context dropped) or a path, as its text."""
    if type(v) is Thunk:
        v = v.force()
    t = type(v)
    if t is str:
        return v  # type: ignore[no-any-return]
    if t is NixString:
        return str.__str__(v)
    if t is NixPath:
        return v.path  # type: ignore[no-any-return]
    raise ShapeError.expected("a string", v)


def decode_bytes(v: Any) -> bytes:
    """A Nix string as UTF-8 bytes."""
    return decode_str(v).encode("utf-8", "surrogateescape")


def path_decoder(cls: type[PurePath]) -> Decoder:
    """A Nix path (or a string) as an instance of the ``pathlib`` class ``cls``."""

    def decode_path(v: Any) -> PurePath:
        if type(v) is Thunk:
            v = v.force()
        t = type(v)
        if t is NixPath:
            return cls(v.path)
        if t is str or t is NixString:
            return cls(str.__str__(v))
        raise ShapeError.expected("a path", v)

    return decode_path


def _timestamp_text(v: Any) -> str | None:
    if type(v) is Thunk:
        v = v.force()
    t = type(v)
    if t is str or t is NixString:
        return str.__str__(v)
    if t is NixAttrs and v.get("_type") is not None:
        kind = v.d["_type"]
        if type(kind) is Thunk:
            kind = kind.force()
        value = v.get("value")
        if kind == "timestamp" and value is not None:
            return _timestamp_text(value)
    return None


def datetime_decoder(cls: type[Any]) -> Decoder:
    """An ISO 8601 / TOML date, time or date-time (a string, or ``builtins.fromTOML``'s
    ``{ _type = "timestamp"; value = …; }``) as ``datetime.datetime``, ``date`` or ``time``."""
    if cls is datetime.datetime:
        what = "a date and time (ISO 8601)"
    elif cls is datetime.date:
        what = "a date (ISO 8601)"
    else:
        what = "a time (ISO 8601)"

    def decode_datetime(v: Any) -> Any:
        if type(v) is Thunk:
            v = v.force()
        text = _timestamp_text(v)
        if text is not None:
            try:
                return cls.fromisoformat(text)
            except ValueError:
                pass
        raise ShapeError.expected(what, v)

    return decode_datetime


def decode_plain(v: Any) -> Any:
    """Any Nix data as plain Python: dict, list, str, int, float, bool, None, paths as
    :class:`pathlib.PurePosixPath`. Functions cannot be converted."""
    if type(v) is Thunk:
        v = v.force()
    t = type(v)
    if t is str or t is int or t is float or t is bool or v is None:
        return v
    if t is NixString:
        return str.__str__(v)
    if t is NixAttrs:
        out: dict[str, Any] = {}
        d = v.d
        for k in v.sorted_keys():
            try:
                out[k] = decode_plain(d[k])
            except PASS_THROUGH as e:
                raise at(e, k) from None
        return out
    if t is list:
        items: list[Any] = []
        i = 0
        try:
            for x in v:
                items.append(decode_plain(x))
                i += 1
        except PASS_THROUGH as e:
            raise at(e, i) from None
        return items
    if t is NixPath:
        return PurePosixPath(v.path)
    raise ShapeError.expected("data (functions cannot be loaded)", v)
