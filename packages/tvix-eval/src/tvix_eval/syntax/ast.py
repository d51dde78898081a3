"""The abstract syntax tree of the Nix language.

Both parsers (the hand-written run-time parser and the PEG reference grammar)
build these nodes; the compiler consumes them. Nodes are small ``__slots__``
classes and are treated as immutable once built.

Positions
---------
Every node carries ``source`` (the :class:`Source` of the file it came from)
and ``start``/``end``: character offsets into ``source.text`` (end exclusive).
``node.span`` bundles the three into a :class:`Span`, from which the line and
column (1-based, as Nix prints them) are derived on demand.

Field order
-----------
Each class's ``__slots__`` lists its fields in constructor order (after
``source, start, end``); :func:`to_data` and the parse cache rely on that.

Nodes
-----
Literals and names

- :class:`Int` -- integer literal (``value`` fits a signed 64-bit integer).
- :class:`Float` -- float literal (``1.5``, ``.5``, ``1.5e-3``).
- :class:`Str` -- a string, ``"..."`` or ``''...''``. ``parts`` is a tuple of
  ``str`` (literal text, escapes already processed, indentation already
  stripped, adjacent literals merged) and :data:`Expr` (interpolations
  ``${e}``). A string without interpolation has zero or one ``str`` part.
- :class:`Path` -- a path literal. ``parts`` as for :class:`Str`; ``parts[0]``
  is always a ``str`` holding the literal text as written (``/a/b``, ``./a``,
  ``../a``, ``a/b``, ``~/a``); further parts come from interpolation
  (``./a/${b}.nix``). Resolution (relative to the file, home directory) is
  the compiler's job. ``kind`` is ``"absolute"``, ``"relative"`` or ``"home"``.
- :class:`SearchPath` -- ``<nixpkgs/lib>``; ``path`` is the text between the
  angle brackets.
- :class:`Uri` -- an unquoted URI literal such as ``http://x.org/a?b``.
- :class:`Ident` -- a variable reference. ``true``, ``false``, ``null`` and
  ``__curPos`` are ordinary identifiers at this level.

Attribute paths
---------------
An attribute path is a tuple of :data:`AttrName`: a plain ``str`` for a static
name (``a``, ``"a"``, ``${"a"}``) or an :data:`Expr` for a dynamic one
(``${e}``, ``"x${e}"``; the expression evaluates to the name).

Compound expressions

- :class:`Select` -- ``expr.a.b`` with optional ``default`` (``expr.a or d``).
- :class:`HasAttr` -- ``expr ? a.b``.
- :class:`AttrSet` -- ``{ ... }`` or ``rec { ... }``; ``bindings`` is a tuple
  of :class:`AttrBinding` and :class:`Inherit` in source order. Nested keys
  (``a.b = 1;``) stay as written: merging is done by the compiler. The
  parser has already rejected duplicate static attributes as C++ Nix does.
- :class:`AttrBinding` -- ``path = value;``.
- :class:`Inherit` -- ``inherit a "b";`` (``from_expr`` is None) or
  ``inherit (e) a b;``. ``names`` are :class:`Ident` nodes, one per name, so
  each has its own position.
- :class:`Let` -- ``let bindings in body``. Bindings never have dynamic keys.
- :class:`LegacyLet` -- ``let { bindings }``: a recursive set whose ``body``
  attribute is the value.
- :class:`With` -- ``with env; body``.
- :class:`Assert` -- ``assert cond; body``.
- :class:`If` -- ``if cond then then_ else else_``.
- :class:`Lambda` -- ``param: body`` where ``param`` is an :class:`Ident`
  (``x: ...``) or :class:`Formals` (``{ a, b ? 1, ... }@args: ...``).
- :class:`Formals` -- ``entries`` (tuple of :class:`Formal`), ``ellipsis``,
  ``at_name`` (the ``@`` binding or None) and ``at_before`` (True for
  ``args@{ ... }``, False for ``{ ... }@args``).
- :class:`Formal` -- one formal: ``name`` and ``default`` (None if absent).
- :class:`Apply` -- function application ``fn arg``.
- :class:`UnaryOp` -- ``op`` is ``"-"`` (negation) or ``"!"`` (not).
- :class:`BinOp` -- ``op`` is one of ``== != < <= > >= && || -> // ++ + - * /``.
- :class:`List` -- ``[ items ]``.

Parentheses are not nodes: ``(e)`` is just ``e`` (with the span of ``e``,
without the parentheses). The pretty printer adds parentheses where needed.

:func:`to_data` turns a tree into plain nested tuples (no positions) for
comparing trees in tests; :mod:`tvix_eval.syntax.cache` has its own encoding
that keeps positions.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from typing import TYPE_CHECKING, Any, TypeAlias

__all__ = [
    "BINARY_OPERATORS",
    "Apply",
    "Assert",
    "AttrBinding",
    "AttrName",
    "AttrSet",
    "BinOp",
    "Binding",
    "Expr",
    "Float",
    "Formal",
    "Formals",
    "HasAttr",
    "Ident",
    "If",
    "Inherit",
    "Int",
    "Lambda",
    "LegacyLet",
    "Let",
    "List",
    "Node",
    "Path",
    "SearchPath",
    "Select",
    "Source",
    "Span",
    "Str",
    "UnaryOp",
    "Uri",
    "With",
    "to_data",
]


class Source:
    """The text of one parsed file (or string) and its display name.

    ``name`` is what error messages print: a file path, or ``«string»`` for
    an expression given on the command line. Line starts are computed lazily
    the first time a position is asked for.
    """

    __slots__ = ("name", "text", "_line_starts")  # noqa: RUF023

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self._line_starts: list[int] | None = None

    def line_starts(self) -> list[int]:
        """Offsets at which each line starts (``\\n``, ``\\r\\n`` and ``\\r`` end lines)."""
        starts = self._line_starts
        if starts is None:
            starts = [0]
            text = self.text
            i = 0
            n = len(text)
            while True:
                j = text.find("\n", i)
                k = text.find("\r", i, j if j >= 0 else n)
                if k >= 0:
                    nxt = k + 2 if text.startswith("\r\n", k) else k + 1
                elif j >= 0:
                    nxt = j + 1
                else:
                    break
                starts.append(nxt)
                i = nxt
            self._line_starts = starts
        return starts

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a character offset."""
        starts = self.line_starts()
        line = bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line terminator."""
        starts = self.line_starts()
        begin = starts[line - 1]
        stop = starts[line] if line < len(starts) else len(self.text)
        return self.text[begin:stop].rstrip("\r\n")

    def __repr__(self) -> str:
        return f"Source({self.name!r})"


_materialize_lock = threading.Lock()


class Span:
    """A region of a :class:`Source`: character offsets ``start`` to ``end``."""

    __slots__ = ("source", "start", "end")  # noqa: RUF023

    def __init__(self, source: Source, start: int, end: int) -> None:
        self.source = source
        self.start = start
        self.end = end

    @property
    def file(self) -> str:
        return self.source.name

    @property
    def line(self) -> int:
        return self.source.position(self.start)[0]

    @property
    def column(self) -> int:
        return self.source.position(self.start)[1]

    def __repr__(self) -> str:
        line, col = self.source.position(self.start)
        return f"Span({self.source.name}:{line}:{col}, {self.start}..{self.end})"


class Node:
    """Base of every syntax node: a position in a source file.

    A node loaded from the parse cache may not have its fields yet: it then
    holds ``_pending``, the cache entry and chunk its fields come from, and
    the first access to a missing field fills them all in (see
    :mod:`tvix_eval.syntax.cache`). Nodes built by a parser never have it,
    and a filled-in node is indistinguishable from a parsed one.
    """

    __slots__ = ("source", "start", "end", "_pending")  # noqa: RUF023

    source: Source
    start: int
    end: int
    _pending: tuple[Any, int]

    if not TYPE_CHECKING:  # keep static checks of attribute names

        def __getattr__(self, name: str) -> Any:
            # Called only when ordinary lookup failed: an unset slot, or no such attribute.
            with _materialize_lock:
                try:
                    entry, chunk = object.__getattribute__(self, "_pending")
                except AttributeError:
                    pass  # not lazy, or filled in by another thread meanwhile
                else:
                    entry.materialize(self, chunk)
                    del self._pending
            return object.__getattribute__(self, name)

    @property
    def span(self) -> Span:
        return Span(self.source, self.start, self.end)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _fields(type(self)))
        return f"{type(self).__name__}({fields})"


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(getattr(cls, "__slots__", ()))


# --- literals and names ---------------------------------------------------


class Int(Node):
    """An integer literal."""

    __slots__ = ("value",)

    def __init__(self, source: Source, start: int, end: int, value: int) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.value = value


class Float(Node):
    """A float literal."""

    __slots__ = ("value",)

    def __init__(self, source: Source, start: int, end: int, value: float) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.value = value


class Str(Node):
    """A string: literal ``str`` parts and interpolated expressions."""

    __slots__ = ("parts",)

    def __init__(self, source: Source, start: int, end: int, parts: tuple[str | Expr, ...]) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.parts = parts


class Path(Node):
    """A path literal; ``parts[0]`` is the literal text as written."""

    __slots__ = ("parts",)

    def __init__(self, source: Source, start: int, end: int, parts: tuple[str | Expr, ...]) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.parts = parts

    @property
    def kind(self) -> str:
        first = self.parts[0]
        assert isinstance(first, str)
        if first.startswith("/"):
            return "absolute"
        if first.startswith("~"):
            return "home"
        return "relative"


class SearchPath(Node):
    """A search path ``<a/b>``; ``path`` is ``"a/b"``."""

    __slots__ = ("path",)

    def __init__(self, source: Source, start: int, end: int, path: str) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.path = path


class Uri(Node):
    """An unquoted URI literal."""

    __slots__ = ("value",)

    def __init__(self, source: Source, start: int, end: int, value: str) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.value = value


class Ident(Node):
    """A variable reference (also used for names in ``inherit``)."""

    __slots__ = ("name",)

    def __init__(self, source: Source, start: int, end: int, name: str) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.name = name


# --- attribute access -------------------------------------------------------


class Select(Node):
    """``expr.path`` or ``expr.path or default``."""

    __slots__ = ("expr", "path", "default")  # noqa: RUF023

    def __init__(  # noqa: PLR0917
        self,
        source: Source,
        start: int,
        end: int,
        expr: Expr,
        path: tuple[AttrName, ...],
        default: Expr | None,
    ) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.expr = expr
        self.path = path
        self.default = default


class HasAttr(Node):
    """``expr ? path``."""

    __slots__ = ("expr", "path")

    def __init__(
        self, source: Source, start: int, end: int, expr: Expr, path: tuple[AttrName, ...]
    ) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.expr = expr
        self.path = path


# --- bindings -----------------------------------------------------------------


class AttrBinding(Node):
    """``path = value;`` inside a set or ``let``; the span starts at the path."""

    __slots__ = ("path", "value")

    def __init__(
        self, source: Source, start: int, end: int, path: tuple[AttrName, ...], value: Expr
    ) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.path = path
        self.value = value


class Inherit(Node):
    """``inherit names;`` or ``inherit (from_expr) names;``."""

    __slots__ = ("from_expr", "names")

    def __init__(
        self,
        source: Source,
        start: int,
        end: int,
        from_expr: Expr | None,
        names: tuple[Ident, ...],
    ) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.from_expr = from_expr
        self.names = names


class AttrSet(Node):
    """``{ bindings }`` or ``rec { bindings }``."""

    __slots__ = ("rec", "bindings")  # noqa: RUF023

    def __init__(
        self, source: Source, start: int, end: int, rec: bool, bindings: tuple[Binding, ...]
    ) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.rec = rec
        self.bindings = bindings


class Let(Node):
    """``let bindings in body``."""

    __slots__ = ("bindings", "body")

    def __init__(
        self, source: Source, start: int, end: int, bindings: tuple[Binding, ...], body: Expr
    ) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.bindings = bindings
        self.body = body


class LegacyLet(Node):
    """``let { bindings }``: the value of the recursive set's ``body`` attribute."""

    __slots__ = ("bindings",)

    def __init__(self, source: Source, start: int, end: int, bindings: tuple[Binding, ...]) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.bindings = bindings


