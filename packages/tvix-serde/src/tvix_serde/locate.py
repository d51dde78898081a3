"""Finding the Nix source of a value from its path into the loaded value.

Values carry no positions, so this follows the path through the syntax tree of the loaded
file: set literals (also nested ``a.b = …`` keys and ``rec``), lists, ``let``/``with``/``assert``
bodies, variables bound by ``let`` or ``rec``, and ``x // { … }``. Values computed by functions
(``listToAttrs``, ``map``…) are not found: the location is then unknown, never a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tvix_eval.syntax import ast

from tvix_serde.errors import PathSegment


def locate(
    source: str, file: str | None, path: Sequence[PathSegment], *, name: bool = False
) -> ast.Span | None:
    """The span of the expression producing the value at ``path``, if it can be found; with
    ``name``, the span of the attribute name that binds it instead (for unknown attributes)."""
    from tvix_eval.errors import NixError
    from tvix_eval.syntax import parse

    try:
        node: Any = parse(source, file=file)
    except NixError:
        return None
    scope: dict[str, Any] = {}
    for i, segment in enumerate(path):
        if name and i == len(path) - 1 and isinstance(segment, str):
            binding = _find_name(_resolve(node, scope), segment)
            return None if binding is None else ast.Span(binding.source, binding.start, binding.end)
        node = _find(node, segment, scope)
        if node is None or node is _ABSENT:
            return None
    node = _resolve(node, scope)
    return ast.Span(node.source, node.start, node.end)


def _bind(bindings: Sequence[Any], scope: dict[str, Any]) -> None:
    for b in bindings:
        if type(b) is ast.AttrBinding and len(b.path) == 1 and type(b.path[0]) is str:
            scope[b.path[0]] = b.value


def _resolve(node: Any, scope: dict[str, Any]) -> Any:
    """Look through ``let``, ``with``, ``assert`` and variables bound in ``scope``."""
    for _ in range(1000):
        t = type(node)
        if t is ast.Let:
            _bind(node.bindings, scope)
            node = node.body
        elif t is ast.With or t is ast.Assert:
            node = node.body
        elif t is ast.Ident and node.name in scope:
            node = scope.pop(node.name)
        else:
            return node
    return node


def _find(node: Any, segment: PathSegment, scope: dict[str, Any]) -> Any:
    node = _resolve(node, scope)
    t = type(node)
    if isinstance(segment, int):
        if t is ast.List and 0 <= segment < len(node.items):
            return node.items[segment]
        return None
    if t is ast.BinOp and node.op == "//":
        found = _find(node.rhs, segment, dict(scope))
        return found if found is not _ABSENT else _find(node.lhs, segment, scope)
    if t is not ast.AttrSet:
        return None
    if node.rec:
        _bind(node.bindings, scope)
    nested: list[Any] = []
    first: Any = None
    dynamic = False
    for b in node.bindings:
        if type(b) is ast.Inherit:
            for ident in b.names:
                if ident.name == segment and first is None:
                    first = ident if b.from_expr is None else _NoFollow(ident)
            continue
        if type(b.path[0]) is not str:
            dynamic = True
        if b.path[0] != segment:
            continue
        if len(b.path) == 1:
            if first is None:
                first = b.value
            if type(b.value) is ast.AttrSet:
                nested.extend(b.value.bindings)
        else:
            if first is None:
                first = b
            nested.append(ast.AttrBinding(b.source, b.start, b.end, b.path[1:], b.value))
    if first is None:
        return None if dynamic else _ABSENT
    if isinstance(first, _NoFollow):
        return first.node
    if type(first) is ast.AttrSet and len(nested) == len(first.bindings):
        return first
    if type(first) is ast.AttrBinding or (nested and type(first) is ast.AttrSet):
        return ast.AttrSet(first.source, first.start, first.end, False, tuple(nested))
    return first


def _find_name(node: Any, segment: str) -> Any:
    """The first binding (or inherited name) of ``segment`` in a set literal."""
    if type(node) is ast.BinOp and node.op == "//":
        found = _find_name(node.rhs, segment)
        if found is None and type(node.rhs) is ast.AttrSet:
            return _find_name(node.lhs, segment)
        return found
    if type(node) is not ast.AttrSet:
        return None
    for b in node.bindings:
        if type(b) is ast.Inherit:
            for ident in b.names:
                if ident.name == segment:
                    return ident
        elif type(b) is ast.AttrBinding and b.path[0] == segment:
            return b
    return None


#: ``_find``'s answer when a set literal certainly lacks the name (``None`` means unknown).
_ABSENT: Any = object()


class _NoFollow:
    """``inherit (e) x``: the name's position is the best known place."""

    def __init__(self, node: Any) -> None:
        self.node = node
