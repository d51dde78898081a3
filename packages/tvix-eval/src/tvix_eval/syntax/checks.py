"""Static checks C++ Nix makes while parsing, shared by both parsers.

C++ Nix rejects some well-formed programs in its parser: duplicate
attributes (``{ a = 1; a = 2; }``, also through nested keys and merged
attribute-set literals), duplicate formal arguments, and dynamic attributes
in ``let``. :class:`AttrTable` replays C++ Nix's ``addAttr`` on the bindings of
one set or ``let`` as they are parsed, so the same programs fail with the
same message and position.
"""

from __future__ import annotations

import re

from tvix_eval.errors import NixParseError
from tvix_eval.syntax.ast import (
    AttrBinding,
    AttrName,
    AttrSet,
    Binding,
    Formals,
    Inherit,
    Source,
    Span,
    Str,
    Uri,
)

__all__ = [
    "AttrTable",
    "check_formals",
    "inherit_names_offset",
    "is_static_string",
    "show_attr_path",
    "static_name",
]


class _Entry:
    __slots__ = ("attrs", "inherited", "node", "pos")

    def __init__(self, pos: int, inherited: bool, node: AttrSet | None) -> None:
        self.pos = pos
        self.inherited = inherited
        self.node = node
        self.attrs: AttrTable | None = None

    def table(self, source: Source) -> AttrTable | None:
        if self.attrs is None and self.node is not None:
            self.attrs = AttrTable.of(source, self.node.bindings)
        return self.attrs


def _pos_text(source: Source, offset: int) -> str:
    line, col = source.position(offset)
    name = "(string)" if source.name == "«string»" else source.name
    return f"{name}:{line}:{col}"


def show_attr_path(path: tuple[AttrName, ...]) -> str:
    """An attribute path as C++ Nix prints it in messages."""
    return ".".join(p if isinstance(p, str) else '"${..}"' for p in path)


_SKIP_TO_PAREN = re.compile(r"(?:[ \t\r\n]+|#[^\r\n]*|/\*(?:[^*]|\*+[^*/])*\*+/)*\)")


def inherit_names_offset(source: Source, node: Inherit) -> int:
    """Where C++ Nix places the names of an ``inherit``: right after the
    keyword, or after the closing parenthesis of ``inherit (e)``."""
    if node.from_expr is None:
        return node.start + len("inherit")
    m = _SKIP_TO_PAREN.match(source.text, node.from_expr.end)
    return m.end() if m else node.from_expr.end


class AttrTable:
    """The static attributes of one set or ``let`` and where they were defined."""

    __slots__ = ("entries", "has_dynamic", "source")

    def __init__(self, source: Source) -> None:
        self.source = source
        self.entries: dict[str, _Entry] = {}
        self.has_dynamic = False

    @classmethod
    def of(cls, source: Source, bindings: tuple[Binding, ...]) -> AttrTable:
        table = cls(source)
        for b in bindings:
            table.add(b)
        return table

    def _dup(self, what: str, at: int, previous: int) -> NixParseError:
        return NixParseError(
            f"attribute '{what}' already defined at {_pos_text(self.source, previous)}",
            Span(self.source, at, at),
        )

    def add(self, binding: Binding) -> None:
        """Add one binding, raising :class:`NixParseError` on a duplicate."""
        if isinstance(binding, Inherit):
            pos = inherit_names_offset(self.source, binding)
            for ident in binding.names:
                old = self.entries.get(ident.name)
                if old is not None:
                    raise self._dup(ident.name, pos, old.pos)
                self.entries[ident.name] = _Entry(pos, True, None)
            return
        self._add_attr(binding)

    def _add_attr(self, binding: AttrBinding) -> None:
        path = binding.path
        pos = binding.start
        table: AttrTable = self
        for elem in path[:-1]:
            if isinstance(elem, str):
                old = table.entries.get(elem)
                if old is not None:
                    nested = None if old.inherited else old.table(self.source)
                    if nested is None:
                        raise self._dup(show_attr_path(path), pos, old.pos)
                    table = nested
                else:
                    entry = _Entry(pos, False, None)
                    entry.attrs = AttrTable(self.source)
                    table.entries[elem] = entry
                    table = entry.attrs
            else:
                if table is self:
                    self.has_dynamic = True
                table = AttrTable(self.source)
        last = path[-1]
        value = binding.value
        if not isinstance(last, str):
            if table is self:
                self.has_dynamic = True
            return
        old = table.entries.get(last)
        if old is None:
            table.entries[last] = _Entry(pos, False, value if isinstance(value, AttrSet) else None)
            return
        existing = None if old.inherited else old.table(self.source)
        if existing is None or not isinstance(value, AttrSet):
            raise self._dup(show_attr_path(path), pos, old.pos)
        incoming = AttrTable.of(self.source, value.bindings)
        for name, entry in incoming.entries.items():
            clash = existing.entries.get(name)
            if clash is not None:
                raise self._dup(name, clash.pos, entry.pos)
            existing.entries[name] = entry


def check_formals(source: Source, lam_start: int, formals: Formals) -> None:
    """Reject duplicate formal arguments (also the ``@`` name), as C++ Nix does."""
    seen: set[str] = set()
    for f in formals.entries:
        if f.name in seen:
            raise NixParseError(
                f"duplicate formal function argument '{f.name}'", Span(source, f.start, f.start)
            )
        seen.add(f.name)
    if formals.at_name is not None and formals.at_name in seen:
        raise NixParseError(
            f"duplicate formal function argument '{formals.at_name}'",
            Span(source, lam_start, lam_start),
        )


def is_static_string(e: object) -> bool:
    """Whether an interpolated key ``${e}`` names a static attribute: a plain
    string or a URI (both are string constants to C++ Nix)."""
    return isinstance(e, Uri) or (isinstance(e, Str) and all(isinstance(p, str) for p in e.parts))


def static_name(e: Str | Uri) -> str:
    """The attribute name of a key accepted by :func:`is_static_string`."""
    if isinstance(e, Uri):
        return e.value
    return e.parts[0] if e.parts else ""  # type: ignore[return-value]
