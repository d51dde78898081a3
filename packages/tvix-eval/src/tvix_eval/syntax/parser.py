"""The run-time parser: recursive descent with precedence climbing.

It reproduces the bison grammar of C++ Nix 2.8 (``parser.y``): the same
operator precedences and associativities, the same handling of ``or`` as an
identifier, the same attribute-path rules, and the same errors raised while
parsing (duplicate attributes and formals, dynamic attributes in ``let`` and
``inherit``). It builds :mod:`tvix_eval.syntax.ast` nodes directly.

Operator precedence, lowest first (``nonassoc`` operators cannot chain)::

    ->  (right)   ||  &&  (left)   == !=  (nonassoc)   < > <= >=  (nonassoc)
    //  (right)   !  (prefix)   + -  (left)   * /  (left)   ++  (right)
    ?   (left)   -  (prefix negation)   application   .
"""

from __future__ import annotations

import gc

from tvix_eval.errors import NixParseError
from tvix_eval.syntax import ast as A
from tvix_eval.syntax.ast import Source, Span
from tvix_eval.syntax.checks import AttrTable, check_formals, is_static_string, static_name
from tvix_eval.syntax.deep import run_deep
from tvix_eval.syntax.indent import strip_indentation
from tvix_eval.syntax.lexer import describe, tokenize

__all__ = ["parse", "parse_source"]

# kind -> (precedence, right-assoc, nonassoc, operator text)
_BINOPS: dict[str, tuple[int, bool, bool, str]] = {
    "IMPL": (1, True, False, "->"),
    "OR": (2, False, False, "||"),
    "AND": (3, False, False, "&&"),
    "EQ": (4, False, True, "=="),
    "NEQ": (4, False, True, "!="),
    "<": (5, False, True, "<"),
    ">": (5, False, True, ">"),
    "LEQ": (5, False, True, "<="),
    "GEQ": (5, False, True, ">="),
    "UPDATE": (6, True, False, "//"),
    "+": (8, False, False, "+"),
    "-": (8, False, False, "-"),
    "*": (9, False, False, "*"),
    "/": (9, False, False, "/"),
    "CONCAT": (10, True, False, "++"),
    # `expr ? attrpath` takes an attribute path, not an expression, on its
    # right, so it chains to the left: `a ? b ? c` is `(a ? b) ? c`.
    "?": (11, False, False, "?"),
}
_NOT_OPERAND = 8  # `!` binds looser than + - * / ++ ? and tighter than //
_NEG_OPERAND = 13  # unary minus binds tighter than every binary operator

# Tokens that can start an expr_simple (an argument of an application or a
# list element).
_SIMPLE_START = frozenset(
    [
        "ID",
        "INT",
        "FLOAT",
        "STRING",
        '"',
        "IND_STRING_OPEN",
        "PATH",
        "HPATH",
        "SIMPLE_PATH",
        "SPATH",
        "URI",
        "(",
        "LET",
        "REC",
        "{",
        "[",
    ]
)


