"""``builtins.toXML``: C++ Nix's XML rendering of values, byte for byte.

Values are forced as they are written (not beforehand), so errors surface in document order.
Derivations print as ``<derivation drvPath=… outPath=…>`` with their attributes the first time a
``drvPath`` is seen and ``<repeated />`` afterwards.
"""

from __future__ import annotations

from typing import Any

from tvix_eval.builtins.json import json_float
from tvix_eval.builtins.registry import builtin
from tvix_eval.runtime.ops import is_derivation
from tvix_eval.runtime.values import (
    Lambda,
    NixAttrs,
    NixPath,
    NixString,
    PrimOp,
    PrimOpApp,
    Thunk,
    Value,
    make_string,
)

_ATTR_ESCAPE = str.maketrans({"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "\n": "&#xA;"})


def _attrs(pairs: dict[str, str]) -> str:
    return "".join(f' {k}="{v.translate(_ATTR_ESCAPE)}"' for k, v in sorted(pairs.items()))


class XMLWriter:
    """Nix's XMLWriter: two-space indentation, ``<x />`` for empty elements."""

    def __init__(self) -> None:
        self.out: list[str] = ["<?xml version='1.0' encoding='utf-8'?>\n"]
        self.depth = 0

    def empty(self, name: str, attrs: dict[str, str] | None = None) -> None:
        """Write ``<name attrs />``."""
        self.out.append(f"{'  ' * self.depth}<{name}{_attrs(attrs or {})} />\n")

    def open(self, name: str, attrs: dict[str, str] | None = None) -> None:
        """Write ``<name attrs>`` and indent what follows."""
        self.out.append(f"{'  ' * self.depth}<{name}{_attrs(attrs or {})}>\n")
        self.depth += 1

    def close(self, name: str) -> None:
        """Write ``</name>``."""
        self.depth -= 1
        self.out.append(f"{'  ' * self.depth}</{name}>\n")

    def text(self) -> str:
        """The document so far."""
        return "".join(self.out)


def _function(v: Lambda, doc: XMLWriter) -> None:
    node: Any = v.pos
    param: Any = getattr(node, "param", None)
    doc.open("function")
    entries = getattr(param, "entries", None)
    if entries is not None:
        attrs: dict[str, str] = {}
        if param.at_name:
            attrs["name"] = param.at_name
        if param.ellipsis:
            attrs["ellipsis"] = "1"
        doc.open("attrspat", attrs)
        for name in sorted(e.name for e in entries):
            doc.empty("attr", {"name": name})
        doc.close("attrspat")
    elif v.formals is not None:
        doc.open("attrspat", {"ellipsis": "1"} if v.formals.ellipsis else {})
        for name in sorted(v.formals.names):
            doc.empty("attr", {"name": name})
        doc.close("attrspat")
    else:
        doc.empty("varpat", {"name": getattr(param, "name", "x")})
    doc.close("function")


def _string_attr(a: NixAttrs, name: str) -> str | None:
    v = a.d.get(name)
    if v is None:
        return None
    if type(v) is Thunk:
        v = v.force()
    if type(v) is str or type(v) is NixString:
        return str(v)
    return None


def print_xml(v: Value, doc: XMLWriter, context: set[str], drvs_seen: set[str]) -> None:
    """Write the XML of ``v`` (forcing as it goes)."""
    if type(v) is Thunk:
        v = v.force()
    t = type(v)
    if t is str:
        doc.empty("string", {"value": v})
    elif t is NixString:
        context.update(v.context)
        doc.empty("string", {"value": str.__str__(v)})
    elif t is bool:
        doc.empty("bool", {"value": "true" if v else "false"})
    elif t is int:
        doc.empty("int", {"value": str(v)})
    elif t is float:
        doc.empty("float", {"value": json_float(v)})
    elif v is None:
        doc.empty("null")
    elif t is NixPath:
        doc.empty("path", {"value": v.path})
    elif t is list:
        doc.open("list")
        for item in v:
            print_xml(item, doc, context, drvs_seen)
        doc.close("list")
    elif t is NixAttrs:
        if is_derivation(v):
            attrs: dict[str, str] = {}
            drv_path = _string_attr(v, "drvPath")
            if drv_path is not None:
                attrs["drvPath"] = drv_path
            out_path = _string_attr(v, "outPath")
            if out_path is not None:
                attrs["outPath"] = out_path
            doc.open("derivation", attrs)
            if drv_path and drv_path not in drvs_seen:
                drvs_seen.add(drv_path)
                _show_attrs(v, doc, context, drvs_seen)
            else:
                doc.empty("repeated")
            doc.close("derivation")
        else:
            doc.open("attrs")
            _show_attrs(v, doc, context, drvs_seen)
            doc.close("attrs")
    elif t is Lambda:
        _function(v, doc)
    elif t is PrimOp or t is PrimOpApp:
        doc.empty("unevaluated")
    else:
        doc.empty("unevaluated")


def _show_attrs(a: NixAttrs, doc: XMLWriter, context: set[str], drvs_seen: set[str]) -> None:
    for name, item in a.sorted_items():
        doc.open("attr", {"name": name})
        print_xml(item, doc, context, drvs_seen)
        doc.close("attr")


def to_xml(v: Value) -> tuple[str, frozenset[str]]:
    """The XML document for ``v`` and the string context it collected."""
    doc = XMLWriter()
    doc.open("expr")
    context: set[str] = set()
    print_xml(v, doc, context, set())
    doc.close("expr")
    return doc.text(), frozenset(context)


@builtin("toXML", 1)
def _to_xml(v: Value) -> str:
    """The XML representation of a value (as ``nix-instantiate --xml`` prints it)."""
    text, context = to_xml(v)
    return make_string(text, context)
