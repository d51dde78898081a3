"""Compiling bindings: attribute sets, ``rec`` sets, ``let`` and legacy ``let { … }``.

Nested keys (``a.b = 1; a.c = 2;``, ``a = { b = 1; }; a.c = 2;``) are merged at compile time into
one synthetic set per top-level name, which is ``rec`` iff its first literal occurrence was.
Dynamic keys are evaluated at run time, after the static ones; a ``null`` key drops the binding.
Plain ``inherit x`` takes ``x`` from the enclosing scope; ``inherit (e) x`` selects lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tvix_eval.compiler.code import UNSET, Code, EvFn, Frame, frame_init_lz
from tvix_eval.compiler.fastops import dict_builder
from tvix_eval.compiler.scope import Global, Scope, resolve
from tvix_eval.runtime.errors import EvalError, MissingAttribute
from tvix_eval.runtime.ops import coerce_to_string
from tvix_eval.runtime.values import (
    AttrPositions,
    NixAttrs,
    NixPath,
    NixString,
    PrimOp,
    Thunk,
    Value,
)
from tvix_eval.syntax import ast

if TYPE_CHECKING:
    from tvix_eval.compiler.compiler import Compiler


class Entry:
    """One statically named binding after nested keys are merged (a plain class: the
    dataclasses module costs milliseconds to import)."""

    __slots__ = ("from_expr", "inherit", "literal", "name", "nested", "node", "pos", "rec", "value")

    def __init__(  # noqa: PLR0917 (mirrors the fields)
        self,
        name: str,
        node: Any,
        value: Any = None,
        inherit: Any = None,
        from_expr: Any = None,
        nested: list[Any] | None = None,
        rec: bool = False,
        pos: Any = None,
        literal: Any = None,
    ) -> None:
        self.name = name
        self.node = node
        #: an expression, for plain and merged bindings
        self.value = value
        #: the Ident of ``inherit x``
        self.inherit = inherit
        #: ``e`` of ``inherit (e) x``
        self.from_expr = from_expr
        #: bindings of a merged set
        self.nested = nested
        self.rec = rec
        #: where C++ Nix 2.8 says an inherited attribute is defined (see ``_inherit_pos``)
        self.pos = pos
        #: the set literal a merged set started as (``a = { … }; a.b = …;``), if any
        self.literal = literal

    @property
    def where(self) -> Any:
        """The position of the definition (``unsafeGetAttrPos``, errors, XML)."""
        return self.node if self.pos is None else self.pos


class Collected:
    """The bindings of a set or ``let``: static ones by name, dynamic ones in order."""

    __slots__ = ("dynamics", "entries")

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.dynamics: list[tuple[Any, Any, Any]] = []


def _already_defined(name: str, node: Any, first: Any) -> EvalError:
    line, col = first.source.position(first.start)
    where = first.source.name
    if where == "«string»":
        where = "(string)"
    return EvalError(f"attribute '{name}' already defined at {where}:{line}:{col}", node)


def _sub_binding(b: ast.AttrBinding) -> ast.AttrBinding:
    return ast.AttrBinding(b.source, b.start, b.end, b.path[1:], b.value)


def _skip_space(text: str, i: int, end: int) -> int:
    """The offset of the first character at or after ``i`` not in whitespace or a comment."""
    while i < end:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            i = end if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = end if j < 0 else j + 2
        elif c in " \t\r\n":
            i += 1
        else:
            break
    return i


def _inherit_pos(b: ast.Inherit) -> ast.Span:
    """Where C++ Nix 2.8 locates the attributes of an ``inherit``: all of them just after the
    ``inherit`` keyword, or after the ``)`` of ``inherit (e)`` (its parser's location of the
    name list)."""
    if b.from_expr is None:
        i = b.start + len("inherit")
    else:
        i = _skip_space(b.source.text, b.from_expr.end, b.end) + 1
    return ast.Span(b.source, i, i + 1)


def collect(bindings: tuple[Any, ...]) -> Collected:
    out = Collected()
    entries = out.entries
    for b in bindings:
        if type(b) is ast.Inherit:
            pos = _inherit_pos(b)
            for ident in b.names:
                if ident.name in entries:
                    raise _already_defined(ident.name, pos, entries[ident.name].where)
                if b.from_expr is None:
                    entries[ident.name] = Entry(ident.name, ident, inherit=ident, pos=pos)
                else:
                    entries[ident.name] = Entry(ident.name, ident, from_expr=b.from_expr, pos=pos)
            continue
        path = b.path
        key = path[0]
        if type(key) is not str:
            if len(path) == 1:
                value = b.value
            else:
                value = ast.AttrSet(b.source, b.start, b.end, False, (_sub_binding(b),))
            out.dynamics.append((key, value, b))
            continue
        existing = entries.get(key)
        if len(path) == 1:
            if existing is None:
                entries[key] = Entry(key, b, value=b.value)
                continue
            if type(b.value) is ast.AttrSet and (
                existing.nested is not None
                or (existing.value is not None and type(existing.value) is ast.AttrSet)
            ):
                _make_nested(existing)
                assert existing.nested is not None
                existing.nested.extend(b.value.bindings)
                continue
            raise _already_defined(key, b, existing.where)
        sub = _sub_binding(b)
        if existing is None:
            entries[key] = Entry(key, b, nested=[sub])
            continue
        if existing.nested is not None or type(existing.value) is ast.AttrSet:
            _make_nested(existing)
            assert existing.nested is not None
            existing.nested.append(sub)
            continue
        raise _already_defined(key, b, existing.where)
    return out


def _make_nested(entry: Entry) -> None:
    if entry.nested is None:
        literal = entry.value
        entry.nested = list(literal.bindings)
        entry.rec = literal.rec
        entry.literal = literal
        entry.value = None


def entry_expr(entry: Entry) -> Any:
    """The expression bound by a plain or merged entry."""
    if entry.nested is not None:
        # spans the literal it started as; else the binding (``a.b = …``: no ``{`` of its own)
        n = entry.node if entry.literal is None else entry.literal
        return ast.AttrSet(n.source, n.start, n.end, entry.rec, tuple(entry.nested))
    return entry.value


def _compile_value(compiler: Compiler, entry: Entry, scope: Scope | None) -> Code:
    expr = entry_expr(entry)
    if type(expr) is ast.Lambda:
        code = compiler.c_Lambda(expr, scope, name=entry.name)
        if compiler.tracer is not None:
            code = compiler.traced_thunks(expr, code, compiler.tracer)
        return code
    return compiler.compile(expr, scope)


def inherit_select(entry: Entry) -> ast.Select:
    """``inherit (e) x`` as the selection ``e.x`` it stands for (at the position of ``x``)."""
    ident = entry.node
    return ast.Select(ident.source, ident.start, ident.end, entry.from_expr, (entry.name,), None)


def _compile_inherit_from(compiler: Compiler, entry: Entry, scope: Scope | None) -> Code:
    return compiler.compile(inherit_select(entry), scope)


def _dynamic_key(kev: EvFn, knode: Any, frame: Frame) -> str | None:
    v = kev(frame)
    t = type(v)
    if t is str or t is NixString:
        return v  # type: ignore[no-any-return]
    if v is None:
        return None
    if t is NixPath:
        return v.path  # type: ignore[no-any-return]
    try:
        return coerce_to_string(v)
    except EvalError as e:
        raise e.at(knode) from None


def _compile_dynamics(
    compiler: Compiler, dynamics: list[tuple[Any, Any, Any]], scope: Scope | None
) -> list[tuple[EvFn, Any, EvFn, Any]]:
    out = []
    for key, value, b in dynamics:
        kcode = compiler.compile(key, scope)
        vcode = compiler.compile(value, scope)
        out.append((kcode.ev, key, vcode.lz, b))
    return out


def _add_dynamics(
    d: dict[str, Value], dyn: list[tuple[EvFn, Any, EvFn, Any]], frame: Frame
) -> None:
    for kev, knode, vlz, b in dyn:
        k = _dynamic_key(kev, knode, frame)
        if k is None:
            continue
        if k in d:
            line, col = b.source.position(b.start)
            where = b.source.name
            if where == "«string»":
                where = "(string)"
            raise EvalError(f"dynamic attribute '{k}' already defined at {where}:{line}:{col}", b)
        d[k] = vlz(frame)


def positions_of(collected: Collected, node: ast.AttrSet) -> AttrPositions:
    """Where each attribute of a set literal is defined, and where its ``{`` is."""
    return AttrPositions(
        {name: entry.where for name, entry in collected.entries.items()}, _brace(node)
    )


def _brace(node: ast.AttrSet) -> ast.Span | None:
    """The span of the ``{`` of a set literal (after ``rec`` and any comments); ``None`` for the
    implicit set of ``a.b = …`` (C++ Nix gives it no position)."""
    text = node.source.text
    i = node.start
    if node.rec:
        i = _skip_space(text, i + len("rec"), node.end)
    if not text.startswith("{", i):
        return None
    return ast.Span(node.source, i, i + 1)


def compile_attrset(compiler: Compiler, node: ast.AttrSet, scope: Scope | None) -> Code:
    """``{ … }`` and ``rec { … }``."""
    collected = collect(node.bindings)
    if node.rec:
        return _compile_rec(compiler, collected, scope, node)
    codes: list[tuple[str, Code]] = []
    for name, entry in collected.entries.items():
        if entry.inherit is not None:
            code = compiler.compile(entry.inherit, scope)
        elif entry.from_expr is not None:
            code = _compile_inherit_from(compiler, entry, scope)
        else:
            code = _compile_value(compiler, entry, scope)
        codes.append((name, code))
    dyn = _compile_dynamics(compiler, collected.dynamics, scope)
    positions = positions_of(collected, node)
    build = dict_builder(codes, compiler.code_cache)
    if build is not None and not dyn:

        def ev_fused(frame: Frame) -> Value:
            return NixAttrs(build(frame), positions)

        return Code(ev_fused)
    statics = [(name, code.lz) for name, code in codes]

    def ev(frame: Frame) -> Value:
        d = {name: lz(frame) for name, lz in statics}
        if dyn:
            _add_dynamics(d, dyn, frame)
        return NixAttrs(d, positions)

    return Code(ev)


def _static_value(compiler: Compiler, base: Any, path: tuple[Any, ...], scope: Scope) -> Any:
    """The value of ``base.path`` when ``base`` names a global (``builtins``), else ``None``."""
    if type(base) is not ast.Ident:
        return None
    r = resolve(scope, base.name, compiler.globals)
    if not isinstance(r, Global):
        return None
    v = r.value
    for p in path:
        if type(p) is not str or type(v) is not NixAttrs:
            return None
        v = v.d.get(p)
    return v


def known_builtins(compiler: Compiler, collected: Collected, inner: Scope) -> dict[str, Any]:
    """The ``let`` bindings sure to hold a builtin function (``inherit (builtins) map``,
    ``f = builtins.map``, ``f = map``), so that calls through them call the builtin directly."""
    known: dict[str, Any] = {}
    for name, entry in collected.entries.items():
        expr = entry.value
        if entry.from_expr is not None:
            v = _static_value(compiler, entry.from_expr, (name,), inner)
        elif entry.nested is not None or expr is None:
            continue
        elif type(expr) is ast.Select and expr.default is None:
            v = _static_value(compiler, expr.expr, expr.path, inner)
        else:
            v = _static_value(compiler, expr, (), inner)
        if type(v) is PrimOp:
            known[name] = v
    return known


def frame_scope(
    compiler: Compiler, collected: Collected, scope: Scope | None, *, is_let: bool
) -> Scope:
    """The scope of a recursive frame (``let``, ``rec``): one slot per name, in order."""
    inner = Scope(scope, {name: i + 1 for i, name in enumerate(collected.entries)})
    if is_let:
        inner.known = known_builtins(compiler, collected, inner)
    return inner


def _frame_slots(
    compiler: Compiler, collected: Collected, scope: Scope | None, *, is_let: bool = False
) -> tuple[Scope, list[tuple[str, int, EvFn]]]:
    """The scope of a recursive frame and, per name, its slot and frame-filling function.

    In a ``let`` (unlike a ``rec`` set, whose slots ``__overrides`` may replace) the bindings
    known to hold a builtin are recorded in the scope."""
    inner = frame_scope(compiler, collected, scope, is_let=is_let)
    names = inner.names
    slots: list[tuple[str, int, EvFn]] = []
    for name, entry in collected.entries.items():
        if entry.inherit is not None:
            outer_lz = compiler.compile(entry.inherit, scope).lz

            def from_outer(frame: Frame, lz: EvFn = outer_lz) -> Value:
                return lz(frame[0])

            slots.append((name, names[name], from_outer))
            continue
        if entry.from_expr is not None:
            code = _compile_inherit_from(compiler, entry, inner)
        else:
            code = _compile_value(compiler, entry, inner)
        slots.append((name, names[name], frame_init_lz(code)))
    return inner, slots


def _compile_rec(compiler: Compiler, collected: Collected, scope: Scope | None, node: Any) -> Code:
    inner, slots = _frame_slots(compiler, collected, scope)
    size = len(slots) + 1
    dyn = _compile_dynamics(compiler, collected.dynamics, inner)

    overrides = "__overrides" in collected.entries
    positions = positions_of(collected, node)

    def ev(frame: Frame) -> Value:
        f: Frame = [UNSET] * size
        f[0] = frame
        for _, idx, lz in slots:
            f[idx] = lz(f)
        d = {name: f[idx] for name, idx, _ in slots}
        if overrides:
            apply_overrides(d, f, inner)
        if dyn:
            _add_dynamics(d, dyn, f)
        return NixAttrs(d, positions)

    return Code(ev)


def apply_overrides(d: dict[str, Value], f: Frame, inner: Scope) -> None:
    """C++ Nix's ``__overrides`` in a ``rec`` set: its attributes replace the set's own, also
    for references from inside the set."""
    from tvix_eval.runtime.ops import expect_attrs

    ov = expect_attrs(d["__overrides"])
    for k, v in ov.d.items():
        idx = inner.names.get(k)
        if idx is not None:
            f[idx] = v
        d[k] = v


def compile_let(compiler: Compiler, node: ast.Let, scope: Scope | None) -> Code:
    """``let … in body``: one recursive frame."""
    collected = collect(node.bindings)
    if collected.dynamics:
        raise EvalError("dynamic attributes not allowed in let", collected.dynamics[0][2])
    inner, slots = _frame_slots(compiler, collected, scope, is_let=True)
    size = len(slots) + 1
    body = compiler.compile(node.body, inner).ev
    inits = [(idx, lz) for _, idx, lz in slots]

    def ev(frame: Frame) -> Value:
        f: Frame = [UNSET] * size
        f[0] = frame
        for idx, lz in inits:
            f[idx] = lz(f)
        return body(f)

    return Code(ev)


def compile_legacy_let(compiler: Compiler, node: ast.LegacyLet, scope: Scope | None) -> Code:
    """``let { … body = e; }``: the ``body`` attribute of a recursive set."""
    rec = ast.AttrSet(node.source, node.start, node.end, True, node.bindings)
    set_ev = compile_attrset(compiler, rec, scope).ev

    def ev(frame: Frame) -> Value:
        attrs = set_ev(frame)
        body = attrs.d.get("body")
        if body is None and "body" not in attrs.d:
            raise MissingAttribute("attribute 'body' missing", node)
        if type(body) is not Thunk:
            return body
        try:
            return body.force()
        except EvalError as e:
            # C++ Nix evaluates this as `(rec { … }).body`, a selection.
            e.at(node)
            pos = attrs.pos.get("body") if attrs.pos is not None else None
            e.add_trace(pos, "while evaluating the attribute 'body'", True)
            raise

    return Code(ev)