class _Parser:
    __slots__ = ("e", "i", "k", "s", "src", "v")

    def __init__(self, source: Source) -> None:
        toks = tokenize(source)
        self.src = source
        self.k = toks.kinds
        self.v = toks.values
        self.s = toks.starts
        self.e = toks.ends
        self.i = 0

    # --- errors -------------------------------------------------------------

    def error(self, *expecting: str, at: int | None = None) -> NixParseError:
        i = self.i
        kind = self.k[i]
        pos = self.s[i] if at is None else at
        msg = f"syntax error, unexpected {describe(kind)}"
        if expecting:
            msg += ", expecting " + " or ".join(describe(x) for x in expecting)
        return NixParseError(msg, Span(self.src, pos, pos))

    def expect(self, kind: str) -> int:
        """Consume a token of ``kind``; return its end offset."""
        i = self.i
        if self.k[i] != kind:
            raise self.error(kind)
        self.i = i + 1
        return self.e[i]

    # --- top level ------------------------------------------------------------

    def file(self) -> A.Expr:
        e = self.expr()
        if self.k[self.i] != "EOF":
            raise self.error("EOF")
        return e

    def expr(self) -> A.Expr:
        k = self.k
        i = self.i
        kind = k[i]
        if kind == "ID":
            nxt = k[i + 1]
            if nxt == ":":
                src = self.src
                start = self.s[i]
                param = A.Ident(src, start, self.e[i], self.v[i])  # type: ignore[arg-type]
                self.i = i + 2
                body = self.expr()
                return A.Lambda(src, start, body.end, param, body)
            if nxt == "@":
                return self.at_lambda()
        elif kind == "{":
            if self.is_formals(i):
                return self.formals_lambda()
        elif kind == "IF":
            return self.if_expr()
        elif kind == "LET":
            if k[i + 1] != "{":
                return self.let_expr()
        elif kind in {"WITH", "ASSERT"}:
            src = self.src
            start = self.s[i]
            self.i = i + 1
            first = self.expr()
            self.expect(";")
            body = self.expr()
            if kind == "WITH":
                return A.With(src, start, body.end, first, body)
            return A.Assert(src, start, body.end, first, body)
        return self.expr_op(0)

    def is_formals(self, i: int) -> bool:
        k = self.k
        nxt = k[i + 1]
        if nxt == "}":
            return k[i + 2] == ":" or k[i + 2] == "@"
        if nxt == "ELLIPSIS":
            return True
        if nxt == "ID":
            after = k[i + 2]
            return after in {",", "?", "}"}
        return False

    def if_expr(self) -> A.Expr:
        src = self.src
        start = self.s[self.i]
        self.i += 1
        cond = self.expr()
        self.expect("THEN")
        then = self.expr()
        self.expect("ELSE")
        other = self.expr()
        return A.If(src, start, other.end, cond, then, other)

    def let_expr(self) -> A.Expr:
        src = self.src
        start = self.s[self.i]
        self.i += 1
        bindings, table = self.binds()
        if self.k[self.i] != "IN":
            raise self.error("IN") if self.k[self.i] == "EOF" else self.error()
        self.i += 1
        body = self.expr()
        if table.has_dynamic:
            raise NixParseError("dynamic attributes not allowed in let", Span(src, start, start))
        return A.Let(src, start, body.end, bindings, body)

    # --- lambdas ----------------------------------------------------------------

    def at_lambda(self) -> A.Expr:
        # ID '@' '{' formals '}' ':' body
        src = self.src
        i = self.i
        start = self.s[i]
        name = self.v[i]
        assert isinstance(name, str)
        self.i = i + 2
        if self.k[self.i] != "{":
            raise self.error("{")
        formals = self.formals(name, True, start)
        self.expect(":")
        body = self.expr()
        check_formals(src, start, formals)
        return A.Lambda(src, start, body.end, formals, body)

    def formals_lambda(self) -> A.Expr:
        src = self.src
        start = self.s[self.i]
        formals = self.formals(None, False, start)
        k = self.k
        if k[self.i] == "@":
            self.i += 1
            if k[self.i] != "ID":
                raise self.error("ID")
            name = self.v[self.i]
            assert isinstance(name, str)
            formals.at_name = name
            formals.end = self.e[self.i]
            self.i += 1
        elif k[self.i] != ":":
            raise self.error(":", "@")
        self.expect(":")
        body = self.expr()
        check_formals(src, start, formals)
        return A.Lambda(src, start, body.end, formals, body)

    def formals(self, at_name: str | None, at_before: bool, start: int) -> A.Formals:
        src = self.src
        k = self.k
        self.i += 1  # '{'
        entries: list[A.Formal] = []
        ellipsis = False
        while True:
            kind = k[self.i]
            if kind == "}":
                break
            if kind == "ELLIPSIS":
                ellipsis = True
                self.i += 1
                if k[self.i] != "}":
                    raise self.error("}")
                break
            if kind != "ID":
                raise self.error("}") if entries else self.error()
            i = self.i
            fstart = self.s[i]
            name = self.v[i]
            assert isinstance(name, str)
            self.i = i + 1
            default: A.Expr | None = None
            fend = self.e[i]
            if k[self.i] == "?":
                self.i += 1
                default = self.expr()
                fend = default.end
            entries.append(A.Formal(src, fstart, fend, name, default))
            kind = k[self.i]
            if kind == ",":
                self.i += 1
            elif kind != "}":
                raise self.error("}")
        end = self.e[self.i]
        self.i += 1
        return A.Formals(src, start, end, tuple(entries), ellipsis, at_name, at_before)

    # --- operators ----------------------------------------------------------------

    def expr_op(self, min_prec: int) -> A.Expr:
        k = self.k
        src = self.src
        kind = k[self.i]
        lhs: A.Expr
        if kind in {"!", "-"}:
            start = self.s[self.i]
            self.i += 1
            operand = self.expr_op(_NOT_OPERAND if kind == "!" else _NEG_OPERAND)
            lhs = A.UnaryOp(src, start, operand.end, kind, operand)
        else:
            lhs = self.expr_app()
        binops = _BINOPS
        while True:
            kind = k[self.i]
            info = binops.get(kind)
            if info is None:
                return lhs
            prec, right, nonassoc, op = info
            if prec < min_prec:
                return lhs
            self.i += 1
            if prec == 11:
                path, end = self.attrpath()
                lhs = A.HasAttr(src, lhs.start, end, lhs, path)
            else:
                rhs = self.expr_op(prec if right else prec + 1)
                lhs = A.BinOp(src, lhs.start, rhs.end, op, lhs, rhs)
            if nonassoc:
                nxt = binops.get(k[self.i])
                if nxt is not None and nxt[0] == prec:
                    raise self.error()

    def expr_app(self) -> A.Expr:
        # Calls and selections start at their first token, an opening parenthesis included
        # (parentheses are not nodes), because that is where Nix reports them.
        start = self.s[self.i]
        fn = self.expr_select()
        k = self.k
        simple = _SIMPLE_START
        if k[self.i] not in simple:
            return fn
        src = self.src
        while k[self.i] in simple:
            arg = self.expr_select()
            fn = A.Apply(src, start, arg.end, fn, arg)
        return fn

    def expr_select(self) -> A.Expr:
        start = self.s[self.i]
        e = self.expr_simple()
        k = self.k
        kind = k[self.i]
        if kind == ".":
            self.i += 1
            path, end = self.attrpath()
            default: A.Expr | None = None
            if k[self.i] == "OR_KW":
                self.i += 1
                default = self.expr_select()
                end = default.end
            return A.Select(self.src, start, end, e, path, default)
        if kind == "OR_KW":
            i = self.i
            self.i = i + 1
            src = self.src
            ident = A.Ident(src, self.s[i], self.e[i], "or")
            return A.Apply(src, start, self.e[i], e, ident)
        return e

    # --- simple expressions --------------------------------------------------------

    def expr_simple(self) -> A.Expr:
        i = self.i
        kind = self.k[i]
        src = self.src
        if kind == "ID":
            self.i = i + 1
            return A.Ident(src, self.s[i], self.e[i], self.v[i])  # type: ignore[arg-type]
        if kind == "STRING":
            self.i = i + 1
            text = self.v[i]
            return A.Str(src, self.s[i], self.e[i], (text,) if text else ())  # type: ignore[arg-type]
        if kind == '"':
            return self.string()
        if kind == "{":
            return self.attrset(False, self.s[i])
        if kind == "INT":
            self.i = i + 1
            return A.Int(src, self.s[i], self.e[i], self.v[i])  # type: ignore[arg-type]
        if kind == "[":
            return self.list_expr()
        if kind == "(":
            self.i = i + 1
            e = self.expr()
            if self.k[self.i] != ")":
                raise self.error(")")
            self.i += 1
            return e
        if kind == "IND_STRING_OPEN":
            return self.ind_string()
        if kind == "SIMPLE_PATH":
            self.i = i + 1
            return A.Path(src, self.s[i], self.e[i], (self.v[i],))  # type: ignore[arg-type]
        if kind in {"PATH", "HPATH"}:
            return self.path()
        if kind == "FLOAT":
            self.i = i + 1
            return A.Float(src, self.s[i], self.e[i], self.v[i])  # type: ignore[arg-type]
        if kind == "REC":
            self.i = i + 1
            if self.k[self.i] != "{":
                raise self.error("{")
            return self.attrset(True, self.s[i])
        if kind == "LET":
            self.i = i + 1
            if self.k[self.i] != "{":
                raise self.error("{")
            self.i += 1
            bindings, _ = self.binds()
            end = self.expect("}")
            return A.LegacyLet(src, self.s[i], end, bindings)
        if kind == "SPATH":
            self.i = i + 1
            return A.SearchPath(src, self.s[i], self.e[i], self.v[i])  # type: ignore[arg-type]
        if kind == "URI":
            self.i = i + 1
            return A.Uri(src, self.s[i], self.e[i], self.v[i])  # type: ignore[arg-type]
        raise self.error()

    def list_expr(self) -> A.Expr:
        start = self.s[self.i]
        self.i += 1
        items: list[A.Expr] = []
        k = self.k
        simple = _SIMPLE_START
        while k[self.i] in simple:
            items.append(self.expr_select())
        if k[self.i] != "]":
            raise self.error()
        end = self.e[self.i]
        self.i += 1
        return A.List(self.src, start, end, tuple(items))

    def attrset(self, rec: bool, start: int) -> A.Expr:
        self.i += 1  # '{'
        bindings, _ = self.binds()
        if self.k[self.i] != "}":
            raise self.error()
        end = self.e[self.i]
        self.i += 1
        return A.AttrSet(self.src, start, end, rec, bindings)

    def binds(self) -> tuple[tuple[A.Binding, ...], AttrTable]:
        src = self.src
        k = self.k
        table = AttrTable(src)
        out: list[A.Binding] = []
        while True:
            kind = k[self.i]
            if kind in {"ID", "STRING", '"', "OR_KW", "DOLLAR_CURLY"}:
                start = self.s[self.i]
                path, _ = self.attrpath()
                if k[self.i] != "=":
                    raise self.error(".", "=")
                self.i += 1
                value = self.expr()
                end = self.expect(";")
                b: A.Binding = A.AttrBinding(src, start, end, path, value)
            elif kind == "INHERIT":
                b = self.inherit()
            else:
                return tuple(out), table
            table.add(b)
            out.append(b)

    def inherit(self) -> A.Binding:
        src = self.src
        k = self.k
        start = self.s[self.i]
        self.i += 1
        from_expr: A.Expr | None = None
        if k[self.i] == "(":
            self.i += 1
            from_expr = self.expr()
            self.expect(")")
        names: list[A.Ident] = []
        while True:
            i = self.i
            kind = k[i]
            if kind in {"ID", "OR_KW"}:
                names.append(A.Ident(src, self.s[i], self.e[i], self.v[i]))  # type: ignore[arg-type]
                self.i = i + 1
            elif kind in {"STRING", '"', "DOLLAR_CURLY"}:
                name, end = self.attr()
                if not isinstance(name, str):
                    raise NixParseError(
                        "dynamic attributes not allowed in inherit", Span(src, self.s[i], self.s[i])
                    )
                names.append(A.Ident(src, self.s[i], end, name))
            elif kind == ";":
                end = self.e[i]
                self.i = i + 1
                return A.Inherit(src, start, end, from_expr, tuple(names))
            else:
                raise self.error()

    def attrpath(self) -> tuple[tuple[A.AttrName, ...], int]:
        name, end = self.attr()
        if self.k[self.i] != ".":
            return (name,), end
        path = [name]
        while self.k[self.i] == ".":
            self.i += 1
            name, end = self.attr()
            path.append(name)
        return tuple(path), end

    def attr(self) -> tuple[A.AttrName, int]:
        i = self.i
        kind = self.k[i]
        if kind == "ID":
            self.i = i + 1
            return self.v[i], self.e[i]  # type: ignore[return-value]
        if kind == "STRING":
            self.i = i + 1
            return self.v[i], self.e[i]  # type: ignore[return-value]
        if kind == '"':
            s = self.string()
            if all(isinstance(p, str) for p in s.parts):
                return static_name(s), s.end
            return s, s.end
        if kind == "OR_KW":
            self.i = i + 1
            return "or", self.e[i]
        if kind == "DOLLAR_CURLY":
            self.i = i + 1
            e = self.expr()
            end = self.expect("}")
            if is_static_string(e):
                return static_name(e), end  # type: ignore[arg-type]
            return e, end
        raise self.error("ID", "OR_KW", "DOLLAR_CURLY", '"')

    # --- strings and paths --------------------------------------------------------

    def string(self) -> A.Str:
        k = self.k
        v = self.v
        start = self.s[self.i]
        self.i += 1
        parts: list[str | A.Expr] = []
        while True:
            i = self.i
            kind = k[i]
            if kind == "STR":
                text = v[i]
                assert isinstance(text, str)
                if parts and isinstance(parts[-1], str):
                    parts[-1] += text
                elif text:
                    parts.append(text)
                self.i = i + 1
            elif kind == "DOLLAR_CURLY":
                self.i = i + 1
                parts.append(self.expr())
                self.expect("}")
            elif kind == '"':
                self.i = i + 1
                return A.Str(self.src, start, self.e[i], tuple(parts))
            else:
                raise self.error('"')

    def ind_string(self) -> A.Str:
        k = self.k
        v = self.v
        start = self.s[self.i]
        self.i += 1
        pieces: list[tuple[int, str | A.Expr]] = []  # (0 text, 1 escape, 2 expr)
        while True:
            i = self.i
            kind = k[i]
            if kind == "IND_STR":
                pieces.append((0, v[i]))  # type: ignore[arg-type]
                self.i = i + 1
            elif kind == "IND_ESC":
                pieces.append((1, v[i]))  # type: ignore[arg-type]
                self.i = i + 1
            elif kind == "DOLLAR_CURLY":
                self.i = i + 1
                pieces.append((2, self.expr()))
                self.expect("}")
            elif kind == "IND_STRING_CLOSE":
                self.i = i + 1
                parts = strip_indentation(pieces)
                return A.Str(self.src, start, self.e[i], parts)
            else:
                raise self.error("IND_STR", "DOLLAR_CURLY", "IND_STRING_CLOSE")

    def path(self) -> A.Expr:
        k = self.k
        v = self.v
        i = self.i
        start = self.s[i]
        first = v[i]
        assert isinstance(first, str)
        parts: list[str | A.Expr] = [first]
        self.i = i + 1
        if k[i + 1] == "STR" and k[i + 2] != "DOLLAR_CURLY":
            # The grammar allows at most one piece before the first ${.
            # C++ Nix reports the PATH_END at the location of the piece.
            self.i = i + 2
            raise self.error("DOLLAR_CURLY", at=self.s[i + 1])
        while True:
            i = self.i
            kind = k[i]
            if kind == "PATH_END":
                self.i = i + 1
                end = self.e[i - 1]
                return A.Path(self.src, start, end, tuple(parts))
            if kind == "STR":
                text = v[i]
                assert isinstance(text, str)
                if isinstance(parts[-1], str):
                    parts[-1] += text
                else:
                    parts.append(text)
                self.i = i + 1
            elif kind == "DOLLAR_CURLY":
                self.i = i + 1
                parts.append(self.expr())
                self.expect("}")
            else:  # pragma: no cover - the lexer always ends a path with PATH_END
                raise self.error()


def parse_source(source: Source) -> A.Expr:
    """Parse a :class:`Source`, raising :class:`NixParseError` on bad syntax.

    The cyclic garbage collector is paused meanwhile: a parse allocates
    hundreds of thousands of acyclic nodes, and collections triggered by
    them would more than double the parse time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return run_deep(lambda: _Parser(source).file(), 16 * len(source.text) + 10_000)
    finally:
        if enabled:
            gc.enable()


def parse(source: str | bytes, file: str | None = None) -> A.Expr:
    """Parse Nix source text into an expression tree.

    ``file`` is the name used in positions and error messages (``«string»``
    when None). Bytes must be UTF-8; invalid UTF-8 and NUL bytes are syntax
    errors, as is anything C++ Nix's parser rejects.
    """
    name = "«string»" if file is None else file
    if isinstance(source, bytes):
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            prefix = source[: exc.start].decode("utf-8")
            src = Source(name, prefix + "\ufffd")
            raise NixParseError(
                "invalid UTF-8 in source", Span(src, len(prefix), len(prefix))
            ) from None
    else:
        text = source
    return parse_source(Source(name, text))
