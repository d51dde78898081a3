"""Printing values exactly like ``nix-instantiate --eval`` (2.8): the one printer for the CLI, the
REPL and the tests.

Unevaluated thunks print ``<CODE>``; a non-empty list or set printed a second time (same object)
prints ``«repeated»``; floats print like C's ``%g``; attribute names print bare when they are
identifiers and not keywords, otherwise quoted.
"""

from __future__ import annotations

import re

from tvix_eval.runtime.values import (
    Lambda,
    NixAttrs,
    NixPath,
    NixString,
    PrimOp,
    PrimOpApp,
    Thunk,
    Value,
)

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*\Z")
_KEYWORDS = frozenset(["if", "then", "else", "assert", "with", "let", "in", "rec", "inherit"])


def quote_string(s: str) -> str:
    """A Nix string literal for ``s`` (``\\``, ``"``, newline, CR, tab and ``${`` escaped)."""
    if not any(c in s for c in '\\"\n\r\t$'):
        return f'"{s}"'
    out = ['"']
    n = len(s)
    for i, c in enumerate(s):
        if c in {'"', "\\"}:
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif c == "$" and i + 1 < n and s[i + 1] == "{":
            out.append("\\$")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def attr_name(name: str) -> str:
    """An attribute name as Nix prints it in a set."""
    if _IDENT.match(name) and name not in _KEYWORDS:
        return name
    out = ['"']
    for c in name:
        if c in '"\\$':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def format_float(f: float) -> str:
    """C++ ``ostream << double``: ``%g`` with 6 significant digits."""
    return f"{f:g}"


def print_value(v: Value) -> str:
    """The text ``nix-instantiate --eval`` prints for ``v`` (no trailing newline)."""
    out: list[str] = []
    _print(v, out, set())
    return "".join(out)


def _print(v: Value, out: list[str], seen: set[int]) -> None:
    t = type(v)
    if t is Thunk:
        if v.code is not None:
            out.append("<CODE>")
            return
        v = v.value
        t = type(v)
    if t is int:
        out.append(str(v))
    elif t is bool:
        out.append("true" if v else "false")
    elif v is None:
        out.append("null")
    elif t is str or t is NixString:
        out.append(quote_string(v))
    elif t is float:
        out.append(format_float(v))
    elif t is NixPath:
        out.append(v.path)
    elif t is NixAttrs:
        if v.d and id(v) in seen:
            out.append("«repeated»")
            return
        seen.add(id(v))
        out.append("{ ")
        for k, item in v.sorted_items():
            out.append(attr_name(k))
            out.append(" = ")
            _print(item, out, seen)
            out.append("; ")
        out.append("}")
    elif t is list:
        if v and id(v) in seen:
            out.append("«repeated»")
            return
        seen.add(id(v))
        out.append("[ ")
        for item in v:
            _print(item, out, seen)
            out.append(" ")
        out.append("]")
    elif t is Lambda:
        out.append("<LAMBDA>")
    elif t is PrimOp:
        out.append("<PRIMOP>")
    elif t is PrimOpApp:
        out.append("<PRIMOP-APP>")
    else:
        out.append("<UNKNOWN>")


def print_json(v: Value) -> str:
    """``nix-instantiate --eval --json``: the value as compact JSON (paths copied to the store)."""
    from tvix_eval.builtins.json import to_json

    out: list[str] = []
    to_json(v, out, set())
    return "".join(out)


def print_xml(v: Value, *, location: bool = False, strict: bool = True) -> str:
    """``nix-instantiate --eval --xml``: the value as Nix's XML document; ``location`` adds
    positions (Nix's default, turned off by ``--no-location``), ``strict`` is ``--strict``."""
    from tvix_eval.builtins.xml import to_xml

    return to_xml(v, location=location, strict=strict)[0]
