"""Rendering a result as ``nix-instantiate --eval`` does: the Nix form, ``--json``, ``--xml``,
and ``--raw`` (from ``nix eval``).

Without ``--strict`` only the top-level value is forced: unevaluated parts print ``<CODE>``, are
``<unevaluated />`` in XML and an error in JSON, exactly as Nix 2.8 does. Every function here
runs on the evaluation thread.
"""

from __future__ import annotations

from typing import Any, Literal

from tvix_eval.builtins.json import json_float, json_string, to_json
from tvix_eval.builtins.xml import XMLWriter, print_xml
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import (
    call_value,
    coerce_to_string,
    copy_path_to_store,
    force_deep,
    is_derivation,
)
from tvix_eval.runtime.printer import print_value
from tvix_eval.runtime.values import (
    Lambda,
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
    doc = XMLWriter()
    doc.open("expr")
    _XmlPrinter(doc, strict, location).value(v)
    doc.close("expr")
    return doc.text()


def _pos_attrs(node: Any) -> dict[str, str]:
    """``path``/``line``/``column`` of a syntax node, as Nix 2.8 writes them.

    For code that did not come from a file Nix 2.8 writes the source text itself as the path.
    """
    source = getattr(node, "source", None)
    start = getattr(node, "start", None)
    if source is None or start is None:
        return {}
    line, column = source.position(start)
    name = source.name
    path = source.text if name.startswith("«") else name
    return {"path": path, "line": str(line), "column": str(column)}


class _XmlPrinter:
    """One document: forces as it goes with ``strict``, else shows thunks as unevaluated."""

    def __init__(self, doc: XMLWriter, strict: bool, location: bool) -> None:
        self.doc = doc
        self.strict = strict
        self.location = location
        self.drvs_seen: set[str] = set()

    def _get(self, v: Value) -> tuple[bool, Value]:
        if type(v) is Thunk:
            if not self.strict and not v.is_evaluated():
                return False, None
            return True, v.force()
        return True, v

    def _string_attr(self, a: NixAttrs, name: str) -> str | None:
        known, v = self._get(a.d.get(name))
        if known and (type(v) is str or type(v) is NixString):
            return str.__str__(v)
        return None

    def value(self, v: Value) -> None:
        doc = self.doc
        known, v = self._get(v)
        if not known:
            doc.empty("unevaluated")
            return
        t = type(v)
        if t is list:
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
            print_xml(v, doc, set(), set())

    def attrs(self, a: NixAttrs) -> None:
        positions = getattr(a, "pos", None) if self.location else None
        for name, item in a.sorted_items():
            attrs = {"name": name}
            if positions is not None and name in positions:
                attrs.update(_pos_attrs(positions[name]))
            self.doc.open("attr", attrs)
            self.value(item)
            self.doc.close("attr")

    def function(self, v: Lambda) -> None:
        doc = self.doc
        node: Any = v.pos
        doc.open("function", _pos_attrs(node) if self.location else {})
        param: Any = getattr(node, "param", None)
        entries = getattr(param, "entries", None)
        if entries is not None:
            pattern: dict[str, str] = {}
            if param.at_name:
                pattern["name"] = param.at_name
            if param.ellipsis:
                pattern["ellipsis"] = "1"
            doc.open("attrspat", pattern)
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
