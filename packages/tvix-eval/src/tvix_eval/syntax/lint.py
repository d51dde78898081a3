"""Compile-time warnings (a lint pass over the AST), with the reference's warning codes.

C++ Nix prints none of these; ``tvix --compile-only`` reports them. The pass resolves names
statically as the compiler does (a lexical binding always wins over ``with``):

* W001 a URL literal; W002 ``inherit x;`` in a ``let`` where ``x`` is already a local;
  W003 an unused ``let`` binding (names starting with ``_`` are exempt); W004 a local
  (``let`` binding, function argument or formal) named like a built-in global;
  W005 legacy ``let { … }``; W009 an empty ``inherit``; W010 a ``let`` without bindings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tvix_eval.errors import render_position
from tvix_eval.syntax import ast

__all__ = ["Warning", "lint"]

_ALWAYS_GLOBAL = frozenset(["true", "false", "null", "builtins"])


@dataclass(frozen=True)
class Warning:
    """One compile-time warning: its code (``W003``), message and where it points."""

    code: str
    message: str
    span: ast.Span

    def render(self) -> str:
        """``warning: MESSAGE [CODE]`` and the source position, as Nix renders diagnostics."""
        return f"warning: {self.message} [{self.code}]\n\n{render_position(self.span)}"


class _Local:
    __slots__ = ("check_unused", "name", "span", "used")

    def __init__(self, name: str, span: ast.Span, check_unused: bool) -> None:
        self.name = name
        self.span = span
        self.check_unused = check_unused
        self.used = False


def _span(node: Any) -> ast.Span:
    return ast.Span(node.source, node.start, node.end)


class _Linter:
    def __init__(self, globals_: Iterable[str]) -> None:
        self.globals = _ALWAYS_GLOBAL | {g for g in globals_ if not g.startswith("__")}
        self.scopes: list[dict[str, _Local]] = []
        self.warnings: list[Warning] = []

    def warn(self, code: str, message: str, node: Any) -> None:
        self.warnings.append(Warning(code, message, _span(node)))

    def resolve(self, name: str) -> _Local | None:
        for scope in reversed(self.scopes):
            local = scope.get(name)
            if local is not None:
                return local
        return None

    def declare(self, scope: dict[str, _Local], name: str, node: Any, check_unused: bool) -> None:
        if name in self.globals:
            self.warn("W004", f"declared variable '{name}' shadows a built-in global!", node)
        scope[name] = _Local(name, _span(node), check_unused)

    def walk(self, node: Any) -> None:
        t = type(node)
        if t is ast.Ident:
            local = self.resolve(node.name)
            if local is not None:
                local.used = True
        elif t is ast.Uri:
            self.warn("W001", "URL literal syntax is deprecated, use a quoted string instead", node)
        elif t is ast.Let:
            self.let(node)
        elif t is ast.LegacyLet:
            self.warn(
                "W005", "legacy `let` syntax used, please rewrite this as `let .. in ...`", node
            )
            self.attrs(node.bindings, rec=True)
        elif t is ast.AttrSet:
            self.attrs(node.bindings, rec=node.rec)
        elif t is ast.Lambda:
            self.lambda_(node)
        elif t is ast.Str or t is ast.Path:
            for p in node.parts:
                if type(p) is not str:
                    self.walk(p)
        elif t is ast.Select or t is ast.HasAttr:
            self.walk(node.expr)
            self.attr_path(node.path)
            if t is ast.Select and node.default is not None:
                self.walk(node.default)
        else:
            for child in _children(node):
                self.walk(child)

    def attr_path(self, path: tuple[Any, ...]) -> None:
        for p in path:
            if type(p) is not str:
                self.walk(p)

    def bindings(self, bindings: tuple[Any, ...], in_let: bool) -> None:
        """Walk binding values; plain ``inherit`` names resolve outside a let/rec scope."""
        for b in bindings:
            if type(b) is ast.Inherit:
                if not b.names:
                    self.warn("W009", "this `inherit` statement is empty", b)
                if b.from_expr is not None:
                    self.walk(b.from_expr)
                    continue
                for n in b.names:
                    scope = self.scopes.pop() if in_let else None
                    local = self.resolve(n.name)
                    if scope is not None:
                        self.scopes.append(scope)
                    if local is not None:
                        local.used = True
                        if in_let:
                            self.warn(
                                "W002",
                                "inherit does nothing (this variable already exists with the "
                                "same value)",
                                n,
                            )
            else:
                self.attr_path(b.path)
                self.walk(b.value)

    def let(self, node: Any) -> None:
        if not node.bindings:
            self.warn("W010", "this `let`-expression contains no bindings", node)
        scope: dict[str, _Local] = {}
        for b in node.bindings:
            if type(b) is ast.Inherit:
                for n in b.names:
                    self.declare(scope, n.name, n, True)
            elif type(b.path[0]) is str:
                self.declare(scope, b.path[0], b, True)
        self.scopes.append(scope)
        self.bindings(node.bindings, in_let=True)
        self.walk(node.body)
        self.scopes.pop()
        for local in scope.values():
            if local.check_unused and not local.used and not local.name.startswith("_"):
                self.warnings.append(
                    Warning(
                        "W003", f"variable '{local.name}' is declared, but never used", local.span
                    )
                )

    def attrs(self, bindings: tuple[Any, ...], rec: bool) -> None:
        if not rec:
            self.bindings(bindings, in_let=False)
            return
        scope: dict[str, _Local] = {}
        for b in bindings:
            if type(b) is ast.Inherit:
                for n in b.names:
                    scope[n.name] = _Local(n.name, _span(n), False)
            elif type(b.path[0]) is str:
                scope[b.path[0]] = _Local(b.path[0], _span(b), False)
        self.scopes.append(scope)
        self.bindings(bindings, in_let=False)
        self.scopes.pop()

    def lambda_(self, node: Any) -> None:
        scope: dict[str, _Local] = {}
        param = node.param
        if type(param) is ast.Ident:
            self.declare(scope, param.name, param, False)
        else:
            for f in param.entries:
                self.declare(scope, f.name, f, False)
            if param.at_name is not None:
                self.declare(scope, param.at_name, param, False)
        self.scopes.append(scope)
        if type(param) is not ast.Ident:
            for f in param.entries:
                if f.default is not None:
                    self.walk(f.default)
        self.walk(node.body)
        self.scopes.pop()


def _children(node: Any) -> list[Any]:
    """The sub-expressions of the remaining node kinds, in source order."""
    t = type(node)
    if t is ast.List:
        return list(node.items)
    if t is ast.With:
        return [node.env, node.body]
    if t is ast.Assert:
        return [node.cond, node.body]
    if t is ast.If:
        return [node.cond, node.then_, node.else_]
    if t is ast.Apply:
        return [node.fn, node.arg]
    if t is ast.UnaryOp:
        return [node.expr]
    if t is ast.BinOp:
        return [node.lhs, node.rhs]
    return []


def lint(tree: ast.Expr, globals_: Iterable[str] = ()) -> list[Warning]:
    """The compile-time warnings for ``tree`` in source order; ``globals_``: the global names."""
    linter = _Linter(globals_)
    linter.walk(tree)
    return sorted(linter.warnings, key=lambda w: (w.span.start, w.code))