# --- control ------------------------------------------------------------------


class With(Node):
    """``with env; body``."""

    __slots__ = ("env", "body")  # noqa: RUF023

    def __init__(self, source: Source, start: int, end: int, env: Expr, body: Expr) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.env = env
        self.body = body


class Assert(Node):
    """``assert cond; body``."""

    __slots__ = ("cond", "body")  # noqa: RUF023

    def __init__(self, source: Source, start: int, end: int, cond: Expr, body: Expr) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.cond = cond
        self.body = body


class If(Node):
    """``if cond then then_ else else_``."""

    __slots__ = ("cond", "then_", "else_")  # noqa: RUF023

    def __init__(  # noqa: PLR0917
        self, source: Source, start: int, end: int, cond: Expr, then_: Expr, else_: Expr
    ) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.cond = cond
        self.then_ = then_
        self.else_ = else_


# --- functions ----------------------------------------------------------------


class Formal(Node):
    """One formal argument ``name`` or ``name ? default``."""

    __slots__ = ("name", "default")  # noqa: RUF023

    def __init__(
        self, source: Source, start: int, end: int, name: str, default: Expr | None
    ) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.name = name
        self.default = default


class Formals(Node):
    """A pattern ``{ a, b ? d, ... }`` with an optional ``@`` name."""

    __slots__ = ("entries", "ellipsis", "at_name", "at_before")  # noqa: RUF023

    def __init__(  # noqa: PLR0917
        self,
        source: Source,
        start: int,
        end: int,
        entries: tuple[Formal, ...],
        ellipsis: bool,
        at_name: str | None,
        at_before: bool,
    ) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.entries = entries
        self.ellipsis = ellipsis
        self.at_name = at_name
        self.at_before = at_before


