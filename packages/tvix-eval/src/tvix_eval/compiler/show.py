"""Print a parsed expression exactly as C++ Nix 2.8's ``Expr::show`` does.

This is what ``nix-instantiate --parse`` prints and what ``assertion '…' failed`` quotes.

Nix prints its desugared AST: nested attribute paths become nested sets, ``inherit (e) a``
becomes ``a = (e).a``, search paths become ``__findFile __nixPath``, paths are absolute,
``-``/``*``/``/``/comparisons are calls of ``__sub``/``__mul``/``__div``/``__lessThan``, and
attribute names are quoted where they are not plain identifiers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tvix_eval.runtime.printer import format_float
from tvix_eval.syntax import ast

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*\Z")

# Symbols Nix 2.8 interns when it starts; ``let`` bindings print in symbol-table order:
# these first, then the builtins' names, then every other name in the order the lexer met it.
# (Nix orders symbols by address, so this is a close approximation, not an exact model.)
_PREINTERNED = (
    "<with>", "outPath", "drvPath", "type", "meta", "name", "value", "system", "__overrides",
    "outputs", "outputName", "__ignoreNulls", "file", "line", "column", "__functor", "__toString",
    "right", "wrong", "__structuredAttrs", "builder", "args", "__contentAddressed", "outputHash",
    "outputHashAlgo", "outputHashMode", "recurseForDerivations", "description", "self", "",
    "startSet", "operator", "key", "path", "prefix",
)  # fmt: skip
_PREINTERNED_RANK = {name: i for i, name in enumerate(_PREINTERNED)}


_ESCAPES = {'"': '\\"', "\\": "\\\\", "$": "\\$", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote_string(s: str) -> str:
    """A string literal as Nix 2.8 ``showString`` writes it (every ``$`` is escaped)."""
    return '"' + "".join(_ESCAPES.get(c, c) for c in s) + '"'


def ident(name: str) -> str:
    """An attribute name as Nix 2.8 ``printIdentifier`` shows it (only ``if`` counts as keyword)."""
    if _PLAIN.match(name) and name != "if":
        return name
    return quote_string(name)


@dataclass
class _Attrs:
    """A desugared attribute set: static entries (None means ``inherit name``) and dynamic ones."""

    rec: bool = False
    static: dict[str, Any] = field(default_factory=dict)
    dynamic: list[tuple[Any, Any]] = field(default_factory=list)


class ParsePrinter:
    """Renders one parsed expression; paths are made absolute against ``base_dir``."""

    def __init__(
        self,
        source_text: str,
        base_dir: str,
        home: str | None = None,
        builtin_names: Iterable[str] = (),
    ) -> None:
        self._text = source_text
        self._builtins = {name: i for i, name in enumerate(sorted(set(builtin_names)))}
        self._base = base_dir
        self._home = home if home is not None else os.environ.get("HOME", "")
        self._order: dict[str, int] = {}

    def show(self, node: Any) -> str:
        out: list[str] = []
        self._show(node, out)
        return "".join(out)

    # --- attribute sets -------------------------------------------------------

    def _desugar(self, bindings: tuple[Any, ...], rec: bool) -> _Attrs:
        attrs = _Attrs(rec=rec)
        self._add_bindings(attrs, bindings)
        return attrs

    def _add_bindings(self, attrs: _Attrs, bindings: tuple[Any, ...]) -> None:
        for b in bindings:
            if type(b) is ast.Inherit:
                for n in b.names:
                    if b.from_expr is None:
                        attrs.static[n.name] = None
                    else:
                        attrs.static[n.name] = ("select", b.from_expr, n.name)
            else:
                self._add_path(attrs, b.path, b.value)

    def _add_path(self, attrs: _Attrs, path: tuple[Any, ...], value: Any) -> None:
        key = path[0]
        rest = path[1:]
        if type(key) is not str:
            if rest:
                inner = _Attrs()
                self._add_path(inner, rest, value)
                attrs.dynamic.append((key, inner))
            else:
                attrs.dynamic.append((key, value))
            return
        existing = attrs.static.get(key)
        if type(existing) is ast.AttrSet:
            existing = self._desugar(existing.bindings, existing.rec)
            attrs.static[key] = existing
        if rest:
            if not isinstance(existing, _Attrs):
                existing = _Attrs()
                attrs.static[key] = existing
            self._add_path(existing, rest, value)
        elif isinstance(existing, _Attrs) and type(value) is ast.AttrSet:
            existing.rec = existing.rec or value.rec
            self._add_bindings(existing, value.bindings)
        else:
            attrs.static[key] = value

    def _show_value(self, value: Any, out: list[str]) -> None:
        if isinstance(value, _Attrs):
            self._show_attrs(value, out)
        elif type(value) is tuple:
            _, expr, name = value
            out.append("(")
            self._show(expr, out)
            out.append(")." + ident(name))
        else:
            self._show(value, out)

    def _show_attrs(self, attrs: _Attrs, out: list[str]) -> None:
        if attrs.rec:
            out.append("rec ")
        out.append("{ ")
        for name in sorted(attrs.static, key=lambda s: s.encode()):
            value = attrs.static[name]
            if value is None:
                out.append(f"inherit {ident(name)} ; ")
                continue
            out.append(ident(name) + " = ")
            self._show_value(value, out)
            out.append("; ")
        for key, value in attrs.dynamic:
            out.append('"${')
            self._show(key, out)
            out.append('}" = ')
            self._show_value(value, out)
            out.append("; ")
        out.append("}")

    def _symbol_rank(self, name: str) -> tuple[int, int]:
        rank = _PREINTERNED_RANK.get(name)
        if rank is not None:
            return (0, rank)
        rank = self._builtins.get(name)
        if rank is not None:
            return (1, rank)
        pos = self._order.get(name)
        if pos is None:
            m = re.search(
                r"(?<![A-Za-z0-9_'-])" + re.escape(name) + r"(?![A-Za-z0-9_'-])", self._text
            )
            pos = m.start() if m else len(self._text)
            self._order[name] = pos
        return (2, pos)

    def _show_let(self, bindings: tuple[Any, ...], body: Any, out: list[str]) -> None:
        attrs = self._desugar(bindings, False)
        out.append("(let ")
        for name in sorted(attrs.static, key=self._symbol_rank):
            value = attrs.static[name]
            if value is None:
                out.append(f"inherit {ident(name)}; ")
                continue
            out.append(ident(name) + " = ")
            self._show_value(value, out)
            out.append("; ")
        out.append("in ")
        self._show(body, out)
        out.append(")")

    # --- expressions ------------------------------------------------------------

    def _attr_path(self, path: tuple[Any, ...], out: list[str]) -> None:
        for i, p in enumerate(path):
            if i:
                out.append(".")
            if type(p) is str:
                out.append(ident(p))
            else:
                out.append('"${')
                self._show(p, out)
                out.append('}"')

    def _path(self, literal: str, interpolated: bool) -> str:
        if literal.startswith("~"):
            full = self._home + literal[1:]
        elif literal.startswith("/"):
            full = literal
        else:
            full = os.path.join(self._base, literal)
        canon = os.path.normpath(full)
        if canon.startswith("//"):
            canon = canon[1:]
        if interpolated and literal.endswith("/") and not canon.endswith("/"):
            canon += "/"
        return canon

    def _concat(self, parts: tuple[Any, ...], out: list[str]) -> None:
        out.append("(")
        for i, p in enumerate(parts):
            if i:
                out.append(" + ")
            if type(p) is str:
                out.append(quote_string(p))
            else:
                self._show(p, out)
        out.append(")")

    def _show(self, node: Any, out: list[str]) -> None:
        t = type(node)
        if t is ast.Int:
            out.append(str(node.value))
        elif t is ast.Float:
            out.append(format_float(node.value))
        elif t is ast.Str:
            parts = node.parts
            split = _ind_string_parts(node)
            if split is not None and len(split) != 1:
                parts = split
            if all(type(p) is str for p in parts) and (split is None or len(parts) <= 1):
                out.append(quote_string("".join(parts)))
            elif (
                len(parts) == 1
                and type(parts[0]) is ast.Str
                and all(type(p) is str for p in parts[0].parts)
                and node.source.text.startswith("''", node.start)
            ):
                # an indented string of one literal string is that string (Nix's stripIndentation)
                self._show(parts[0], out)
            else:
                self._concat(parts, out)
        elif t is ast.Path:
            parts = node.parts
            if len(parts) == 1 and type(parts[0]) is str:
                out.append(self._path(parts[0], False))
            else:
                first = parts[0]
                shown: list[Any] = list(parts)
                if type(first) is str:
                    shown[0] = _Raw(self._path(first, True))
                self._concat_path(shown, out)
        elif t is ast.SearchPath:
            out.append(f"(__findFile __nixPath {quote_string(node.path)})")
        elif t is ast.Uri:
            out.append(quote_string(node.value))
        elif t is ast.Ident:
            out.append(node.name)
        elif t is ast.Select:
            out.append("(")
            self._show(node.expr, out)
            out.append(").")
            self._attr_path(node.path, out)
            if node.default is not None:
                out.append(" or (")
                self._show(node.default, out)
                out.append(")")
        elif t is ast.HasAttr:
            out.append("((")
            self._show(node.expr, out)
            out.append(") ? ")
            self._attr_path(node.path, out)
            out.append(")")
        elif t is ast.AttrSet:
            self._show_attrs(self._desugar(node.bindings, node.rec), out)
        elif t is ast.List:
            out.append("[ ")
            for item in node.items:
                out.append("(")
                self._show(item, out)
                out.append(") ")
            out.append("]")
        elif t is ast.Let:
            self._show_let(node.bindings, node.body, out)
        elif t is ast.LegacyLet:
            out.append("(")
            self._show_attrs(self._desugar(node.bindings, True), out)
            out.append(").body")
        elif t is ast.With:
            out.append("(with ")
            self._show(node.env, out)
            out.append("; ")
            self._show(node.body, out)
            out.append(")")
        elif t is ast.Assert:
            out.append("assert ")
            self._show(node.cond, out)
            out.append("; ")
            self._show(node.body, out)
        elif t is ast.If:
            out.append("(if ")
            self._show(node.cond, out)
            out.append(" then ")
            self._show(node.then_, out)
            out.append(" else ")
            self._show(node.else_, out)
            out.append(")")
        elif t is ast.Lambda:
            self._show_lambda(node, out)
        elif t is ast.Apply:
            fn = node
            args = []
            while type(fn) is ast.Apply:
                args.append(fn.arg)
                fn = fn.fn
            out.append("(")
            self._show(fn, out)
            for a in reversed(args):
                out.append(" ")
                self._show(a, out)
            out.append(")")
        elif t is ast.UnaryOp:
            out.append("(! " if node.op == "!" else "(__sub 0 ")
            self._show(node.expr, out)
            out.append(")")
        elif t is ast.BinOp:
            self._show_binop(node, out)
        else:
            raise TypeError(f"cannot print {t.__name__}")

    def _concat_path(self, parts: list[Any], out: list[str]) -> None:
        out.append("(")
        for i, p in enumerate(parts):
            if i:
                out.append(" + ")
            if type(p) is _Raw:
                out.append(p.text)
            elif type(p) is str:
                out.append(quote_string(p))
            else:
                self._show(p, out)
        out.append(")")

    def _show_binop(self, node: Any, out: list[str]) -> None:
        op = node.op
        call = {"-": "__sub", "*": "__mul", "/": "__div"}.get(op)
        if call is not None:
            out.append(f"({call} ")
            self._show(node.lhs, out)
            out.append(" ")
            self._show(node.rhs, out)
            out.append(")")
            return
        if op in {"<", ">", "<=", ">="}:
            a, b = (node.lhs, node.rhs) if op in {"<", ">="} else (node.rhs, node.lhs)
            negate = op in {"<=", ">="}
            out.append("(! (__lessThan " if negate else "(__lessThan ")
            self._show(a, out)
            out.append(" ")
            self._show(b, out)
            out.append("))" if negate else ")")
            return
        out.append("(")
        self._show(node.lhs, out)
        out.append(f" {op} ")
        self._show(node.rhs, out)
        out.append(")")

    def _show_lambda(self, node: Any, out: list[str]) -> None:
        out.append("(")
        param = node.param
        if type(param) is ast.Ident:
            out.append(param.name)
        else:
            out.append("{ ")
            entries = param.entries
            for i, f in enumerate(entries):
                if i:
                    out.append(", ")
                out.append(f.name)
                if f.default is not None:
                    out.append(" ? ")
                    self._show(f.default, out)
            if param.ellipsis:
                out.append(", ..." if entries else "...")
            out.append(" }")
            if param.at_name is not None:
                out.append(" @ " + param.at_name)
        out.append(": ")
        self._show(node.body, out)
        out.append(")")


_IND_TOKEN = re.compile(r"(?:[^$']|\$[^{']|'[^'$])+|''\$|'''|''\\.|\$\{|''|\$|'", re.DOTALL)
_IND_OPEN = re.compile(r" *\n")
_IND_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}


def _ind_string_parts(node: Any) -> tuple[Any, ...] | None:
    """The parts of an indented string split where Nix's lexer splits it (each ``''$``,
    ``'''`` and ``''\\x`` escape is a part of its own), indentation stripped as Nix strips it;
    None when ``node`` is not an indented string or its source cannot be followed."""
    text = node.source.text
    if not text.startswith("''", node.start):
        return None
    pos = node.start + 2
    m = _IND_OPEN.match(text, pos)
    if m:
        pos = m.end()
    interps = iter([p for p in node.parts if type(p) is not str])
    tokens: list[Any] = []
    while True:
        m = _IND_TOKEN.match(text, pos)
        if m is None:
            return None
        tok = m.group()
        pos = m.end()
        if tok == "''":
            break
        if tok == "${":
            expr = next(interps, None)
            close = -1 if expr is None else text.find("}", expr.end)
            if close < 0:
                return None
            tokens.append(expr)
            pos = close + 1
        elif tok == "''$":
            tokens.append(["$", False])
        elif tok == "'''":
            tokens.append(["''", False])
        elif tok.startswith("''\\"):
            tokens.append([_IND_ESCAPES.get(tok[3], tok[3]), False])
        else:
            tokens.append([tok, True])
    if next(interps, None) is not None:
        return None
    result = _strip_indentation(tokens)
    if _literal_runs(result) != _literal_runs(node.parts):
        return None
    return result


