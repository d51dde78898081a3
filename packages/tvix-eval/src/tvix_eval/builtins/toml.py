"""``builtins.fromTOML``: TOML 1.0 documents as Nix values (via :mod:`tomllib`).

Dates and times are an error, as in C++ Nix 2.8, unless the experimental feature
``parse-toml-timestamps`` is enabled (``EvalState.extra["experimental_features"]``); then each
becomes ``{ _type = "timestamp"; value = "<as written by toml11>"; }`` like newer Nix.
"""

from __future__ import annotations

import datetime
from typing import Any

from tvix_eval.builtins.registry import builtin
from tvix_eval.runtime import context as _context
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import expect_string
from tvix_eval.runtime.values import NixAttrs, Value

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1


class TimestampsUnsupported(Exception):
    """A date or time appeared and timestamps are not enabled."""


def _fraction(t: datetime.time | datetime.datetime) -> str:
    us = t.microsecond
    if not us:
        return ""
    ms, rest = divmod(us, 1000)
    return f".{ms:03d}" + (f"{rest:03d}" if rest else "")


def format_timestamp(v: datetime.date | datetime.time) -> str:
    """A TOML date/time in toml11's output format (what newer Nix puts in ``value``)."""
    if isinstance(v, datetime.datetime):
        text = f"{v.date().isoformat()}T{v.strftime('%H:%M:%S')}{_fraction(v)}"
        off = v.utcoffset()
        if off is None:
            return text
        minutes = int(off.total_seconds()) // 60
        if minutes == 0:
            return text + "Z"
        sign = "+" if minutes > 0 else "-"
        h, m = divmod(abs(minutes), 60)
        return f"{text}{sign}{h:02d}:{m:02d}"
    if isinstance(v, datetime.date):
        return v.isoformat()
    return f"{v.strftime('%H:%M:%S')}{_fraction(v)}"


def toml_to_nix(v: Any, timestamps: bool) -> Value:
    """Convert :mod:`tomllib` output to Nix values."""
    if isinstance(v, dict):
        return NixAttrs({k: toml_to_nix(x, timestamps) for k, x in v.items()})
    if isinstance(v, list):
        return [toml_to_nix(x, timestamps) for x in v]
    if isinstance(v, str):
        return v.split("\0", 1)[0]
    if isinstance(v, bool | float):
        return v
    if isinstance(v, int):
        return max(_I64_MIN, min(_I64_MAX, v))
    if isinstance(v, datetime.date | datetime.time):
        if not timestamps:
            raise TimestampsUnsupported
        return NixAttrs({"_type": "timestamp", "value": format_timestamp(v)})
    raise TypeError(f"unexpected TOML value {v!r}")


def from_toml(text: str, timestamps: bool = False) -> Value:
    """Parse a TOML document; raises :class:`EvalError` with C++ Nix's prefix."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise EvalError(f"while parsing a TOML string: {e}") from None
    try:
        return toml_to_nix(data, timestamps)
    except TimestampsUnsupported:
        raise EvalError("while parsing a TOML string: Dates and times are not supported") from None


def _timestamps_enabled() -> bool:
    try:
        features = _context.current().extra.get("experimental_features", ())
    except RuntimeError:
        return False
    return "parse-toml-timestamps" in features


@builtin("fromTOML", 1, global_=True)
def _from_toml(s: Value) -> Value:
    """The Nix value a TOML document denotes."""
    return from_toml(expect_string(s), _timestamps_enabled())