class Lambda(Node):
    """``param: body``; ``param`` is an :class:`Ident` or :class:`Formals`."""

    __slots__ = ("param", "body")  # noqa: RUF023

    def __init__(
        self, source: Source, start: int, end: int, param: Ident | Formals, body: Expr
    ) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.param = param
        self.body = body


class Apply(Node):
    """Function application ``fn arg``."""

    __slots__ = ("fn", "arg")  # noqa: RUF023

    def __init__(self, source: Source, start: int, end: int, fn: Expr, arg: Expr) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.fn = fn
        self.arg = arg


# --- operators ----------------------------------------------------------------

#: Binary operators as they appear in :attr:`BinOp.op`.
BINARY_OPERATORS = frozenset(
    ["==", "!=", "<", "<=", ">", ">=", "&&", "||", "->", "//", "++", "+", "-", "*", "/"]
)


class UnaryOp(Node):
    """``-expr`` (op ``"-"``) or ``!expr`` (op ``"!"``)."""

    __slots__ = ("op", "expr")  # noqa: RUF023

    def __init__(self, source: Source, start: int, end: int, op: str, expr: Expr) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.op = op
        self.expr = expr


class BinOp(Node):
    """``lhs op rhs`` for every binary operator in :data:`BINARY_OPERATORS`."""

    __slots__ = ("op", "lhs", "rhs")  # noqa: RUF023

    def __init__(self, source: Source, start: int, end: int, op: str, lhs: Expr, rhs: Expr) -> None:  # noqa: PLR0917
        self.source = source
        self.start = start
        self.end = end
        self.op = op
        self.lhs = lhs
        self.rhs = rhs