def _strip_indentation(tokens: list[Any]) -> tuple[Any, ...]:
    """Nix 2.8's ``stripIndentation`` over lexer tokens: ``[text, has_indentation]`` lists
    (escapes have none: like ``${…}``, they end a line's leading whitespace) and expressions."""
    at_start = True
    min_indent = 1000000
    cur = 0
    for tok in tokens:
        if type(tok) is not list or not tok[1]:
            if at_start:
                at_start = False
                min_indent = min(min_indent, cur)
            continue
        for c in tok[0]:
            if at_start:
                if c == " ":
                    cur += 1
                elif c == "\n":
                    cur = 0
                else:
                    at_start = False
                    min_indent = min(min_indent, cur)
            elif c == "\n":
                at_start = True
                cur = 0
    out: list[Any] = []
    at_start = True
    dropped = 0
    for n, tok in enumerate(tokens):
        if type(tok) is not list:
            at_start = False
            dropped = 0
            out.append(tok)
            continue
        kept: list[str] = []
        for c in tok[0]:
            if at_start:
                if c == " ":
                    if dropped >= min_indent:
                        kept.append(c)
                    dropped += 1
                elif c == "\n":
                    dropped = 0
                    kept.append(c)
                else:
                    at_start = False
                    dropped = 0
                    kept.append(c)
            else:
                kept.append(c)
                if c == "\n":
                    at_start = True
        line = "".join(kept)
        if n == len(tokens) - 1:
            p = line.rfind("\n")
            if p >= 0 and not line[p + 1 :].strip(" "):
                line = line[: p + 1]
        out.append(line)
    return tuple(out)


def _literal_runs(parts: tuple[Any, ...]) -> list[str]:
    """The literal text between interpolations (to check a re-split against the parser)."""
    runs = [""]
    for p in parts:
        if type(p) is str:
            runs[-1] += p
        else:
            runs.append("")
    return runs


@dataclass(frozen=True)
class _Raw:
    """Text printed as is (the absolute literal head of an interpolated path)."""

    text: str


def show_parse(
    tree: Any,
    source_text: str,
    base_dir: str,
    home: str | None = None,
    builtin_names: Iterable[str] = (),
) -> str:
    """The ``nix-instantiate --parse`` rendering of ``tree`` (without the trailing newline);
    ``builtin_names``: the builtins' names (interned before the source is read)."""
    return ParsePrinter(source_text, base_dir, home, builtin_names).show(tree)
