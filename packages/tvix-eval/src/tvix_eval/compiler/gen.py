"""Compiling expressions to Python source: one function per lambda body and per thunk.

The closure compiler (:mod:`tvix_eval.compiler.compiler`) turns every syntax node into a Python
closure, so evaluating a node costs a Python call. For the lambdas a program calls often,
:mod:`tvix_eval.compiler.tiering` compiles the body again with :class:`Gen`, which writes the
whole body as one Python function: variables are list subscripts, selections, comparisons,
``if``, arithmetic and calls are inline code, and only what must stay lazy becomes a thunk (of
another generated function). Frames are the same lists the closures use, so a construct the
generator does not handle is compiled by the closure compiler and called in place.

Each construct behaves exactly as its closure-compiled form: the same evaluation order, the
same errors at the same positions, the same trace frames. ``ev`` methods emit code that leaves
the forced value in a local variable (or a literal) and return that name; ``lz`` returns an
expression for what a lazy position stores, to be used once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tvix_eval.compiler.calls import direct_call, fold_path
from tvix_eval.compiler.code import NO_CONST, UNSET
from tvix_eval.compiler.emit import Fn, Unit
from tvix_eval.compiler.fastops import _slow
from tvix_eval.compiler.scope import UNKNOWN, Dynamic, Global, Local, Scope, resolve
from tvix_eval.runtime.ops import INT_MAX, INT_MIN
from tvix_eval.runtime.values import BLACKHOLE, PrimOp, Thunk
from tvix_eval.syntax import ast

if TYPE_CHECKING:
    from tvix_eval.compiler.compiler import Compiler

#: a value that is never a Nix value (``dict.get`` default)
MISSING: Any = object()

#: ``==`` etc. as Python operators on two ints (or, for ``==``/``!=``, two plain strings)
_CMP_OPS = {"<": "<", ">": ">", "<=": "<=", ">=": ">=", "==": "==", "!=": "!="}
#: integer arithmetic computed inline; ``/`` only for operands where C and Python agree
_INT_OPS = {"+": "+", "-": "-", "*": "*", "/": "//"}
_INT_GUARDS = {"/": " and {a} >= 0 and {b} > 0"}
#: ``a > b`` and ``a <= b`` are C++ Nix's ``__lessThan b a``: the right operand is forced first
_RHS_FIRST = frozenset([">", "<="])
#: ``&&``, ``||``, ``->``: the left value that decides alone, and the result it decides
_SHORT_CIRCUIT = {"&&": (False, False), "||": (True, True), "->": (False, True)}


class Ctx:
    """Where code is being generated: the function, the scope, and the local variable that
    holds the frame of each scope the function made itself (``frame`` for its parameter)."""

    __slots__ = ("fn", "frames", "root", "scope")

    def __init__(self, fn: Fn, scope: Scope | None, frames: dict[int, str], root: Scope | None):
        self.fn = fn
        self.scope = scope
        self.frames = frames
        #: the scope of the function's ``frame`` parameter
        self.root = root

    @staticmethod
    def entry(fn: Fn, scope: Scope | None) -> Ctx:
        """The context at the start of ``fn``, whose ``frame`` belongs to ``scope``."""
        return Ctx(fn, scope, {id(scope): "frame"}, scope)

    def enter(self, scope: Scope, var: str) -> Ctx:
        """The context inside a new frame ``var`` of ``scope`` (a child of this one's)."""
        frames = dict(self.frames)
        frames[id(scope)] = var
        return Ctx(self.fn, scope, frames, self.root)

    def frame(self, depth: int = 0) -> str:
        """The local holding the frame ``depth`` scopes up from here."""
        s = self.scope
        for _ in range(depth):
            assert s is not None
            s = s.parent
        var = self.frames.get(id(s))
        if var is not None:
            return var
        k = 0
        r = self.root
        while r is not s:
            assert r is not None, "scope outside the function's frame chain"
            r = r.parent
            k += 1
        return self.fn.parent(k)


#: how a binding being put into the frame it belongs to may read that frame: the slots filled
#: so far (a variable of that frame read in a later slot is still empty, so it is thunked)
class Init:
    __slots__ = ("filled", "scope")

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.filled: set[int] = set()


class Gen:
    """Generates the functions of one :class:`~tvix_eval.compiler.emit.Unit`."""

    def __init__(self, compiler: Compiler, unit: Unit) -> None:
        self.c = compiler
        self.unit = unit
        self.eager = compiler.eager
        from tvix_eval.compiler import gen_bindings

        self._methods: dict[type, Callable[[Any, Ctx], str]] = {
            ast.Int: self.ev_literal,
            ast.Float: self.ev_literal,
            ast.Uri: self.ev_literal,
            ast.Str: self.ev_str,
            ast.Ident: self.ev_ident,
            ast.Select: self.ev_select,
            ast.HasAttr: self.ev_hasattr,
            ast.If: self.ev_if,
            ast.Assert: self.ev_assert,
            ast.With: self.ev_with,
            ast.Lambda: self.ev_lambda,
            ast.Apply: self.ev_apply,
            ast.BinOp: self.ev_binop,
            ast.UnaryOp: self.ev_unary,
            ast.List: self.ev_list,
            ast.AttrSet: lambda n, c: gen_bindings.ev_attrset(self, n, c),
            ast.Let: lambda n, c: gen_bindings.ev_let(self, n, c),
        }

    # ------------------------------------------------------------------ entry points

    def ev(self, node: Any, ctx: Ctx) -> str:
        """Emit code evaluating ``node``; returns the local (or literal) holding the value."""
        method = self._methods.get(type(node))
        if method is None:
            return self.fallback_ev(node, ctx)
        return method(node, ctx)

    def lz(self, node: Any, ctx: Ctx, init: Init | None = None, name: str | None = None) -> str:
        """An expression for what a lazy position holds: the value when it costs nothing to
        compute (constants, variables, eagerly computed arithmetic), else a new thunk.

        With ``--strict`` (``eager``), where no thunk is ever shown, also what can be built
        without evaluating anything: lambdas, list and set literals (whose contents stay
        lazy), selections of attributes that are already there."""
        t = type(node)
        if t is ast.Ident:
            return self.lz_ident(node, ctx, init)
        if t in (ast.Int, ast.Float, ast.Uri) or (
            t is ast.Str and all(type(p) is str for p in node.parts)
        ):
            return self.ev_literal(node, ctx)
        if t is ast.Path and len(node.parts) == 1:
            return self.fallback_const(node, ctx)
        if t is ast.Lambda:
            if self.eager:
                return self.make_lambda(node, ctx, name)
            return self.thunk_of(lambda c: self.make_lambda(node, c, name), ctx)
        if self.eager and t is ast.BinOp and node.op in _INT_OPS:
            eager = self.eager_arith(node, ctx)
            if eager is not None:
                return eager
        if self.eager and t is ast.Select:
            eager = self.eager_select(node, ctx)
            if eager is not None:
                return eager
        if self.eager and t is ast.List:
            # building a list evaluates nothing (its items are lazy)
            return f"[{', '.join(self.lz(i, ctx, init) for i in node.items)}]"
        if self.eager and t is ast.AttrSet:
            from tvix_eval.compiler import gen_bindings

            eager = gen_bindings.eager_attrset(self, node, ctx, init)
            if eager is not None:
                return eager
        if t not in self._methods:
            return self.fallback_lz(node, ctx)
        return self.thunk(node, ctx)

    def thunk(self, node: Any, ctx: Ctx, *, expression: bool = False) -> str:
        """A new thunk of a generated function evaluating ``node`` (see :meth:`thunk_of`)."""
        return self.thunk_of(lambda c: self.ev(node, c), ctx, expression=expression)

    def thunk_of(self, emit: Callable[[Ctx], str], ctx: Ctx, *, expression: bool = False) -> str:
        """A new thunk of a generated function ``f`` whose code ``emit`` writes: made here
        into a local (see :meth:`new`), or, with ``expression``, as ``Thunk(f, frame)`` for
        the caller to place where it may or may not run."""
        fn = self.unit.new_fn("t", "frame")
        inner = Ctx.entry(fn, ctx.scope)
        fn.line(f"return {emit(inner)}")
        if expression:
            return f"Thunk({fn.name}, {ctx.frame()})"
        return self.new(ctx, "Thunk", code=fn.name, env=ctx.frame())

    @staticmethod
    def new(ctx: Ctx, cls: str, **fields: str) -> str:
        """Emit the making of a ``cls`` (Thunk, Lambda, NixAttrs) with ``fields``, without
        calling its ``__init__``: a Python-level ``__init__`` costs a frame, a third of the
        time of making the object."""
        v = ctx.fn.temp("k")
        stores = "; ".join(f"{v}.{name} = {value}" for name, value in fields.items())
        ctx.fn.line(f"{v} = NEW({cls}); {stores}")
        return v

    def force(self, v: str, ctx: Ctx, *, fail: str | None = None, store: str | None = None) -> None:
        """Emit: if ``v`` holds a thunk, replace it by its value, forcing it in place (what
        ``Thunk.force`` does, without the call); ``fail`` is a statement run with the error
        ``e`` before it propagates, ``store`` a target that gets the value afterwards."""
        fn = ctx.fn
        c = fn.temp("c")
        r = fn.temp("r")
        with fn.block(f"if type({v}) is Thunk"):
            fn.line(f"{c} = {v}.code")
            with fn.block(f"if {c} is None"):
                fn.line(f"{v} = {v}.value")
            with fn.block("else"):
                fn.line(f"{v}.code = BLACKHOLE")
                with fn.block("try"):
                    fn.line(f"{r} = {c}({v}.env)")
                with fn.block("except BaseException as e"):
                    fn.line(f"{v}.code = {c}")
                    if fail is not None:
                        fn.line(fail)
                    fn.line("raise")
                fn.line(f"{v}.value = {r}")
                fn.line(f"{v}.code = {v}.env = None")
                fn.line(f"{v} = {r}")
            if store is not None:
                fn.line(f"{store} = {v}")

    def node(self, node: Any) -> str:
        """The namespace name of a syntax node (for positions of errors)."""
        return self.unit.bind(node, "N")

    # ------------------------------------------------------------------ fallbacks

    def fallback_code(self, node: Any, ctx: Ctx) -> Any:
        return self.c.compile(node, ctx.scope)

    def fallback_ev(self, node: Any, ctx: Ctx) -> str:
        code = self.fallback_code(node, ctx)
        if code.const is not NO_CONST:
            return self.unit.literal(code.const)
        v = ctx.fn.temp()
        ctx.fn.line(f"{v} = {self.unit.bind(code.ev, 'C')}({ctx.frame()})")
        return v

    def fallback_lz(self, node: Any, ctx: Ctx) -> str:
        code = self.fallback_code(node, ctx)
        if code.const is not NO_CONST:
            return self.unit.literal(code.const)
        return f"{self.unit.bind(code.lz, 'C')}({ctx.frame()})"

    def fallback_const(self, node: Any, ctx: Ctx) -> str:
        return self.fallback_ev(node, ctx)

    # ------------------------------------------------------------------ literals, strings

    def ev_literal(self, node: Any, ctx: Ctx) -> str:
        if type(node) is ast.Str:
            return self.unit.literal("".join(p for p in node.parts if type(p) is str))
        return self.unit.literal(node.value)

    def ev_str(self, node: ast.Str, ctx: Ctx) -> str:
        parts = node.parts
        if all(type(p) is str for p in parts):
            return self.ev_literal(node, ctx)
        fn = ctx.fn
        flag = fn.temp("c")
        fn.line(f"{flag} = False")
        pieces: list[str] = []
        for p in parts:
            if type(p) is str:
                pieces.append(self.unit.literal(p))
                continue
            v = self.ev(p, ctx)
            s = fn.temp("s")
            fn.line(f"{s} = {v}")
            with fn.block(f"if type({s}) is not str"):
                fn.line(f"{s} = interpolate({s}, {self.node(p)})")
                fn.line(f"if type({s}) is not str: {flag} = True")
            pieces.append(s)
        r = fn.temp("r")
        joined = ", ".join(pieces)
        fn.line(f"{r} = concat_strings([{joined}]) if {flag} else ''.join(({joined},))")
        return r

    # ------------------------------------------------------------------ variables

    def resolve(self, node: ast.Ident, scope: Scope | None) -> Any:
        return resolve(scope, node.name, self.c.globals)

    def ev_ident(self, node: ast.Ident, ctx: Ctx) -> str:
        r = self.resolve(node, ctx.scope)
        if isinstance(r, Local):
            fn = ctx.fn
            slot = f"{ctx.frame(r.depth)}[{r.index}]"
            known = fn.known(slot)
            if known is not None:
                return known
            v = fn.temp()
            fn.line(f"{v} = {slot}")
            self.force(v, ctx, fail=f"var_force_failed(e, {self.node(node)})", store=slot)
            fn.learn(slot, v)
            return v
        if isinstance(r, Global):
            value = r.value
            if type(value) is Thunk:
                v = ctx.fn.temp()
                ctx.fn.line(f"{v} = {self.unit.bind(value)}.force()")
                return v
            return self.unit.literal(value)
        if isinstance(r, Dynamic):
            return self.ev_dynamic(node, r, ctx)
        return self.fallback_ev(node, ctx)  # __curPos

    def lz_ident(self, node: ast.Ident, ctx: Ctx, init: Init | None) -> str:
        r = self.resolve(node, ctx.scope)
        if isinstance(r, Local):
            if (
                init is not None
                and r.depth == 0
                and init.scope is ctx.scope
                and r.index not in init.filled
            ):
                return self.thunk(node, ctx)
            slot = f"{ctx.frame(r.depth)}[{r.index}]"
            return ctx.fn.known(slot) or slot
        if isinstance(r, Global):
            value = r.value
            if type(value) is Thunk:
                return self.unit.bind(value)
            return self.unit.literal(value)
        if isinstance(r, Dynamic):
            return self.thunk(node, ctx)
        return self.fallback_lz(node, ctx)

    def ev_dynamic(self, node: ast.Ident, r: Dynamic, ctx: Ctx) -> str:
        """A variable bound by an enclosing ``with``: looked up in each namespace in turn."""
        fn = ctx.fn
        nname = self.node(node)
        name = repr(node.name)
        x = fn.temp("x")
        fn.line(f"{x} = MISSING")
        for depth in r.with_depths:
            w = ctx.frame(depth)
            ns = fn.temp("w")
            with fn.block(f"if {x} is MISSING"):
                fn.line(f"{ns} = {w}[1]")
                fn.line(
                    f"if type({ns}) is not NixAttrs: {ns} = {w}[1] = with_namespace({ns}, {nname})"
                )
                fn.line(f"{x} = {ns}.d.get({name}, MISSING)")
        fn.line(f"if {x} is MISSING: raise undefined_error({name}, {nname})")
        self.force(x, ctx, fail=f"var_force_failed(e, {nname})")
        return x

    def known(self, node: Any, scope: Scope | None) -> Any:
        """The value of a variable or selection when the compiler knows it (a builtin)."""
        t = type(node)
        if t is ast.Ident:
            r = self.resolve(node, scope)
            if isinstance(r, Global):
                return NO_CONST if type(r.value) is Thunk else r.value
            if isinstance(r, Local) and r.known is not UNKNOWN:
                return r.known
            return NO_CONST
        if t is ast.Select and node.default is None:
            return fold_path(self.known(node.expr, scope), node.path)
        return NO_CONST

    # ------------------------------------------------------------------ selection

    def attr_name(self, p: Any, ctx: Ctx) -> str:
        """The local (or literal) holding one name of an attribute path."""
        if type(p) is str:
            return self.unit.literal(p)
        v = self.ev(p, ctx)
        n = ctx.fn.temp("n")
        ctx.fn.line(f"{n} = {v} if type({v}) is str else attr_name_of({v}, {self.node(p)})")
        return n

    def ev_select(self, node: ast.Select, ctx: Ctx) -> str:
        folded = self.known(node, ctx.scope)
        if folded is not NO_CONST:
            return self.unit.literal(folded)
        base = self.in_local(self.ev(node.expr, ctx), ctx)
        path = node.path
        fn = ctx.fn
        nname = self.node(node)
        if len(path) == 1 and type(path[0]) is str and node.default is None:
            name = self.unit.literal(path[0])
            key = f"{base}.d[{name}]"
            known = fn.known(key)
            if known is not None:
                return known
            x = fn.temp("x")
            with fn.block(f"if type({base}) is not NixAttrs"):
                fn.line(f"raise select_error({base}, {name}, {nname})")
            with fn.block("try"):
                fn.line(f"{x} = {base}.d[{name}]")
            with fn.block("except KeyError"):
                fn.line(f"raise select_error({base}, {name}, {nname}) from None")
            self.force(
                x,
                ctx,
                fail=f"attr_force_failed(e, {base}, {name}, {nname})",
                store=key,
            )
            fn.learn(key, x)
            return x
        return self._select_general(node, base, ctx)

    def _select_general(self, node: ast.Select, base: str, ctx: Ctx) -> str:
        """Any path, with or without ``or``: errors (also of the default) get the selection's
        position and a trace frame naming the path up to where it failed."""
        fn = ctx.fn
        nname = self.node(node)
        v = fn.temp("v")
        step = fn.temp("st")
        found = fn.temp("fv")
        found_name = fn.temp("fk")
        miss = fn.temp("m")
        names: list[str] = []
        fn.line(f"{v} = {base}")
        fn.line(f"{step} = 0")
        fn.line(f"{found} = {found_name} = None")
        dynamic = [fn.temp("n") for p in node.path if type(p) is not str]
        for n in dynamic:
            fn.line(f"{n} = None")
        dyn = iter(dynamic)
        with fn.block("try"):
            fn.line(f"{miss} = False")
            with fn.block("while True"):
                for i, p in enumerate(node.path):
                    if type(p) is str:
                        name = self.unit.literal(p)
                    else:
                        value = self.ev(p, ctx)
                        name = next(dyn)
                        fn.line(
                            f"{name} = {value} if type({value}) is str"
                            f" else attr_name_of({value}, {self.node(p)})"
                        )
                    fn.line(f"{step} = {i + 1}")
                    names.append(name)
                    x = fn.temp("x")
                    with fn.block(f"if type({v}) is not NixAttrs"):
                        self._select_miss(node, v, name, miss, ctx)
                    fn.line(f"{x} = {v}.d.get({name}, MISSING)")
                    with fn.block(f"if {x} is MISSING"):
                        self._select_miss(node, v, name, miss, ctx)
                    fn.line(f"{found} = {v}")
                    fn.line(f"{found_name} = {name}")
                    self.force(x, ctx, store=f"{v}.d[{name}]")
                    fn.line(f"{v} = {x}")
                fn.line("break")
            if node.default is not None:
                with fn.block(f"if {miss}"):
                    d = self.ev(node.default, ctx)
                    fn.line(f"{v} = {d}")
        with fn.block("except EvalError as e"):
            fn.line(
                f"select_trace(e, {nname}, {found}, {found_name}, ({', '.join(names)},), {step})"
            )
            fn.line("raise")
        return v

    def _select_miss(self, node: ast.Select, v: str, name: str, miss: str, ctx: Ctx) -> None:
        if node.default is not None:
            ctx.fn.line(f"{miss} = True")
            ctx.fn.line("break")
        else:
            ctx.fn.line(f"raise select_error({v}, {name}, {self.node(node)})")

    def ev_hasattr(self, node: ast.HasAttr, ctx: Ctx) -> str:
        base = self.in_local(self.ev(node.expr, ctx), ctx)
        fn = ctx.fn
        r = fn.temp("r")
        path = node.path
        if len(path) == 1 and type(path[0]) is str:
            fn.line(f"{r} = type({base}) is NixAttrs and {self.unit.literal(path[0])} in {base}.d")
            return r
        v = fn.temp("v")
        fn.line(f"{v} = {base}")
        fn.line(f"{r} = False")
        with fn.block("while True"):
            last = len(path) - 1
            for i, p in enumerate(path):
                name = self.attr_name(p, ctx)
                fn.line(f"if type({v}) is not NixAttrs: break")
                x = fn.temp("x")
                fn.line(f"{x} = {v}.d.get({name}, MISSING)")
                fn.line(f"if {x} is MISSING: break")
                if i == last:
                    fn.line(f"{r} = True")
                else:
                    self.force(x, ctx, store=f"{v}.d[{name}]")
                    fn.line(f"{v} = {x}")
            fn.line("break")
        return r

    # ------------------------------------------------------------------ control

    def ev_if(self, node: ast.If, ctx: Ctx) -> str:
        c = self.in_local(self.ev(node.cond, ctx), ctx)
        fn = ctx.fn
        r = fn.temp("r")
        with fn.block(f"if {c} is True"):
            fn.line(f"{r} = {self.ev(node.then_, ctx)}")
        with fn.block(f"elif {c} is False"):
            fn.line(f"{r} = {self.ev(node.else_, ctx)}")
        with fn.block("else"):
            fn.line(f"raise not_bool_error({c}, {self.node(node)})")
        return r

    def ev_assert(self, node: ast.Assert, ctx: Ctx) -> str:
        c = self.in_local(self.ev(node.cond, ctx), ctx)
        fn = ctx.fn
        with fn.block(f"if {c} is not True"):
            nname = self.node(node)
            base = self.unit.literal(self.c.base_dir)
            globals_ = self.unit.bind(self.c.globals)
            fn.line(f"if {c} is False: raise assertion_error({nname}, {base}, {globals_})")
            fn.line(f"raise not_bool_error({c}, {nname})")
        return self.ev(node.body, ctx)

    def ev_with(self, node: ast.With, ctx: Ctx) -> str:
        env = self.lz(node.env, ctx)
        inner = Scope(ctx.scope, {}, is_with=True)
        w = ctx.fn.temp("f")
        ctx.fn.line(f"{w} = [{ctx.frame()}, {env}]")
        return self.ev(node.body, ctx.enter(inner, w))

    def ev_list(self, node: ast.List, ctx: Ctx) -> str:
        items = [self.lz(i, ctx) for i in node.items]
        r = ctx.fn.temp("r")
        ctx.fn.line(f"{r} = [{', '.join(items)}]")
        return r

    # ------------------------------------------------------------------ functions

    def make_lambda(self, node: ast.Lambda, ctx: Ctx, name: str | None = None) -> str:
        """``Lambda(code, frame)`` for a lambda literal (its code shared with the closures
        the closure compiler made for it)."""
        from tvix_eval.compiler.tiering import site_for

        site = site_for(self.c, node, ctx.scope, name)
        return self.new(ctx, "Lambda", code=self.unit.bind(site, "L"), env=ctx.frame())

    def ev_lambda(self, node: ast.Lambda, ctx: Ctx) -> str:
        return self.make_lambda(node, ctx)

    def ev_apply(self, node: ast.Apply, ctx: Ctx) -> str:
        direct = self._apply_primop(node, ctx)
        if direct is not None:
            return direct
        fn = ctx.fn
        r = fn.temp("r")
        if type(node.fn) is not ast.Apply:
            f = self.in_local(self.ev(node.fn, ctx), ctx)
            a = fn.temp("a")
            fn.line(f"{a} = {self.lz(node.arg, ctx)}")
            self._call1(f, a, node, r, ctx)
            return r
        inner = node.fn
        innermost = inner.fn
        if (
            type(innermost) is ast.Apply
            and type(innermost.fn) is not ast.Apply
            and self._apply_primop_of(innermost, ctx) is None
        ):
            # f a b c: a builtin of three arguments is called at once
            f = self.in_local(self.ev(innermost.fn, ctx), ctx)
            args = [fn.temp("a") for _ in range(3)]
            for arg, expr in zip(args, (innermost.arg, inner.arg, node.arg), strict=True):
                fn.line(f"{arg} = {self.lz(expr, ctx)}")
            with fn.block(f"if type({f}) is PrimOp and {f}.arity == 3"):
                self._call_primop(f, args, node, r, ctx)
            with fn.block("else"):
                g = fn.temp("g")
                self._call1(f, args[0], innermost, g, ctx)
                self._call2(g, args[1], args[2], node, inner, r, ctx)
            return r
        f = self.in_local(self.ev(innermost, ctx), ctx)
        a = fn.temp("a")
        b = fn.temp("a")
        fn.line(f"{a} = {self.lz(inner.arg, ctx)}")
        fn.line(f"{b} = {self.lz(node.arg, ctx)}")
        self._call2(f, a, b, node, inner, r, ctx)
        return r

    def _call1(self, f: str, a: str, node: ast.Apply, r: str, ctx: Ctx) -> None:
        """``r = f a`` at the call site ``node``."""
        fn = ctx.fn
        c = fn.temp("c")
        with fn.block(f"if type({f}) is Lambda"):
            fn.line(f"{c} = {f}.code")
            with fn.block("try"):
                b = fn.temp("b")
                fn.line(
                    f"{r} = {b}([{f}.env, {a}]) if ({b} := {c}.body) is not None"
                    f" else {c}.invoke({f}.env, {a})"
                )
            with fn.block("except EvalError as e"):
                fn.line(f"note_failed_call(e, {f}, {self.node(node)})")
                fn.line("raise")
        with fn.block(f"elif type({f}) is PrimOp and {f}.arity == 1"):
            self._call_primop(f, [a], node, r, ctx)
        with fn.block("else"):
            fn.line(f"{r} = call_at({f}, {a}, {self.node(node)})")

    def _call2(  # noqa: PLR0917
        self, f: str, a: str, b: str, node: ast.Apply, inner: Any, r: str, ctx: Ctx
    ) -> None:
        """``r = f a b``: a curried plain lambda runs its inner body at once (``body2``), a
        builtin of two arguments is called at once, anything else is called twice."""
        fn = ctx.fn
        nname = self.node(node)
        c = fn.temp("c")
        with fn.block(f"if type({f}) is Lambda and ({c} := {f}.code.body2) is not None"):
            with fn.block("try"):
                fn.line(f"{r} = {c}([[{f}.env, {a}], {b}])")
            with fn.block("except EvalError as e"):
                fn.line(f"if e.pos is None: e.pos = {nname}")
                fn.line("raise")
        with fn.block(f"elif type({f}) is PrimOp and {f}.arity == 2"):
            self._call_primop(f, [a, b], node, r, ctx)
        with fn.block("else"):
            fn.line(f"{r} = call_two({f}, {a}, {b}, {nname}, {self.node(inner)})")

    def _call_primop(self, f: str, args: list[str], node: ast.Apply, r: str, ctx: Ctx) -> None:
        """``r = f args…`` for a builtin ``f`` whose arity is ``len(args)``: its strict
        arguments forced in order, then its implementation; errors without a position get
        the call site's (as when the builtin is reached through partial applications)."""
        fn = ctx.fn
        with fn.block("try"):
            with fn.block(f"if {f}.lazy"):
                fn.line(f"{r} = run_primop({f}, ({', '.join(args)},))")
            with fn.block("else"):
                for a in args:
                    fn.line(f"if type({a}) is Thunk: {a} = {a}.force()")
                fn.line(f"{r} = {f}.fn({', '.join(args)})")
        with fn.block("except EvalError as e"):
            fn.line(f"if e.pos is None: e.pos = {self.node(node)}")
            fn.line("raise")

    def _apply_primop_of(self, node: ast.Apply, ctx: Ctx) -> tuple[PrimOp, list[Any]] | None:
        """The builtin and arguments of a call of a builtin known here, with exactly its
        arity (≤ 3) of arguments."""
        return direct_call(node, lambda head: self.known(head, ctx.scope))

    def _apply_primop(self, node: ast.Apply, ctx: Ctx) -> str | None:
        """A builtin known here applied to exactly its arity (≤ 3) of arguments, called
        directly: strict arguments evaluated in place, lazy ones as thunks."""
        found = self._apply_primop_of(node, ctx)
        if found is None:
            return None
        prim, args = found
        fn = ctx.fn
        r = fn.temp("r")
        values = []
        with fn.block("try"):
            for i, a in enumerate(args):
                if i in prim.lazy:
                    values.append(self.lz(a, ctx))
                else:
                    values.append(self._strict_arg(a, ctx))
            fn.line(f"{r} = {self.unit.bind(prim.fn, 'P')}({', '.join(values)})")
        with fn.block("except EvalError as e"):
            fn.line(f"if e.pos is None: e.pos = {self.node(node)}")
            fn.line("raise")
        return r

    def _strict_arg(self, node: Any, ctx: Ctx) -> str:
        """A forced argument of a direct builtin call; a variable's own position is not
        attached to its errors (the call's is)."""
        if type(node) is ast.Ident:
            r = self.resolve(node, ctx.scope)
            if isinstance(r, Local):
                slot = f"{ctx.frame(r.depth)}[{r.index}]"
                known = ctx.fn.known(slot)
                if known is not None:
                    return known
                v = ctx.fn.temp()
                ctx.fn.line(f"{v} = {slot}")
                self.force(v, ctx, store=slot)
                ctx.fn.learn(slot, v)
                return v
        return self.ev(node, ctx)

    # ------------------------------------------------------------------ operators

    @staticmethod
    def in_local(atom: str, ctx: Ctx) -> str:
        """``atom`` as a local variable (a literal is copied into one, so that ``is`` is
        never applied to a literal)."""
        if atom.isidentifier() and atom not in ("True", "False", "None"):
            return atom
        t = ctx.fn.temp("o")
        ctx.fn.line(f"{t} = {atom}")
        return t

    def operand(self, node: Any, ctx: Ctx) -> str:
        """A forced operand, copied into a fresh local (the inline code may rebind it)."""
        v = self.ev(node, ctx)
        t = ctx.fn.temp("o")
        ctx.fn.line(f"{t} = {v}")
        return t

    def ev_binop(self, node: ast.BinOp, ctx: Ctx) -> str:
        op = node.op
        fn = ctx.fn
        nname = self.node(node)
        r = fn.temp("r")
        if op in _SHORT_CIRCUIT:
            short_on, short_result = _SHORT_CIRCUIT[op]
            a = self.in_local(self.ev(node.lhs, ctx), ctx)
            with fn.block(f"if {a} is {short_on}"):
                fn.line(f"{r} = {short_result}")
            with fn.block("else"):
                fn.line(f"if type({a}) is not bool: raise not_bool_error({a}, {nname})")
                b = self.ev(node.rhs, ctx)
                fn.line(f"if type({b}) is not bool: raise not_bool_error({b}, {nname})")
                fn.line(f"{r} = {b}")
            return r
        if op == "//":
            with fn.block("try"):
                a = self.ev(node.lhs, ctx)
                a2 = fn.temp("o")
                fn.line(f"{a2} = {a} if type({a}) is NixAttrs else expect_attrs({a})")
                b = self.ev(node.rhs, ctx)
                b2 = fn.temp("o")
                fn.line(f"{b2} = {b} if type({b}) is NixAttrs else expect_attrs({b})")
            with fn.block("except EvalError as e"):
                fn.line(f"raise e.at({nname}) from None")
            fn.line(f"{r} = update_attrs({a2}, {b2})")
            return r
        if op == "++":
            a = self.ev(node.lhs, ctx)
            b = self.ev(node.rhs, ctx)
            fn.line(f"{r} = concat_lists({a}, {b}, {nname})")
            return r
        slow = self.unit.bind(_slow(op, node), "S")
        if op == "+":
            a = self.operand(node.lhs, ctx)
            with fn.block(f"if type({a}) is not int and type({a}) is not float"):
                fn.line(f"{a} = coerce_add_lhs({a}, {nname})")
            b = self.ev(node.rhs, ctx)
        elif op in _RHS_FIRST:
            b = self.ev(node.rhs, ctx)
            a = self.ev(node.lhs, ctx)
        else:
            a = self.ev(node.lhs, ctx)
            b = self.ev(node.rhs, ctx)
        if op in _INT_OPS:
            guard = _INT_GUARDS.get(op, "").format(a=a, b=b)
            with fn.block(f"if {_ints(node, a, b)}{guard}"):
                fn.line(f"{r} = {a} {_INT_OPS[op]} {b}")
                fn.line(f"if not INT_MIN <= {r} <= INT_MAX: {r} = {slow}({a}, {b})")
            with fn.block("else"):
                fn.line(f"{r} = {slow}({a}, {b})")
            return r
        if op in ("==", "!="):
            same = "is" if op == "==" else "is not"
            literal = _literal_type(node.rhs) or _literal_type(node.lhs)
            if literal is not None:
                # one side is an int or string literal: the other must have its type
                other = a if _literal_type(node.rhs) else b
                fn.line(f"{r} = {a} {op} {b} if type({other}) is {literal} else {slow}({a}, {b})")
                return r
            a = self.in_local(a, ctx)
            b = self.in_local(b, ctx)
            fn.line(
                f"{r} = {a} {op} {b} if type({a}) is type({b}) and"
                f" (type({a}) is int or type({a}) is str) else"
                f" {a} {same} {b} if {a} is None or {b} is None else {slow}({a}, {b})"
            )
            return r
        fn.line(f"{r} = {a} {_CMP_OPS[op]} {b} if {_ints(node, a, b)} else {slow}({a}, {b})")
        return r

    def eager_arith(self, node: ast.BinOp, ctx: Ctx) -> str | None:
        """Integer arithmetic on operands that are already values, computed at once in a lazy
        position instead of thunked (only with ``--strict``, where no thunk is ever shown)."""
        peek_a = self._peek(node.lhs, ctx)
        peek_b = self._peek(node.rhs, ctx)
        if peek_a is None or peek_b is None:
            return None
        fn = ctx.fn
        a = fn.temp("o")
        b = fn.temp("o")
        x = fn.temp("x")
        fn.line(f"{a} = {peek_a}")
        fn.line(f"{b} = {peek_b}")
        guard = _INT_GUARDS.get(node.op, "").format(a=a, b=b)
        thunk = self.thunk(node, ctx, expression=True)
        with fn.block(f"if type({a}) is int and type({b}) is int{guard}"):
            fn.line(f"{x} = {a} {_INT_OPS[node.op]} {b}")
            fn.line(f"if not INT_MIN <= {x} <= INT_MAX: {x} = {thunk}")
        with fn.block("else"):
            fn.line(f"{x} = {thunk}")
        return x

    def eager_select(self, node: ast.Select, ctx: Ctx) -> str | None:
        """``x.a`` in a lazy position where ``x`` is a variable already holding a set with an
        attribute ``a``: that attribute's value (or thunk, shared) at once instead of a new
        thunk of the selection (only with ``--strict``, where no thunk is ever shown)."""
        folded = self.known(node, ctx.scope)
        if folded is not NO_CONST:
            return self.unit.literal(folded)
        path = node.path
        if node.default is not None or len(path) != 1 or type(path[0]) is not str:
            return None
        base = self._peek(node.expr, ctx)
        if base is None or type(node.expr) is not ast.Ident:
            return None
        fn = ctx.fn
        b = fn.temp("o")
        x = fn.temp("x")
        thunk = self.thunk(node, ctx, expression=True)
        fn.line(f"{b} = {base}")
        fn.line(
            f"{x} = {b}.d.get({self.unit.literal(path[0])}, MISSING)"
            f" if type({b}) is NixAttrs else MISSING"
        )
        fn.line(f"if {x} is MISSING: {x} = {thunk}")
        return x

    def _peek(self, node: Any, ctx: Ctx) -> str | None:
        """An operand's value without forcing it, when that is free: a constant or a slot."""
        t = type(node)
        if t in (ast.Int, ast.Float):
            return self.unit.literal(node.value)
        if t is ast.Ident:
            r = self.resolve(node, ctx.scope)
            if isinstance(r, Local):
                return f"{ctx.frame(r.depth)}[{r.index}]"
            if isinstance(r, Global) and type(r.value) is not Thunk:
                return self.unit.literal(r.value)
        return None

    def ev_unary(self, node: ast.UnaryOp, ctx: Ctx) -> str:
        v = self.ev(node.expr, ctx)
        fn = ctx.fn
        r = fn.temp("r")
        nname = self.node(node)
        if node.op == "!":
            fn.line(f"{r} = (not {v}) if type({v}) is bool else not_bool({v}, {nname})")
        else:
            fn.line(f"{r} = -{v} if type({v}) is int and {v} != INT_MIN else negate({v}, {nname})")
        return r


def _literal_type(node: Any) -> str | None:
    """``int`` or ``str`` for an integer or plain string literal (whose type needs no
    check at run time), else ``None``."""
    if type(node) is ast.Int:
        return "int"
    if type(node) is ast.Str and all(type(p) is str for p in node.parts):
        return "str"
    return None


def _ints(node: ast.BinOp, a: str, b: str) -> str:
    """The run-time test that both operands are integers (literals need none)."""
    tests = [
        f"type({v}) is int" for v, n in ((a, node.lhs), (b, node.rhs)) if type(n) is not ast.Int
    ]
    return " and ".join(tests) or "True"


def base_namespace() -> dict[str, Any]:
    """The names every generated unit may use."""
    from tvix_eval.compiler.genrt import BASE_NAMESPACE
    from tvix_eval.runtime.ops import concat_strings, run_primop

    ns = dict(BASE_NAMESPACE)
    ns.update(
        NEW=object.__new__,
        BLACKHOLE=BLACKHOLE,
        PrimOp=PrimOp,
        run_primop=run_primop,
        MISSING=MISSING,
        UNSET=UNSET,
        INT_MIN=INT_MIN,
        INT_MAX=INT_MAX,
        concat_strings=concat_strings,
    )
    return ns