class List(Node):
    """``[ items ]``."""

    __slots__ = ("items",)

    def __init__(self, source: Source, start: int, end: int, items: tuple[Expr, ...]) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.items = items


Expr: TypeAlias = (
    Int
    | Float
    | Str
    | Path
    | SearchPath
    | Uri
    | Ident
    | Select
    | HasAttr
    | AttrSet
    | Let
    | LegacyLet
    | With
    | Assert
    | If
    | Lambda
    | Apply
    | UnaryOp
    | BinOp
    | List
)
"""Any expression node."""

AttrName: TypeAlias = str | Expr
"""One element of an attribute path: a static name or a dynamic expression."""

Binding: TypeAlias = AttrBinding | Inherit
"""An entry of a set, ``let`` or legacy ``let``."""


Data: TypeAlias = bool | int | float | str | tuple["Data", ...] | None


def to_data(node: object) -> Data:
    """A position-free nested-tuple form of a tree, for comparing trees.

    Each node becomes ``(ClassName, field, ...)``; tuples map element-wise;
    ``str``, ``int``, ``float``, ``bool`` and None stay as they are.
    """
    result: list[Data] = []
    _to_data_iter(node, result)
    return result[0]


def _to_data_iter(root: object, result: list[Data]) -> None:
    # Each frame: (items still to convert, converted items, wrapper prefix).
    frames: list[tuple[list[object], list[Data], tuple[Data, ...] | None]] = []
    pending: list[object] = [root]
    done: list[Data] = []
    frames.append((pending, done, None))
    while frames:
        pending, done, prefix = frames[-1]
        if not pending:
            frames.pop()
            value: Data = tuple(done) if prefix is None else prefix + tuple(done)
            if frames:
                frames[-1][1].append(value)
            else:
                result.append(value[0] if isinstance(value, tuple) else value)
            continue
        item = pending.pop()
        if isinstance(item, Node):
            fields = _fields(type(item))
            children = [getattr(item, f) for f in fields]
            children.reverse()
            frames.append((children, [], (type(item).__name__,)))
        elif isinstance(item, tuple):
            children = list(item)
            children.reverse()
            frames.append((children, [], ()))
        elif item is None or isinstance(item, (bool, int, float, str)):
            done.append(item)
        else:
            raise TypeError(f"not a syntax tree: {item!r}")


def find_node(root: object, cls: type, start: int, end: int) -> Any:
    """The node of class ``cls`` spanning ``start``–``end`` in the tree ``root`` (the same
    node in a tree parsed again); raises LookupError if there is none."""
    pending: list[object] = [root]
    while pending:
        item = pending.pop()
        if isinstance(item, Node):
            if type(item) is cls and item.start == start and item.end == end:
                return item
            pending.extend(getattr(item, f) for f in _fields(type(item)))
        elif isinstance(item, tuple):
            pending.extend(item)
    raise LookupError(f"no {cls.__name__} at {start}-{end}")
