"""Generated code for bindings: set literals, ``rec`` sets and ``let``.

The same frames and the same rules as :mod:`tvix_eval.compiler.bindings` (which also merges
nested keys and reports duplicates, at compile time): a recursive frame is filled in the order
of its names, and a binding that reads a slot of its own frame not filled yet gets a thunk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tvix_eval.compiler.bindings import (
    Collected,
    Entry,
    apply_overrides,
    collect,
    entry_expr,
    frame_scope,
    inherit_select,
    positions_of,
)
from tvix_eval.compiler.gen import Ctx, Init
from tvix_eval.syntax import ast

if TYPE_CHECKING:
    from tvix_eval.compiler.gen import Gen


def _entry_lz(gen: Gen, entry: Entry, ctx: Ctx, init: Init | None) -> str:
    """What a binding stores, in the scope ``ctx`` (the frame's own, for recursive ones)."""
    if entry.from_expr is not None:
        return gen.lz(inherit_select(entry), ctx, init)
    expr = entry_expr(entry)
    if type(expr) is ast.Lambda:
        return gen.lz(expr, ctx, init, name=entry.name)
    return gen.lz(expr, ctx, init)


def _add_dynamics(gen: Gen, collected: Collected, d: str, ctx: Ctx) -> None:
    """``${k} = v;`` bindings, after the static ones, in order."""
    fn = ctx.fn
    for key, value, binding in collected.dynamics:
        k = gen.ev(key, ctx)
        name = fn.temp("k")
        fn.line(f"{name} = dynamic_key({k}, {gen.node(key)})")
        with fn.block(f"if {name} is not None"):
            fn.line(f"add_dynamic({d}, {name}, {gen.lz(value, ctx)}, {gen.node(binding)})")


def ev_attrset(gen: Gen, node: ast.AttrSet, ctx: Ctx, init: Init | None = None) -> str:
    """``{ … }`` and ``rec { … }``; ``init``: the frame being filled, when the set is built
    in a binding of that frame (see :func:`eager_attrset`)."""
    collected = collect(node.bindings)
    if node.rec:
        return _ev_rec(gen, collected, node, ctx)
    fn = ctx.fn
    items = []
    for name, entry in collected.entries.items():
        if entry.inherit is not None:
            value = gen.lz(entry.inherit, ctx, init)
        else:
            value = _entry_lz(gen, entry, ctx, init)
        items.append(f"{gen.unit.literal(name)}: {value}")
    positions = gen.unit.bind(positions_of(collected, node), "A")
    d = fn.temp("d")
    fn.line(f"{d} = {{{', '.join(items)}}}")
    _add_dynamics(gen, collected, d, ctx)
    return gen.new(ctx, "NixAttrs", d=d, _keys="None", pos=positions)


def eager_attrset(gen: Gen, node: ast.AttrSet, ctx: Ctx, init: Init | None) -> str | None:
    """A set literal built at once in a lazy position (building it evaluates nothing), or
    ``None`` for one whose dynamic keys must be evaluated, and for a ``rec`` set in a binding
    of a frame still being filled."""
    collected = collect(node.bindings)
    if collected.dynamics or (node.rec and init is not None):
        return None
    return ev_attrset(gen, node, ctx, init)


def _fill_frame(gen: Gen, collected: Collected, ctx: Ctx, is_let: bool) -> tuple[Ctx, str]:
    """Make and fill the recursive frame of ``collected``; returns the context inside it."""
    inner = frame_scope(gen.c, collected, ctx.scope, is_let=is_let)
    fn = ctx.fn
    f = fn.temp("f")
    fn.line(f"{f} = [{ctx.frame()}{', UNSET' * len(collected.entries)}]")
    inner_ctx = ctx.enter(inner, f)
    init = Init(inner)
    for name, entry in collected.entries.items():
        idx = inner.names[name]
        if entry.inherit is not None:
            value = gen.lz(entry.inherit, ctx)
        else:
            value = _entry_lz(gen, entry, inner_ctx, init)
        fn.line(f"{f}[{idx}] = {value}")
        init.filled.add(idx)
    return inner_ctx, f


def _ev_rec(gen: Gen, collected: Collected, node: ast.AttrSet, ctx: Ctx) -> str:
    inner_ctx, f = _fill_frame(gen, collected, ctx, is_let=False)
    assert inner_ctx.scope is not None
    names = inner_ctx.scope.names
    fn = ctx.fn
    d = fn.temp("d")
    items = ", ".join(f"{gen.unit.literal(name)}: {f}[{names[name]}]" for name in collected.entries)
    fn.line(f"{d} = {{{items}}}")
    if "__overrides" in collected.entries:
        fn.line(
            f"{gen.unit.bind(apply_overrides)}({d}, {f}, {gen.unit.bind(inner_ctx.scope, 'Z')})"
        )
    _add_dynamics(gen, collected, d, inner_ctx)
    positions = gen.unit.bind(positions_of(collected, node), "A")
    return gen.new(ctx, "NixAttrs", d=d, _keys="None", pos=positions)


def ev_let(gen: Gen, node: ast.Let, ctx: Ctx) -> str:
    collected = collect(node.bindings)
    if collected.dynamics:  # reported when the closure compiler saw it first
        return gen.fallback_ev(node, ctx)
    inner_ctx, _ = _fill_frame(gen, collected, ctx, is_let=True)
    return gen.ev(node.body, inner_ctx)
