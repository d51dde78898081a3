"""Render an expression the way C++ Nix's ``Expr::show`` does (used in ``assertion '…' failed``).

C++ Nix desugars ``-``, ``*``, ``/`` and the comparisons into calls of ``__sub``, ``__mul``,
``__div`` and ``__lessThan``, and ``+`` / interpolation into string concatenation; the rendering
reflects that desugaring.
"""

from __future__ import annotations

from typing import Any

from tvix_eval.runtime.printer import quote_string
from tvix_eval.syntax import ast


def show_expr(node: Any) -> str:
    """The C++ Nix rendering of ``node``."""
    out: list[str] = []
    _show(node, out)
    return "".join(out)


def _attr_path(path: tuple[Any, ...], out: list[str]) -> None:
    first = True
    for p in path:
        if not first:
            out.append(".")
        first = False
        if type(p) is str:
            out.append(p)
        else:
            out.append('"${')
            _show(p, out)
            out.append('}"')


_CALLS = {"-": "__sub", "*": "__mul", "/": "__div"}


def _show(node: Any, out: list[str]) -> None:
    t = type(node)
    if t is ast.Int or t is ast.Float:
        out.append(repr(node.value) if t is ast.Int else f"{node.value:g}")
    elif t is ast.Str:
        parts = node.parts
        if all(type(p) is str for p in parts):
            out.append(quote_string("".join(parts)))
        else:
            out.append("(")
            for i, p in enumerate(parts):
                if i:
                    out.append(" + ")
                if type(p) is str:
                    out.append(quote_string(p))
                else:
                    _show(p, out)
            out.append(")")
    elif t is ast.Path:
        out.append("".join(p if type(p) is str else "${…}" for p in node.parts))
    elif t is ast.SearchPath:
        out.append(f"<{node.path}>")
    elif t is ast.Uri:
        out.append(quote_string(node.value))
    elif t is ast.Ident:
        out.append(node.name)
    elif t is ast.Select:
        out.append("(")
        _show(node.expr, out)
        out.append(").")
        _attr_path(node.path, out)
        if node.default is not None:
            out.append(" or (")
            _show(node.default, out)
            out.append(")")
    elif t is ast.HasAttr:
        out.append("((")
        _show(node.expr, out)
        out.append(") ? ")
        _attr_path(node.path, out)
        out.append(")")
    elif t is ast.AttrSet:
        if node.rec:
            out.append("rec ")
        out.append("{ ")
        _bindings(node.bindings, out)
        out.append("}")
    elif t is ast.List:
        out.append("[ ")
        for item in node.items:
            out.append("(")
            _show(item, out)
            out.append(") ")
        out.append("]")
    elif t is ast.Let:
        out.append("(let ")
        _bindings(node.bindings, out)
        out.append("in ")
        _show(node.body, out)
        out.append(")")
    elif t is ast.LegacyLet:
        out.append("let { ")
        _bindings(node.bindings, out)
        out.append("}")
    elif t is ast.With:
        out.append("(with ")
        _show(node.env, out)
        out.append("; ")
        _show(node.body, out)
        out.append(")")
    elif t is ast.Assert:
        out.append("assert ")
        _show(node.cond, out)
        out.append("; ")
        _show(node.body, out)
    elif t is ast.If:
        out.append("(if ")
        _show(node.cond, out)
        out.append(" then ")
        _show(node.then_, out)
        out.append(" else ")
        _show(node.else_, out)
        out.append(")")
    elif t is ast.Lambda:
        _show_lambda(node, out)
    elif t is ast.Apply:
        fn = node
        args = []
        while type(fn) is ast.Apply:
            args.append(fn.arg)
            fn = fn.fn
        out.append("(")
        _show(fn, out)
        for a in reversed(args):
            out.append(" ")
            _show(a, out)
        out.append(")")
    elif t is ast.UnaryOp:
        if node.op == "!":
            out.append("(! ")
            _show(node.expr, out)
            out.append(")")
        else:
            out.append("(__sub 0 ")
            _show(node.expr, out)
            out.append(")")
    elif t is ast.BinOp:
        _show_binop(node, out)
    else:
        out.append("…")


def _show_binop(node: Any, out: list[str]) -> None:
    op = node.op
    if op in _CALLS:
        out.append(f"({_CALLS[op]} ")
        _show(node.lhs, out)
        out.append(" ")
        _show(node.rhs, out)
        out.append(")")
        return
    if op in ("<", ">", "<=", ">="):
        a, b = (node.lhs, node.rhs) if op in ("<", ">=") else (node.rhs, node.lhs)
        neg = op in ("<=", ">=")
        if neg:
            out.append("(! ")
        out.append("(__lessThan ")
        _show(a, out)
        out.append(" ")
        _show(b, out)
        out.append(")")
        if neg:
            out.append(")")
        return
    out.append("(")
    _show(node.lhs, out)
    out.append(f" {op} ")
    _show(node.rhs, out)
    out.append(")")


def _bindings(bindings: tuple[Any, ...], out: list[str]) -> None:
    for b in bindings:
        if type(b) is ast.Inherit:
            out.append("inherit ")
            if b.from_expr is not None:
                out.append("(")
                _show(b.from_expr, out)
                out.append(") ")
            for n in b.names:
                out.append(n.name + " ")
            out.append("; ")
        else:
            _attr_path(b.path, out)
            out.append(" = ")
            _show(b.value, out)
            out.append("; ")


def _show_lambda(node: Any, out: list[str]) -> None:
    out.append("(")
    param = node.param
    if type(param) is ast.Ident:
        out.append(param.name)
    else:
        if param.at_name is not None and param.at_before:
            out.append(param.at_name + " @ ")
        out.append("{ ")
        first = True
        for f in param.entries:
            if not first:
                out.append(", ")
            first = False
            out.append(f.name)
            if f.default is not None:
                out.append(" ? ")
                _show(f.default, out)
        if param.ellipsis:
            out.append(", ..." if param.entries else "...")
        out.append(" }")
        if param.at_name is not None and not param.at_before:
            out.append(" @ " + param.at_name)
    out.append(": ")
    _show(node.body, out)
    out.append(")")
