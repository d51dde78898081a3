"""``dumps``: Python data and dataclasses as formatted, idiomatic Nix source.

The output reads back with :func:`tvix_serde.loads` to an equal value: sets one attribute per
line, short lists of scalars on one line, multi-line strings as indented ``''`` strings (checked
against the parser, falling back to an escaped ``"…"`` string), floats always with a ``.`` so
they stay floats.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import math
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import IO, Any

from tvix_serde.naming import NIX_NAME

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*\Z")
_KEYWORDS = frozenset(["if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"])
_PATH_PART = r"[A-Za-z0-9._+-]+"
_ABSOLUTE_PATH = re.compile(rf"(/{_PATH_PART})+\Z")
_RELATIVE_PATH = re.compile(rf"{_PATH_PART}(/{_PATH_PART})*\Z")


def dumps(value: Any, *, indent: int = 2, width: int = 100) -> str:
    """``value`` as Nix source (no trailing newline).

    Accepts ``None``, ``bool``, ``int`` (64-bit), finite ``float``, ``str`` (and UTF-8
    ``bytes``), :mod:`pathlib`
    paths, ``Enum`` members (by name), dates and times (ISO 8601 strings), lists, tuples, sets,
    mappings with string keys, dataclasses and named tuples (as sets). ``TypeError`` for other
    objects, ``ValueError`` for values Nix cannot represent (``nan``, huge integers) and for
    circular references.
    """
    return _Encoder(indent, width).encode(value, 0, 0)


def dump(value: Any, fp: IO[str], *, indent: int = 2, width: int = 100) -> None:
    """Write ``dumps(value)`` and a final newline to the text file ``fp``."""
    fp.write(dumps(value, indent=indent, width=width) + "\n")


def quote_string(text: str) -> str:
    """A double-quoted Nix string literal for ``text``."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


def attr_name(name: str) -> str:
    """An attribute name, bare when it is an identifier and quoted otherwise."""
    if _IDENT.match(name) and name not in _KEYWORDS:
        return name
    return quote_string(name)


def format_float(f: float) -> str:
    """A Nix float literal (always with a ``.``; ``1e+100`` is not one, ``1.0e+100`` is)."""
    if not math.isfinite(f):
        raise ValueError(f"Nix has no literal for the float {f!r}")
    text = repr(f)
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exponent


def _int(n: int) -> str:
    if not _INT_MIN <= n <= _INT_MAX:
        raise ValueError(f"integer {n} is outside Nix's 64-bit range")
    if n == _INT_MIN:
        return f"({_INT_MIN + 1} - 1)"
    return str(n)


def _path(p: PurePath) -> str:
    text = p.as_posix()
    if p.is_absolute():
        if text == "/":
            return "/."
        if _ABSOLUTE_PATH.match(text):
            return text
        return f"/. + {quote_string(text)}"
    if text == ".":
        return "./."
    if _RELATIVE_PATH.match(text):
        return f"./{text}"
    return f"./. + {quote_string('/' + text)}"


def _needs_parens(text: str) -> bool:
    return text.startswith("-") or (" + " in text and not text.startswith(("''", '"')))


class _Encoder:
    def __init__(self, indent: int, width: int) -> None:
        self.indent = indent
        self.width = width
        self.active: set[int] = set()

    def encode(self, value: Any, level: int, used: int) -> str:
        """``value`` at nesting ``level``, starting ``used`` columns into its line."""
        atom = self.atom(value, level)
        if atom is not None:
            return atom
        if id(value) in self.active:
            raise ValueError("circular reference detected")
        self.active.add(id(value))
        try:
            items = _attrs(value)
            if items is not None:
                return self.attrs(items, level)
            elements = _elements(value)
            if elements is not None:
                return self.list(elements, level, used)
        finally:
            self.active.discard(id(value))
        raise TypeError(f"Object of type {type(value).__name__} is not Nix serializable")

    def atom(self, value: Any, level: int) -> str | None:
        """The literal of a scalar, or ``None`` for containers."""
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if isinstance(value, enum.Enum):
            return quote_string(value.name)
        if isinstance(value, int):
            return _int(int(value))
        if isinstance(value, float):
            return format_float(float(value))
        if isinstance(value, str):
            return self.string(str(value), level)
        if isinstance(value, bytes):
            try:
                return self.string(value.decode("utf-8"), level)
            except UnicodeDecodeError:
                raise ValueError("bytes must be UTF-8 to become a Nix string") from None
        if isinstance(value, PurePath):
            return _path(value)
        if isinstance(value, datetime.date | datetime.time):
            return quote_string(value.isoformat())
        return None

    def string(self, text: str, level: int) -> str:
        if "\n" in text.rstrip("\n"):
            candidate = _indented_string(
                text, " " * (self.indent * (level + 1)), " " * (self.indent * level)
            )
            if _parses_to(candidate, text):
                return candidate
        return quote_string(text)

    def attrs(self, items: list[tuple[str, Any]], level: int) -> str:
        if not items:
            return "{ }"
        pad = " " * (self.indent * (level + 1))
        lines = ["{"]
        for key, item in items:
            head = f"{pad}{attr_name(key)} = "
            lines.append(f"{head}{self.encode(item, level + 1, len(head))};")
        lines.append(" " * (self.indent * level) + "}")
        return "\n".join(lines)

    def list(self, elements: list[Any], level: int, used: int) -> str:
        if not elements:
            return "[ ]"
        rendered = []
        inline = True
        for element in elements:
            atom = self.atom(element, level + 1)
            if atom is None:
                inline = False
                atom = self.encode(element, level + 1, self.indent * (level + 1))
            if "\n" in atom:
                inline = False
            rendered.append(f"({atom})" if _needs_parens(atom) else atom)
        if inline:
            one_line = "[ " + " ".join(rendered) + " ]"
            if used + len(one_line) + 1 <= self.width:
                return one_line
        pad = " " * (self.indent * (level + 1))
        body = "\n".join(pad + r for r in rendered)
        return f"[\n{body}\n{' ' * (self.indent * level)}]"


def _attrs(value: Any) -> list[tuple[str, Any]] | None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [
            (f.metadata.get(NIX_NAME, f.name), getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.init
        ]
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return list(zip(value._fields, value, strict=True))
    if isinstance(value, Mapping):
        out = []
        for key, item in value.items():
            if isinstance(key, enum.Enum):
                name = key.name
            elif isinstance(key, str | int) and not isinstance(key, bool):
                name = str(key)
            else:
                raise TypeError(f"keys must be str, int or Enum members, not {type(key).__name__}")
            out.append((name, item))
        return out
    return None


def _elements(value: Any) -> list[Any] | None:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, set | frozenset):
        try:
            return sorted(value)
        except TypeError:
            return list(value)
    return None


def _indented_string(text: str, pad: str, closing_pad: str) -> str:
    lines = text.split("\n")
    out = ["''"]
    last = len(lines) - 1
    for i, line in enumerate(lines):
        escaped = line.replace("''", "'''").replace("${", "''${").replace("\r", "''\\r")
        escaped = escaped.replace("\t", "''\\t")
        if i == last:
            out.append(f"{closing_pad}''" if not line else f"{pad}{escaped}''")
        else:
            out.append(f"{pad}{escaped}" if line else "")
    return "\n".join(out)


def _parses_to(candidate: str, text: str) -> bool:
    from tvix_eval.errors import NixError
    from tvix_eval.syntax import ast, parse

    try:
        node = parse(candidate)
    except NixError:
        return False
    return type(node) is ast.Str and node.parts == ((text,) if text else ())
