"""Rendering a result as ``nix-instantiate --eval`` does: the Nix form, ``--json``, ``--xml``,
and ``--raw`` (from ``nix eval``).

Without ``--strict`` only the top-level value is forced: unevaluated parts print ``<CODE>``, are
``<unevaluated />`` in XML and an error in JSON, exactly as Nix 2.8 does. Every function here
runs on the evaluation thread.
"""

from __future__ import annotations

from typing import Literal

from tvix_eval.builtins.json import json_float, json_string, to_json
from tvix_eval.builtins.xml import to_xml
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import (
    call_value,
    coerce_to_string,
    copy_path_to_store,
    force_deep,
)
from tvix_eval.runtime.printer import print_value
from tvix_eval.runtime.values import (
    NixAttrs,
    NixPath,
    NixString,
    Thunk,
    Value,
    force,
    show_type,
)

OutputMode = Literal["nix", "json", "xml", "raw"]


def render(value: Value, mode: OutputMode, strict: bool, location: bool = False) -> str:
    """The text printed on stdout for ``value`` (including the trailing newline Nix prints).

    ``location`` adds source positions to ``--xml`` output (Nix's default).
    """
    value = force(value)
    if mode == "raw":
        s = coerce_to_string(value)
        return str.__str__(s)
    if mode == "json":
        if strict:
            value = force_deep(value)
            out: list[str] = []
            to_json(value, out, set())
            return "".join(out)
        return _lazy_json(value)
    if mode == "xml":
        return render_xml(value, strict, location)
    if strict:
        value = force_deep(value)
    return print_value(value) + "\n"


# --------------------------------------------------------------------------- JSON, lazily


def _lazy_json(v: Value) -> str:
    out: list[str] = []
    _json(v, out)
    return "".join(out)


def _json(v: Value, out: list[str]) -> None:
    if type(v) is Thunk:
        if not v.is_evaluated():
            raise EvalError("cannot convert a thunk to JSON")
        v = v.force()
    t = type(v)
    if t is str or t is NixString:
        out.append(json_string(v))
    elif t is bool:
        out.append("true" if v else "false")
    elif t is int:
        out.append(str(v))
    elif t is float:
        out.append(json_float(v))
    elif v is None:
        out.append("null")
    elif t is NixPath:
        out.append(json_string(copy_path_to_store(v.path)))
    elif t is list:
        out.append("[")
        for i, item in enumerate(v):
            if i:
                out.append(",")
            _json(item, out)
        out.append("]")
    elif t is NixAttrs:
        to_string = v.d.get("__toString")
        if to_string is not None:
            s = coerce_to_string(call_value(to_string, v), copy_to_store=False)
            out.append(json_string(s))
            return
        out_path = v.d.get("outPath")
        if out_path is not None:
            _json(out_path, out)
            return
        out.append("{")
        for i, (name, item) in enumerate(v.sorted_items()):
            if i:
                out.append(",")
            out.append(json_string(name))
            out.append(":")
            _json(item, out)
        out.append("}")
    else:
        raise EvalError(f"cannot convert {show_type(v)} to JSON")


# --------------------------------------------------------------------------- XML


def render_xml(v: Value, strict: bool, location: bool) -> str:
    """``--xml``: C++ Nix's ``printValueAsXML``, with positions unless ``--no-location``."""
    return to_xml(v, location=location, strict=strict)[0]
