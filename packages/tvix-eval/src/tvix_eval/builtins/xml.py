"""``builtins.toXML`` and ``nix-instantiate --xml``: C++ Nix's XML rendering of values, byte for
byte.

Values are forced as they are written (not beforehand), so errors surface in document order;
without ``strict`` (``--eval --xml`` without ``--strict``) values not evaluated yet are written
as ``<unevaluated />``. Derivations print as ``<derivation drvPath=… outPath=…>`` with their
attributes the first time a ``drvPath`` is seen and ``<repeated />`` afterwards. With
``location`` (``nix-instantiate --xml`` without ``--no-location``) attributes and functions carry
the ``path``, ``line`` and ``column`` of their definition, where it is known.
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
    Thunk,
    Value,
    make_string,
    position_file,
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


def _location(node: Any) -> dict[str, str]:
    """``path``/``line``/``column`` of a syntax node, as C++ Nix 2.8 writes them."""
    source = getattr(node, "source", None)
    if source is None:
        return {}
    line, column = source.position(node.start)
    return {"path": position_file(source), "line": str(line), "column": str(column)}


class _Printer:
    """One document being written (C++ Nix's ``printValueAsXML``)."""

    def __init__(
        self,
        doc: XMLWriter,
        context: set[str],
        drvs_seen: set[str],
        *,
        location: bool,
        strict: bool,
    ) -> None:
        self.doc = doc
        self.context = context
        self.drvs_seen = drvs_seen
        self.location = location
        self.strict = strict

    def _known(self, v: Value) -> tuple[bool, Value]:
        """``(True, forced value)``, or ``(False, None)`` for a value not evaluated yet when
        not printing strictly."""
        if type(v) is Thunk:
            if not self.strict and not v.is_evaluated():
                return False, None
            return True, v.force()
        return True, v

    def _string_attr(self, a: NixAttrs, name: str) -> str | None:
        v = a.d.get(name)
        if v is None:
            return None
        known, v = self._known(v)
        if known and (type(v) is str or type(v) is NixString):
            return str.__str__(v)
        return None

    def value(self, v: Value) -> None:
        doc = self.doc
        known, v = self._known(v)
        if not known:
            doc.empty("unevaluated")
            return
        t = type(v)
        if t is str:
            doc.empty("string", {"value": v})
        elif t is NixString:
            self.context.update(v.context)
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
                self.value(item)
            doc.close("list")
        elif t is NixAttrs:
            if is_derivation(v):
                attrs: dict[str, str] = {}
                drv_path = self._string_attr(v, "drvPath")
                if drv_path is not None:
                    attrs["drvPath"] = drv_path
                out_path = self._string_attr(v, "outPath")
                if out_path is not None:
                    attrs["outPath"] = out_path
                doc.open("derivation", attrs)
                if drv_path and drv_path not in self.drvs_seen:
                    self.drvs_seen.add(drv_path)
                    self.attrs(v)
                else:
                    doc.empty("repeated")
                doc.close("derivation")
            else:
                doc.open("attrs")
                self.attrs(v)
                doc.close("attrs")
        elif t is Lambda:
            self.function(v)
        else:
            # builtins (C++ Nix writes no XML for them) and anything else
            doc.empty("unevaluated")

    def attrs(self, a: NixAttrs) -> None:
        positions = a.pos if self.location else None
        for name, item in a.sorted_items():
            attrs = {"name": name}
            if positions is not None:
                node = positions.get(name)
                if node is not None:
                    attrs.update(_location(node))
            self.doc.open("attr", attrs)
            self.value(item)
            self.doc.close("attr")

    def function(self, v: Lambda) -> None:
        doc = self.doc
        node: Any = v.pos
        doc.open("function", _location(node) if self.location else None)
        param: Any = getattr(node, "param", None)
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


def print_xml(
    v: Value,
    doc: XMLWriter,
    context: set[str],
    drvs_seen: set[str],
    *,
    location: bool = False,
    strict: bool = True,
) -> None:
    """Write the XML of ``v`` (forcing as it goes; without ``strict``, values not evaluated yet
    are ``<unevaluated />``). ``location`` adds the positions of attributes and functions.
    String contexts met are added to ``context``, derivations written to ``drvs_seen``."""
    _Printer(doc, context, drvs_seen, location=location, strict=strict).value(v)


def to_xml(v: Value, *, location: bool = False, strict: bool = True) -> tuple[str, frozenset[str]]:
    """The XML document for ``v`` and the string context it collected (``builtins.toXML``:
    strict, no locations; ``nix-instantiate --eval --xml``: locations unless ``--no-location``,
    strict with ``--strict``)."""
    doc = XMLWriter()
    doc.open("expr")
    context: set[str] = set()
    print_xml(v, doc, context, set(), location=location, strict=strict)
    doc.close("expr")
    return doc.text(), frozenset(context)


@builtin("toXML", 1)
def _to_xml(v: Value) -> str:
    """The XML representation of a value (as ``nix-instantiate --xml`` prints it)."""
    text, context = to_xml(v)
    return make_string(text, context)
