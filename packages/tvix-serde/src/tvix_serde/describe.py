"""Short descriptions of Nix values for error messages: the literal for scalars (``"Yuck"``,
``42``, ``null``), the kind for everything else (``a set``, ``a function``)."""

from __future__ import annotations

from typing import Any

_MAX_STRING = 60


def _quote(text: str) -> str:
    if len(text) > _MAX_STRING:
        text = text[: _MAX_STRING - 1] + "…"
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


def describe(value: Any) -> str:
    """Describe a forced Nix value (or a Python value standing for one)."""
    from tvix_eval.runtime.values import (
        Lambda,
        NixAttrs,
        NixPath,
        PrimOp,
        PrimOpApp,
    )

    t = type(value)
    if value is None:
        return "null"
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is float:
        return repr(value)
    if isinstance(value, str):
        return _quote(value)
    if t is NixPath:
        return f"the path {value.path}"
    if t is list:
        if not value:
            return "an empty list"
        return f"a list of {len(value)} element{'s' if len(value) != 1 else ''}"
    if t is NixAttrs:
        return "an empty set" if not len(value) else "a set"
    if t is Lambda:
        return "a function"
    if t is PrimOp or t is PrimOpApp:
        return "a built-in function"
    return f"a value of type {t.__name__}"
