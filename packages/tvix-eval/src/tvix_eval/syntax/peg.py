"""The reference parser: ``grammar.peg`` run by parsimonious, plus a visitor
that builds the same AST as the run-time parser.

It is far too slow for real use (parsimonious builds a node per character
class match) and exists so tests can check the hand-written parser against a
readable grammar. parsimonious is imported only when this module is used.
Spans of nodes built here include trailing whitespace; trees are compared
with :func:`tvix_eval.syntax.ast.to_data`, which ignores positions.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from tvix_eval.errors import NixParseError
from tvix_eval.syntax import ast as A
from tvix_eval.syntax.ast import Source, Span
from tvix_eval.syntax.checks import AttrTable, check_formals, is_static_string, static_name
from tvix_eval.syntax.indent import strip_indentation
from tvix_eval.syntax.lexer import unescape

if TYPE_CHECKING:
    from parsimonious.grammar import Grammar
    from parsimonious.nodes import Node as PNode

__all__ = ["grammar", "peg_parse"]

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\r": "\n"}


@lru_cache(maxsize=1)
def grammar() -> Grammar:
    """The compiled grammar (loaded once)."""
    from parsimonious.grammar import Grammar

    text = resources.files("tvix_eval.syntax").joinpath("grammar.peg").read_text("utf-8")
    return Grammar(text)


def _make_visitor() -> Any:
    from parsimonious.nodes import NodeVisitor

    class Visitor(NodeVisitor):  # type: ignore[misc]
        unwrapped_exceptions = (NixParseError,)

        def __init__(self, source: Source) -> None:
            self.src = source

        def err(self, message: str, offset: int) -> NixParseError:
            return NixParseError(message, Span(self.src, offset, offset))

        def generic_visit(self, node: PNode, children: list[Any]) -> Any:
            return children or node

        # --- expressions ------------------------------------------------------

        def visit_start(self, node: PNode, ch: list[Any]) -> Any:
            return ch[1]

        def visit_expr(self, node: PNode, ch: list[Any]) -> Any:
            return ch[0]

        def visit_lambda(self, node: PNode, ch: list[Any]) -> Any:
            param, _, body = ch
            if isinstance(param, A.Formals):
                check_formals(self.src, node.start, param)
            return A.Lambda(self.src, node.start, node.end, param, body)

        def visit_lambda_param(self, node: PNode, ch: list[Any]) -> Any:
            return ch[0]

        def visit_ident_param(self, node: PNode, ch: list[Any]) -> Any:
            return A.Ident(self.src, node.start, node.end, ch[1])

        def visit_at_formals(self, node: PNode, ch: list[Any]) -> Any:
            formals: A.Formals = ch[2]
            formals.at_name = ch[0]
            formals.at_before = True
            return formals

        def visit_formals_at(self, node: PNode, ch: list[Any]) -> Any:
            formals: A.Formals = ch[0]
            if isinstance(ch[1], list):
                formals.at_name = ch[1][0]
            return formals

        def visit_formals_at_name(self, node: PNode, ch: list[Any]) -> Any:
            return ch[1]

        def visit_formals(self, node: PNode, ch: list[Any]) -> Any:
            entries = list(ch[1]) if isinstance(ch[1], list) else []
            ellipsis = False
            if isinstance(ch[2], list):
                last = ch[2][0]
                if last == "...":
                    ellipsis = True
                else:
                    entries.append(last)
            return A.Formals(self.src, node.start, node.end, tuple(entries), ellipsis, None, False)

        def visit_formal_comma(self, node: PNode, ch: list[Any]) -> Any:
            return ch[0]

        def visit_formal_last(self, node: PNode, ch: list[Any]) -> Any:
            return ch[0]

        def visit_ELLIPSIS(self, node: PNode, ch: list[Any]) -> Any:
            return "..."

        def visit_formal(self, node: PNode, ch: list[Any]) -> Any:
            default = ch[1][0] if isinstance(ch[1], list) else None
            return A.Formal(self.src, node.start, node.end, ch[0], default)

        def visit_formal_default(self, node: PNode, ch: list[Any]) -> Any:
            return ch[1]

        def visit_assert_expr(self, node: PNode, ch: list[Any]) -> Any:
            return A.Assert(self.src, node.start, node.end, ch[1], ch[3])

        def visit_with_expr(self, node: PNode, ch: list[Any]) -> Any:
            return A.With(self.src, node.start, node.end, ch[1], ch[3])

        def visit_let_expr(self, node: PNode, ch: list[Any]) -> Any:
            bindings, table = ch[2]
            if table.has_dynamic:
                raise self.err("dynamic attributes not allowed in let", node.start)
            return A.Let(self.src, node.start, node.end, bindings, ch[4])

        def visit_if_expr(self, node: PNode, ch: list[Any]) -> Any:
            return A.If(self.src, node.start, node.end, ch[1], ch[3], ch[5])

        # --- operators ------------------------------------------------------

        def _right(self, node: PNode, ch: list[Any]) -> Any:
            lhs = ch[0]
            if not isinstance(ch[1], list):
                return lhs
            op, rhs = ch[1][0]
            return A.BinOp(self.src, node.start, node.end, op, lhs, rhs)

        def _left(self, node: PNode, ch: list[Any]) -> Any:
            lhs = ch[0]
            tails = ch[1] if isinstance(ch[1], list) else []
            for op, rhs in tails:
                lhs = A.BinOp(self.src, lhs.start, rhs.end, op, lhs, rhs)
            return lhs

        def _tail(self, node: PNode, ch: list[Any]) -> Any:
            op = ch[0]
            if isinstance(op, list):
                op = op[0]
            return (op, ch[1])

        visit_op_impl = visit_op_update = visit_op_concat = _right
        visit_op_eq = visit_op_cmp = _right
        visit_op_or = visit_op_and = visit_op_add = visit_op_mul = _left
        visit_impl_tail = visit_or_tail = visit_and_tail = visit_eq_tail = _tail
        visit_cmp_tail = visit_update_tail = visit_add_tail = visit_mul_tail = _tail
        visit_concat_tail = _tail

        def _op(self, node: PNode, ch: list[Any]) -> Any:
            return node.children[0].text

        visit_IMPL = visit_OR = visit_AND = visit_EQ = visit_NEQ = visit_LEQ = _op
        visit_GEQ = visit_LT = visit_GT = visit_UPDATE = visit_PLUS = visit_MINUS = _op
        visit_STAR = visit_SLASH = visit_CONCAT = visit_NOT = _op

        def visit_op_has(self, node: PNode, ch: list[Any]) -> Any:
            e = ch[0]
            for path, tail in zip(
                ch[1] if isinstance(ch[1], list) else [], node.children[1], strict=False
            ):
                e = A.HasAttr(self.src, e.start, tail.end, e, path)
            return e

        def visit_has_tail(self, node: PNode, ch: list[Any]) -> Any:
            return ch[1]

        def visit_unary(self, node: PNode, ch: list[Any]) -> Any:
            return ch[0]

        def visit_not_expr(self, node: PNode, ch: list[Any]) -> Any:
            return A.UnaryOp(self.src, node.start, node.end, "!", ch[1])

        def visit_neg_expr(self, node: PNode, ch: list[Any]) -> Any:
            return A.UnaryOp(self.src, node.start, node.end, "-", ch[1])

        def visit_app(self, node: PNode, ch: list[Any]) -> Any:
            fn = ch[0]
            args = ch[1] if isinstance(ch[1], list) else []
            for arg in args:
                # From the first token, an opening parenthesis included, as Nix reports calls.
                fn = A.Apply(self.src, node.start, arg.end, fn, arg)
            return fn

        def visit_select(self, node: PNode, ch: list[Any]) -> Any:
            e = ch[0]
            if not isinstance(ch[1], list):
                return e
            tail = ch[1][0]
            if isinstance(tail, tuple):
                path, default = tail
                return A.Select(self.src, node.start, node.end, e, path, default)
            ident = A.Ident(self.src, tail.start, tail.end, "or")
            return A.Apply(self.src, node.start, node.end, e, ident)

        def visit_select_tail(self, node: PNode, ch: list[Any]) -> Any:
            return ch[0]

        def visit_select_attr(self, node: PNode, ch: list[Any]) -> Any:
            default = ch[2][0] if isinstance(ch[2], list) else None
            return (ch[1], default)

        def visit_select_default(self, node: PNode, ch: list[Any]) -> Any:
            return ch[1]

        def visit_OR_KW(self, node: PNode, ch: list[Any]) -> Any:
            return node

        # --- simple expressions ------------------------------------------------

        def visit_simple(self, node: PNode, ch: list[Any]) -> Any:
            return ch[0]

        def visit_paren(self, node: PNode, ch: list[Any]) -> Any:
            return ch[1]

        def visit_ident(self, node: PNode, ch: list[Any]) -> Any:
            return A.Ident(self.src, node.start, node.end, node.children[1].text)

        def visit_IDENT(self, node: PNode, ch: list[Any]) -> Any:
            return node.children[1].text

        def visit_list(self, node: PNode, ch: list[Any]) -> Any:
            items = ch[1] if isinstance(ch[1], list) else []
            return A.List(self.src, node.start, node.end, tuple(items))

        def visit_set(self, node: PNode, ch: list[Any]) -> Any:
            return A.AttrSet(self.src, node.start, node.end, False, ch[1][0])

        def visit_rec_set(self, node: PNode, ch: list[Any]) -> Any:
            return A.AttrSet(self.src, node.start, node.end, True, ch[2][0])

        def visit_legacy_let(self, node: PNode, ch: list[Any]) -> Any:
            return A.LegacyLet(self.src, node.start, node.end, ch[2][0])

        # --- bindings ------------------------------------------------------------

        def visit_binds(self, node: PNode, ch: list[Any]) -> Any:
            table = AttrTable(self.src)
            bindings = tuple(ch)
            for b in bindings:
                table.add(b)
            return bindings, table

        def visit_bind(self, node: PNode, ch: list[Any]) -> Any:
            return ch[0]

        def visit_attr_bind(self, node: PNode, ch: list[Any]) -> Any:
            return A.AttrBinding(self.src, node.start, node.end, ch[0], ch[2])

        def visit_inherit(self, node: PNode, ch: list[Any]) -> Any:
            from_expr = ch[1][0] if isinstance(ch[1], list) else None
            names: list[A.Ident] = []
            attr_nodes = node.children[2].children
            for value, attr_node in zip(
                ch[2] if isinstance(ch[2], list) else [], attr_nodes, strict=False
            ):
                if not isinstance(value, str):
                    raise self.err("dynamic attributes not allowed in inherit", attr_node.start)
                names.append(A.Ident(self.src, attr_node.start, attr_node.end, value))
            return A.Inherit(self.src, node.start, node.end, from_expr, tuple(names))

        def visit_inherit_from(self, node: PNode, ch: list[Any]) -> Any:
            return ch[1]

        def visit_attrpath(self, node: PNode, ch: list[Any]) -> Any:
            more = ch[1] if isinstance(ch[1], list) else []
            return (ch[0], *more)

        def visit_attr_more(self, node: PNode, ch: list[Any]) -> Any:
            return ch[1]

        def visit_attr(self, node: PNode, ch: list[Any]) -> Any:
            value = ch[0]
            if isinstance(value, _Dynamic):
                return value.expr
            if isinstance(value, A.Str) and is_static_string(value):
                return value.parts[0] if value.parts else ""
            return value

        def visit_attr_name(self, node: PNode, ch: list[Any]) -> Any:
            value = ch[0]
            return value if isinstance(value, str) else "or"

        def visit_attr_antiquote(self, node: PNode, ch: list[Any]) -> Any:
            e = ch[2]
            if is_static_string(e):
                return static_name(e)
            # Wrap so that visit_attr does not mistake a `${"${x}"}`-style
            # dynamic string for a quoted key.
            return _Dynamic(e)

        # --- literals --------------------------------------------------------------

        def visit_uri(self, node: PNode, ch: list[Any]) -> Any:
            return A.Uri(self.src, node.start, node.end, node.children[0].text)

        def visit_int(self, node: PNode, ch: list[Any]) -> Any:
            text = node.children[0].text
            value = int(text)
            if value > 0x7FFFFFFFFFFFFFFF:
                raise self.err(f"invalid integer '{text}'", node.start)
            return A.Int(self.src, node.start, node.end, value)

        def visit_float(self, node: PNode, ch: list[Any]) -> Any:
            text = node.children[0].text
            value = float(text)
            mantissa = text.lower().split("e", 1)[0]
            if value == float("inf") or (value == 0.0 and any(c in "123456789" for c in mantissa)):
                raise self.err(f"invalid float '{text}'", node.start)
            return A.Float(self.src, node.start, node.end, value)

        def visit_spath(self, node: PNode, ch: list[Any]) -> Any:
            return A.SearchPath(self.src, node.start, node.end, node.children[0].text[1:-1])

        def visit_path(self, node: PNode, ch: list[Any]) -> Any:
            return ch[0]

        def visit_path_plain(self, node: PNode, ch: list[Any]) -> Any:
            text = node.children[0].text
            if text.endswith("/"):
                raise self.err("path has a trailing slash", node.children[0].end)
            return A.Path(self.src, node.start, node.end, (text,))

        def visit_path_interp(self, node: PNode, ch: list[Any]) -> Any:
            parts: list[Any] = [node.children[0].children[0].text]
            for piece in ch[1]:
                if isinstance(piece, str):
                    if isinstance(parts[-1], str):
                        parts[-1] += piece
                    else:
                        parts.append(piece)
                else:
                    parts.append(piece)
            last = parts[-1]
            if isinstance(last, str) and last.endswith("/"):
                raise self.err("path has a trailing slash", node.children[1].end)
            return A.Path(self.src, node.start, node.end, tuple(parts))

        def visit_path_piece(self, node: PNode, ch: list[Any]) -> Any:
            return ch[0]

        def visit_path_antiquote(self, node: PNode, ch: list[Any]) -> Any:
            return ch[2]

        def visit_path_text(self, node: PNode, ch: list[Any]) -> Any:
            return node.text

        def visit_string(self, node: PNode, ch: list[Any]) -> Any:
            parts: list[Any] = []
            for piece in ch[1] if isinstance(ch[1], list) else []:
                if isinstance(piece, str):
                    if parts and isinstance(parts[-1], str):
                        parts[-1] += piece
                    elif piece:
                        parts.append(piece)
                else:
                    parts.append(piece)
            return A.Str(self.src, node.start, node.end, tuple(parts))

        def visit_str_piece(self, node: PNode, ch: list[Any]) -> Any:
            return ch[0]

        def visit_str_antiquote(self, node: PNode, ch: list[Any]) -> Any:
            return ch[2]

        def visit_str_text(self, node: PNode, ch: list[Any]) -> Any:
            return unescape(node.text)

        def visit_ind_string(self, node: PNode, ch: list[Any]) -> Any:
            pieces = ch[1] if isinstance(ch[1], list) else []
            parts = strip_indentation(pieces)
            return A.Str(self.src, node.start, node.end, parts)

        def visit_ind_piece(self, node: PNode, ch: list[Any]) -> Any:
            return ch[0]

        def visit_ind_antiquote(self, node: PNode, ch: list[Any]) -> Any:
            return (2, ch[2])

        def visit_ind_text(self, node: PNode, ch: list[Any]) -> Any:
            return (0, node.text)

        def visit_ind_esc(self, node: PNode, ch: list[Any]) -> Any:
            text = node.text
            if text == "'''":
                return (1, "''")
            if text == "''$":
                return (1, "$")
            c = text[3]
            return (1, _ESCAPES.get(c, c))

        def visit_ind_lone(self, node: PNode, ch: list[Any]) -> Any:
            return (1, node.text)

    return Visitor


class _Dynamic:
    """A dynamic attribute name from ``${e}``, unwrapped by ``visit_attr``."""

    __slots__ = ("expr",)

    def __init__(self, expr: A.Expr) -> None:
        self.expr = expr


@lru_cache(maxsize=1)
def _visitor_class() -> Any:
    return _make_visitor()


def peg_parse(text: str, file: str | None = None) -> A.Expr:
    """Parse with the reference grammar; same result and errors as
    :func:`tvix_eval.syntax.parse` (error positions and messages differ)."""
    from parsimonious.exceptions import IncompleteParseError, ParseError

    source = Source("«string»" if file is None else file, text)
    if "\0" in text:
        raise NixParseError("NUL byte in source", Span(source, text.index("\0"), text.index("\0")))
    try:
        tree = grammar().parse(text)
    except (ParseError, IncompleteParseError) as exc:
        pos = min(exc.pos, len(text))
        raise NixParseError("syntax error", Span(source, pos, pos)) from None
    result = _visitor_class()(source).visit(tree)
    assert not isinstance(result, _Dynamic)
    return result  # type: ignore[no-any-return]
