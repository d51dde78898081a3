"""The pretty printer: syntax tree back to Nix source.

``pretty(expr)`` returns source text that parses to the same tree
(``to_data(parse(pretty(e))) == to_data(e)``). Parentheses are not part of
the tree, so the printer adds them around every operand that is not atomic;
the output is unambiguous rather than minimal. Strings are always printed as
``"..."`` with escapes (an indented string parses to the same node).
"""

from __future__ import annotations

import re

from tvix_eval.syntax import ast as A
from tvix_eval.syntax.deep import run_deep
from tvix_eval.syntax.lexer import KEYWORDS

__all__ = ["format_attr_name", "pretty", "quote_string"]

_IDENT = re.compile(r"[a-zA-Z_][a-zA-Z0-9_'\-]*\Z")
_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "$": "\\$", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPE_RE = re.compile(r'[\\"$\n\r\t]')

_ATOMS = (A.Int, A.Float, A.Str, A.Path, A.SearchPath, A.Uri, A.List, A.AttrSet, A.LegacyLet)


def _escape(text: str) -> str:
    return _ESCAPE_RE.sub(lambda m: _STRING_ESCAPES[m.group()], text)


def quote_string(text: str) -> str:
    """A Nix string literal for ``text``."""
    return '"' + _escape(text) + '"'


def format_attr_name(name: str) -> str:
    """An attribute name as written in a path: bare if it lexes as one, else quoted."""
    if _IDENT.match(name) and (name not in KEYWORDS or name == "or"):
        return name
    return quote_string(name)


def _float(value: float) -> str:
    text = repr(value)
    if "e" in text and "." not in text.split("e")[0]:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


class _Printer:
    def __init__(self) -> None:
        self.out: list[str] = []

    def atom(self, e: A.Expr) -> None:
        if isinstance(e, _ATOMS) or (isinstance(e, A.Ident) and e.name != "or"):
            self.expr(e)
        else:
            self.out.append("(")
            self.expr(e)
            self.out.append(")")

    def parts(self, parts: tuple[str | A.Expr, ...]) -> None:
        w = self.out.append
        for p in parts:
            if isinstance(p, str):
                w(_escape(p))
            else:
                w("${")
                self.expr(p)
                w("}")

    def attr_path(self, path: tuple[A.AttrName, ...]) -> None:
        w = self.out.append
        for i, name in enumerate(path):
            if i:
                w(".")
            if isinstance(name, str):
                w(format_attr_name(name))
            elif isinstance(name, A.Str):
                w('"')
                self.parts(name.parts)
                w('"')
            else:
                w("${")
                self.expr(name)
                w("}")

    def bindings(self, bindings: tuple[A.Binding, ...]) -> None:
        w = self.out.append
        for b in bindings:
            w(" ")
            if isinstance(b, A.Inherit):
                w("inherit")
                if b.from_expr is not None:
                    w(" (")
                    self.expr(b.from_expr)
                    w(")")
                for ident in b.names:
                    w(" ")
                    w(format_attr_name(ident.name))
                w(";")
            else:
                self.attr_path(b.path)
                w(" = ")
                self.expr(b.value)
                w(";")

    def expr(self, e: A.Expr) -> None:
        w = self.out.append
        if isinstance(e, A.Ident):
            w(e.name)
        elif isinstance(e, A.Int):
            w(str(e.value))
        elif isinstance(e, A.Float):
            w(_float(e.value))
        elif isinstance(e, A.Str):
            w('"')
            self.parts(e.parts)
            w('"')
        elif isinstance(e, A.Path):
            first = e.parts[0]
            assert isinstance(first, str)
            w(first)
            for p in e.parts[1:]:
                if isinstance(p, str):
                    w(p)
                else:
                    w("${")
                    self.expr(p)
                    w("}")
        elif isinstance(e, A.SearchPath):
            w(f"<{e.path}>")
        elif isinstance(e, A.Uri):
            w(e.value)
        elif isinstance(e, A.Select):
            if isinstance(e.expr, (A.Int, A.Float, A.Path, A.Uri)):
                # `1.a`, `./p.a` and `x:y.a` would lex as one token.
                w("(")
                self.expr(e.expr)
                w(")")
            else:
                self.atom(e.expr)
            w(".")
            self.attr_path(e.path)
            if e.default is not None:
                w(" or ")
                self.atom(e.default)
        elif isinstance(e, A.HasAttr):
            self.atom(e.expr)
            w(" ? ")
            self.attr_path(e.path)
        elif isinstance(e, A.AttrSet):
            w("rec {" if e.rec else "{")
            self.bindings(e.bindings)
            w(" }")
        elif isinstance(e, A.Let):
            w("let")
            self.bindings(e.bindings)
            w(" in ")
            self.expr(e.body)
        elif isinstance(e, A.LegacyLet):
            w("let {")
            self.bindings(e.bindings)
            w(" }")
        elif isinstance(e, A.With):
            w("with ")
            self.expr(e.env)
            w("; ")
            self.expr(e.body)
        elif isinstance(e, A.Assert):
            w("assert ")
            self.expr(e.cond)
            w("; ")
            self.expr(e.body)
        elif isinstance(e, A.If):
            w("if ")
            self.expr(e.cond)
            w(" then ")
            self.expr(e.then_)
            w(" else ")
            self.expr(e.else_)
        elif isinstance(e, A.Lambda):
            self.param(e.param)
            w(": ")
            self.expr(e.body)
        elif isinstance(e, A.Apply):
            if isinstance(e.arg, A.Ident) and e.arg.name == "or":
                # `f or` applies f to the variable `or`; f must be simple.
                self.atom(e.fn)
                w(" or")
                return
            if isinstance(e.fn, A.Apply):
                self.expr(e.fn)
            else:
                self.atom(e.fn)
            w(" ")
            self.atom(e.arg)
        elif isinstance(e, A.UnaryOp):
            w(e.op)
            if isinstance(e.expr, A.Path):
                # `-./a` would lex as one path token.
                w("(")
                self.expr(e.expr)
                w(")")
            else:
                self.atom(e.expr)
        elif isinstance(e, A.BinOp):
            self.atom(e.lhs)
            w(f" {e.op} ")
            self.atom(e.rhs)
        elif isinstance(e, A.List):
            w("[")
            for item in e.items:
                w(" ")
                self.atom(item)
            w(" ]")
        else:  # pragma: no cover - every node type is handled above
            raise TypeError(f"not an expression: {e!r}")

    def param(self, param: A.Ident | A.Formals) -> None:
        w = self.out.append
        if isinstance(param, A.Ident):
            w(param.name)
            return
        if param.at_name is not None and param.at_before:
            w(param.at_name + "@")
        w("{")
        for i, f in enumerate(param.entries):
            w(" " if i == 0 else ", ")
            w(f.name)
            if f.default is not None:
                w(" ? ")
                if isinstance(f.default, _ATOMS) and not isinstance(f.default, A.Uri):
                    self.expr(f.default)
                else:
                    # An expression ending in a URI would swallow the comma.
                    w("(")
                    self.expr(f.default)
                    w(")")
        if param.ellipsis:
            w(", ..." if param.entries else " ...")
        w(" }")
        if param.at_name is not None and not param.at_before:
            w("@" + param.at_name)


def pretty(e: A.Expr) -> str:
    """Nix source for ``e`` that parses back to the same tree."""

    def run() -> str:
        p = _Printer()
        p.expr(e)
        return "".join(p.out)

    return run_deep(run)
