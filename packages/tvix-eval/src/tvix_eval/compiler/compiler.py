"""Compiling a syntax tree into closures (see :mod:`tvix_eval.compiler.code`).

The :class:`Compiler` walks the tree once, resolving every identifier statically
(:mod:`tvix_eval.compiler.scope`); undefined variables are reported before anything runs.
Bindings (sets, ``let``) live in :mod:`tvix_eval.compiler.bindings`, operators in
:mod:`tvix_eval.compiler.operators`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from tvix_eval.compiler import bindings
from tvix_eval.compiler.access import (
    attr_name,
    dynamic_access,
    find_in_search_path,
    interpolation_pos,
    local_access,
)
from tvix_eval.compiler.calls import (
    apply_local,
    apply_local_inline,
    describe_lambda,
    direct_call,
    direct_primop,
    fold_select,
    note_failed_call,
)
from tvix_eval.compiler.code import NO_CONST, UNSET, Code, EvFn, Frame, constant, frame_init_lz
from tvix_eval.compiler.fastops import fused_if, fused_interpolation, list_builder
from tvix_eval.compiler.operators import compile_binop, compile_unary
from tvix_eval.compiler.scope import (
    UNKNOWN,
    Dynamic,
    Global,
    Local,
    Scope,
    pattern_scope,
    resolve,
)
from tvix_eval.runtime.errors import (
    AssertionFailed,
    EvalError,
    MissingAttribute,
    TypeMismatch,
    UndefinedVariable,
    did_you_mean,
)
from tvix_eval.runtime.ops import (
    call_value,
    canon_path,
    coerce_to_string,
    concat_strings,
)
from tvix_eval.runtime.values import (
    Formals,
    Lambda,
    LambdaCode,
    NixAttrs,
    NixPath,
    NixString,
    PrimOp,
    PrimOpApp,
    Thunk,
    Value,
    position_file,
    show_type,
)
from tvix_eval.syntax import ast

_MISSING: Any = object()


def _select_trace(e: EvalError, attrs: NixAttrs, name: str, path: str) -> None:
    """C++ Nix's ``… while evaluating the attribute 'a.b'`` frame of a failed selection."""
    pos = attrs.pos.get(name) if attrs.pos is not None else None
    e.add_trace(pos, f"while evaluating the attribute '{path}'", True)


def _trace_location(node: Any) -> str:
    """``FILE:LINE:COL`` of a node, as error messages show it (``(string)`` for ``-E``)."""
    line, col = node.source.position(node.start)
    where = node.source.name
    if where == "«string»":
        where = "(string)"
    return f"{where}:{line}:{col}"


def _callee_name(f: Value) -> str:
    """How ``--trace-runtime`` names a called value."""
    if type(f) is Lambda and f.name is not None:
        return f"'{f.name}'"
    if type(f) is PrimOp:
        return f"'{f.name}'"
    if type(f) is PrimOpApp:
        return f"'{f.primop.name}'"
    return "anonymous function"


class Compiler:
    """Compiles expressions of one evaluation (whose globals are fixed)."""

    def __init__(
        self,
        globals_: dict[str, Any],
        base_dir: str,
        eager: bool = False,
        tracer: Callable[[str], None] | None = None,
        *,
        tier_threshold: int | None = None,
        code_cache: str | None = None,
        calls_through_invoke: bool = False,
        lazy_bodies: bool = False,
    ) -> None:
        self.globals = globals_
        #: compute cheap integer arithmetic at once in lazy positions (see compiler.fastops)
        self.eager = eager
        #: directory relative path literals of the file being compiled resolve against
        self.base_dir = base_dir
        #: ``--trace-runtime``: told about calls and forced thunks (None: no tracing code at all)
        self.tracer = tracer
        if tracer is not None:
            self.compile = self._compile_traced  # type: ignore[method-assign]
        #: calls after which a lambda's body is compiled again to Python source (None: never;
        #: never when tracing either, whose reports come from the closures)
        self.tier_threshold = tier_threshold if tracer is None else None
        #: compile lambda bodies (and defaults) when first called: for files known to compile
        #: cleanly (syntax.cache.CleanMark), whose errors C++ Nix reports before evaluating
        self.lazy_bodies = lazy_bodies and tracer is None
        #: lambdas have no ``body``/``body2`` shortcuts: every call goes through ``invoke``
        #: (where tvix_eval.stats counts function calls)
        self.calls_through_invoke = calls_through_invoke
        #: where code generated for hot lambdas is kept between runs (None: memory only)
        self.code_cache = code_cache
        #: the LambdaCode of each lambda literal compiled so far, by ``id`` of its node
        self.sites: dict[int, LambdaCode] = {}
        self._origins: dict[int, Any] = {}

    # ------------------------------------------------------------------ entry

    def compile(self, node: ast.Expr, scope: Scope | None) -> Code:
        """Compile ``node`` in ``scope``."""
        code: Code = _METHODS[type(node)](self, node, scope)
        return code

    def _compile_traced(self, node: ast.Expr, scope: Scope | None) -> Code:
        """:meth:`compile` with runtime tracing: calls are compiled by the generic path and
        report themselves, and thunks of the expression report when they are forced."""
        tracer = self.tracer
        assert tracer is not None
        if type(node) is ast.Apply:
            code = self._traced_apply(node, scope, tracer)
        else:
            code = _METHODS[type(node)](self, node, scope)
        return self.traced_thunks(node, code, tracer)

    @staticmethod
    def traced_thunks(node: ast.Expr, code: Code, tracer: Callable[[str], None]) -> Code:
        """``code`` whose thunks report ``force thunk at <location>`` when forced."""
        if not code.thunk_lz:
            # constants, variables and eager arithmetic: no thunk of this expression's own
            return code
        ev = code.ev
        message = f"force thunk at {_trace_location(node)}"

        def forced(frame: Frame) -> Value:
            tracer(message)
            return ev(frame)

        def lz(frame: Frame) -> Value:
            return Thunk(forced, frame)

        traced = Code(ev, lz, code.const, code.local0, code.local)
        traced.known = code.known
        traced.lambda_code = code.lambda_code
        return traced

    def _traced_apply(
        self, node: ast.Apply, scope: Scope | None, tracer: Callable[[str], None]
    ) -> Code:
        """A call reporting ``call <callee> at <location>`` before it happens."""
        fn = self.compile(node.fn, scope).ev
        arg = self.compile(node.arg, scope).lz
        where = _trace_location(node)

        def ev(frame: Frame) -> Value:
            f = fn(frame)
            tracer(f"call {_callee_name(f)} at {where}")
            try:
                return call_value(f, arg(frame))
            except EvalError as e:
                note_failed_call(e, f, node)
                raise

        return Code(ev)

    # ------------------------------------------------------------------ literals

    def c_Int(self, node: ast.Int, scope: Scope | None) -> Code:
        return constant(node.value)

    def c_Float(self, node: ast.Float, scope: Scope | None) -> Code:
        return constant(node.value)

    def c_Uri(self, node: ast.Uri, scope: Scope | None) -> Code:
        return constant(node.value)

    def c_Str(self, node: ast.Str, scope: Scope | None) -> Code:
        parts = node.parts
        if all(type(p) is str for p in parts):
            return constant("".join(parts))  # type: ignore[arg-type]
        codes: list[str | tuple[Code, Any]] = [
            p if isinstance(p, str) else (self.compile(p, scope), p) for p in parts
        ]
        fused = fused_interpolation(codes, self.code_cache)
        if fused is not None:
            return fused
        compiled: list[tuple[Any, Any]] = [
            (c, None) if isinstance(c, str) else (None, (c[0].ev, c[1])) for c in codes
        ]

        def ev(frame: Frame) -> Value:
            out: list[str] = []
            ctx = False
            for lit, expr in compiled:
                if lit is not None:
                    out.append(lit)
                    continue
                fn, pnode = expr
                v = fn(frame)
                if type(v) is str:
                    out.append(v)
                    continue
                try:
                    s = coerce_to_string(v)
                except EvalError as e:
                    raise e.at(interpolation_pos(pnode)) from None
                if type(s) is NixString:
                    ctx = True
                out.append(s)
            if ctx:
                return concat_strings(out)
            return "".join(out)

        return Code(ev)

    def c_Path(self, node: ast.Path, scope: Scope | None) -> Code:
        first = node.parts[0]
        assert isinstance(first, str)
        kind = node.kind
        if kind == "home":
            home = os.environ.get("HOME", "")
            prefix = home + first[1:]
        elif kind == "absolute":
            prefix = first
        else:
            prefix = os.path.join(self.base_dir, first)
        if len(node.parts) == 1:
            return constant(NixPath(canon_path(prefix)))
        rest: list[tuple[Any, Any]] = [
            (p, None) if type(p) is str else (None, (self.compile(p, scope).ev, p))  # type: ignore[arg-type]
            for p in node.parts[1:]
        ]

        def ev(frame: Frame) -> Value:
            out = [prefix]
            for lit, expr in rest:
                if lit is not None:
                    out.append(lit)
                    continue
                fn, pnode = expr
                try:
                    s = coerce_to_string(fn(frame), copy_to_store=False)
                except EvalError as e:
                    raise e.at(pnode) from None
                if type(s) is NixString and s.context:
                    raise EvalError(
                        "a string that refers to a store path cannot be appended to a path", node
                    )
                out.append(s)
            return NixPath(canon_path("".join(out)))

        return Code(ev)

    def c_SearchPath(self, node: ast.SearchPath, scope: Scope | None) -> Code:
        name = node.path
        if isinstance(resolve(scope, "__findFile", {}), Local) or isinstance(
            resolve(scope, "__nixPath", {}), Local
        ):
            # C++ Nix desugars <name> to `__findFile __nixPath "name"`; honour local overrides.
            src, start, end = node.source, node.start, node.end
            call = ast.Apply(
                src,
                start,
                end,
                ast.Apply(
                    src,
                    start,
                    end,
                    ast.Ident(src, start, end, "__findFile"),
                    ast.Ident(src, start, end, "__nixPath"),
                ),
                ast.Str(src, start, end, (name,)),
            )
            return self.compile(call, scope)

        def ev(frame: Frame) -> Value:
            return find_in_search_path(name, node)

        return Code(ev)

    # ------------------------------------------------------------------ variables

    def c_Ident(self, node: ast.Ident, scope: Scope | None) -> Code:
        name = node.name
        r = resolve(scope, name, self.globals)
        if r is None and name == "__curPos":
            line, col = node.source.position(node.start)
            file = position_file(node.source)
            return constant(NixAttrs({"file": file, "line": line, "column": col}))
        if r is None:
            raise UndefinedVariable(f"undefined variable '{name}'", node)
        if isinstance(r, Global):
            value = r.value
            if type(value) is Thunk:
                # a global defined lazily (``derivation`` is Nix code compiled on first use)

                def ev_global(frame: Frame, thunk: Thunk = value) -> Value:
                    return thunk.force()

                def lz_global(frame: Frame, thunk: Thunk = value) -> Value:
                    return thunk

                return Code(ev_global, lz_global)
            return constant(value)
        if isinstance(r, Local):
            code = local_access(r.depth, r.index, node)
            if r.known is not UNKNOWN:
                code.known = r.known
            return code
        assert isinstance(r, Dynamic)
        return dynamic_access(name, r.with_depths, node)

    # ------------------------------------------------------------------ attribute access

    def _attr_path(self, path: tuple[Any, ...], scope: Scope | None) -> list[Any]:
        """Static names as ``str``; dynamic ones as ``(ev, node)``."""
        out: list[Any] = []
        for p in path:
            if type(p) is str:
                out.append(p)
            else:
                out.append((self.compile(p, scope).ev, p))
        return out

    def c_Select(self, node: ast.Select, scope: Scope | None) -> Code:
        base_code = self.compile(node.expr, scope)
        base = base_code.ev
        path = self._attr_path(node.path, scope)
        default = self.compile(node.default, scope).ev if node.default is not None else None
        folded = fold_select(base_code, path) if default is None else NO_CONST
        if folded is not NO_CONST:

            def ev_known(frame: Frame) -> Value:
                return folded

            code = Code(ev_known)
            code.known = folded
            return code
        if len(path) == 1 and type(path[0]) is str and default is None:
            name = path[0]

            def ev1(frame: Frame) -> Value:
                v = base(frame)
                if type(v) is NixAttrs:
                    x = v.d.get(name, _MISSING)
                    if x is not _MISSING:
                        if type(x) is Thunk:
                            try:
                                return x.force()
                            except EvalError as e:
                                e.at(node)
                                _select_trace(e, v, name, name)
                                raise
                        return x
                    raise MissingAttribute(
                        f"attribute '{name}' missing", node, did_you_mean(name, v.d)
                    )
                raise TypeMismatch(f"value is {show_type(v)} while a set was expected", node)

            return Code(ev1)

        def ev(frame: Frame) -> Value:
            v = base(frame)
            found: Any = None
            names: list[str] = []
            try:
                for p in path:
                    name = p if type(p) is str else attr_name(p, frame)
                    names.append(name)
                    if type(v) is not NixAttrs:
                        if default is not None:
                            return default(frame)
                        raise TypeMismatch(
                            f"value is {show_type(v)} while a set was expected", node
                        )
                    x = v.d.get(name, _MISSING)
                    if x is _MISSING:
                        if default is not None:
                            return default(frame)
                        raise MissingAttribute(
                            f"attribute '{name}' missing", node, did_you_mean(name, v.d)
                        )
                    found = (v, name)
                    if type(x) is Thunk:
                        x = x.force()
                    v = x
            except EvalError as e:
                e.at(node)
                if found is not None:
                    _select_trace(e, found[0], found[1], ".".join(names))
                raise
            return v

        return Code(ev)

    def c_HasAttr(self, node: ast.HasAttr, scope: Scope | None) -> Code:
        base = self.compile(node.expr, scope).ev
        path = self._attr_path(node.path, scope)

        def ev(frame: Frame) -> Value:
            v = base(frame)
            last = len(path) - 1
            for i, p in enumerate(path):
                name = p if type(p) is str else attr_name(p, frame)
                if type(v) is not NixAttrs:
                    return False
                x = v.d.get(name, _MISSING)
                if x is _MISSING:
                    return False
                if i == last:
                    return True
                v = x.force() if type(x) is Thunk else x
            return True

        return Code(ev)

    # ------------------------------------------------------------------ sets and lets

    def c_AttrSet(self, node: ast.AttrSet, scope: Scope | None) -> Code:
        return bindings.compile_attrset(self, node, scope)

    def c_Let(self, node: ast.Let, scope: Scope | None) -> Code:
        return bindings.compile_let(self, node, scope)

    def c_LegacyLet(self, node: ast.LegacyLet, scope: Scope | None) -> Code:
        return bindings.compile_legacy_let(self, node, scope)

    # ------------------------------------------------------------------ lists

    def c_List(self, node: ast.List, scope: Scope | None) -> Code:
        items = [self.compile(i, scope) for i in node.items]
        if not items:

            def empty(frame: Frame) -> Value:
                return []

            return Code(empty)
        lzs = [c.lz for c in items]
        if all(c.const is not NO_CONST for c in items):
            consts = [c.const for c in items]

            def ev_const(frame: Frame) -> Value:
                return consts.copy()

            return Code(ev_const)
        build = list_builder(items, self.code_cache)
        if build is not None:
            return Code(build)

        def ev(frame: Frame) -> Value:
            return [lz(frame) for lz in lzs]

        return Code(ev)

    # ------------------------------------------------------------------ control

    def c_If(self, node: ast.If, scope: Scope | None) -> Code:
        then_code = self.compile(node.then_, scope)
        else_code = self.compile(node.else_, scope)
        c = node.cond
        if type(c) is ast.BinOp and c.op in ("<", ">", "<=", ">=", "==", "!="):
            fused = fused_if(
                node,
                c,
                self.compile(c.lhs, scope),
                self.compile(c.rhs, scope),
                then_code,
                else_code,
                self.code_cache,
            )
            if fused is not None:
                return fused
        cond = self.compile(node.cond, scope).ev
        then_ = then_code.ev
        else_ = else_code.ev

        def ev(frame: Frame) -> Value:
            c = cond(frame)
            if c is True:
                return then_(frame)
            if c is False:
                return else_(frame)
            raise TypeMismatch(f"value is {show_type(c)} while a Boolean was expected", node)

        return Code(ev)

    def c_Assert(self, node: ast.Assert, scope: Scope | None) -> Code:
        cond = self.compile(node.cond, scope).ev
        body = self.compile(node.body, scope).ev
        base_dir = self.base_dir
        globals_ = self.globals

        def ev(frame: Frame) -> Value:
            c = cond(frame)
            if c is True:
                return body(frame)
            if c is False:
                # Nix interns the builtins' names (without ``__``) before it reads the source.
                builtin_names = [n.removeprefix("__") for n in globals_]
                from tvix_eval.compiler.show import show_parse

                text = show_parse(
                    node.cond, node.source.text, base_dir, builtin_names=builtin_names
                )
                raise AssertionFailed(f"assertion '{text}' failed", node)
            raise TypeMismatch(f"value is {show_type(c)} while a Boolean was expected", node)

        return Code(ev)

    def c_With(self, node: ast.With, scope: Scope | None) -> Code:
        env_lz = self.compile(node.env, scope).lz
        inner = Scope(scope, {}, is_with=True)
        body = self.compile(node.body, inner).ev

        def ev(frame: Frame) -> Value:
            return body([frame, env_lz(frame)])

        return Code(ev)

    # ------------------------------------------------------------------ functions

    def c_Lambda(self, node: ast.Lambda, scope: Scope | None, name: str | None = None) -> Code:
        param = node.param
        if isinstance(param, ast.Ident):
            inner = Scope(scope, {param.name: 1})
            inner_site = None
            if self.lazy_bodies and type(node.body) is not ast.Lambda:
                body = self._later(node.body, inner)
            else:
                body_code = self.compile(node.body, inner)
                body = body_code.ev
                inner_site = body_code.lambda_code
            body2 = inner_site.body if inner_site is not None else None

            def invoke(penv: Frame, arg: Value) -> Value:
                return body([penv, arg])

            if self.calls_through_invoke:
                site = LambdaCode(invoke, name, None, node)
            else:
                site = LambdaCode(invoke, name, None, node, body, body2)
            self._new_site(site, node, scope)
            if inner_site is not None and id(inner_site) in self._origins:
                self._origins[id(inner_site)].outer = site
                warm_outer = site.warm_up
                warm_inner = inner_site.warm_up
                if warm_outer is not None and warm_inner is not None:
                    # body2 runs the inner lambda's body: warming up a: b: e warms up both

                    def warm_up(outer: Any = warm_outer, inner: Any = warm_inner) -> None:
                        outer()
                        inner()

                    site.warm_up = warm_up

            def ev(frame: Frame) -> Value:
                return Lambda(site, frame)

            code = Code(ev)
            code.lambda_code = site
            return code
        return self._pattern_lambda(node, param, scope, name)

    def _pattern_lambda(
        self, node: ast.Lambda, param: ast.Formals, scope: Scope | None, name: str | None
    ) -> Code:
        inner, at_slot = pattern_scope(param, scope)
        names = inner.names
        nslots = len(param.entries) + (1 if at_slot else 0)
        entries: list[tuple[str, int, Any]] = []
        for f in param.entries:
            default = None
            if f.default is not None:
                if self.lazy_bodies:
                    default = self._later(f.default, inner, lazy=True)
                else:
                    default = frame_init_lz(self.compile(f.default, inner))
            entries.append((f.name, names[f.name], default))
        if self.lazy_bodies:
            body = self._later(node.body, inner)
        else:
            body = self.compile(node.body, inner).ev
        formals = Formals(
            {f.name: f.default is not None for f in param.entries},
            param.ellipsis,
            {f.name: f for f in param.entries},
        )
        ellipsis = param.ellipsis
        allowed = frozenset(formals.names)
        size = nslots + 1

        def invoke(penv: Frame, arg: Value) -> Value:
            if type(arg) is Thunk:
                arg = arg.force()
            if type(arg) is not NixAttrs:
                raise TypeMismatch(f"value is {show_type(arg)} while a set was expected")
            frame: Frame = [UNSET] * size
            frame[0] = penv
            if at_slot:
                frame[at_slot] = arg
            d = arg.d
            present = 0
            for fname, slot, default in entries:
                v = d.get(fname, _MISSING)
                if v is not _MISSING:
                    present += 1
                else:
                    if default is None:
                        raise TypeMismatch(
                            f"{describe_lambda(name, node)} called without required "
                            f"argument '{fname}'"
                        )
                    v = default(frame)
                frame[slot] = v
            if not ellipsis and len(d) > present:
                for k in sorted(d):
                    if k not in allowed:
                        raise TypeMismatch(
                            f"{describe_lambda(name, node)} called with unexpected argument '{k}'",
                            None,
                            did_you_mean(k, allowed),
                        )
            return body(frame)

        site = LambdaCode(invoke, name, formals, node)
        self._new_site(site, node, scope)

        def ev(frame: Frame) -> Value:
            return Lambda(site, frame)

        code = Code(ev)
        code.lambda_code = site
        return code

    def _later(self, node: ast.Expr, scope: Scope, *, lazy: bool = False) -> EvFn:
        """``ev`` of ``node`` (with ``lazy``, its frame-filling ``lz``), compiled when first
        run: for the lambda bodies and defaults of a file known to compile cleanly."""
        compiled: EvFn | None = None

        def run(frame: Frame) -> Value:
            nonlocal compiled
            if compiled is None:
                code = self._compile_later(node, scope)
                compiled = frame_init_lz(code) if lazy else code.ev
            return compiled(frame)

        return run

    def _compile_later(self, node: ast.Expr, scope: Scope) -> Code:
        from tvix_eval.syntax.cache import CacheEntryCorrupt

        try:
            return self.compile(node, scope)
        except CacheEntryCorrupt as e:
            # a forged chunk of the parse cache, read only now: parse the file afresh
            e.discard()
            from tvix_eval.syntax.ast import find_node
            from tvix_eval.syntax.cache import parse_cached

            source = node.source
            tree = parse_cached(source.text, source.name)  # and stores a good entry
            return self.compile(find_node(tree, type(node), node.start, node.end), scope)

    def _new_site(self, site: LambdaCode, node: ast.Lambda, scope: Scope | None) -> None:
        self.sites[id(node)] = site
        if self.tier_threshold is not None:
            from tvix_eval.compiler.tiering import count_calls

            self._origins[id(site)] = count_calls(site, self, node, scope, self.tier_threshold)

    def c_Apply(self, node: ast.Apply, scope: Scope | None) -> Code:
        direct = self._apply_primop(node, scope)
        if direct is not None:
            return direct
        if type(node.fn) is ast.Apply:
            return self._apply2(node, node.fn, scope)
        fn_code = self.compile(node.fn, scope)
        fn = fn_code.ev
        arg_code = self.compile(node.arg, scope)
        arg = arg_code.lz
        if fn_code.local is not None and fn_code.local[0] <= 2:
            inline = apply_local_inline(node, fn, arg_code, *fn_code.local, self.code_cache)
            return inline or apply_local(node, fn, arg, *fn_code.local)

        def ev(frame: Frame) -> Value:
            f = fn(frame)
            try:
                if type(f) is Lambda:
                    c = f.code
                    body = c.body
                    if body is not None:
                        return body([f.env, arg(frame)])
                    return c.invoke(f.env, arg(frame))
                return call_value(f, arg(frame))
            except EvalError as e:
                note_failed_call(e, f, node)
                raise

        return Code(ev)

    def _apply2(self, node: ast.Apply, inner: ast.Apply, scope: Scope | None) -> Code:
        """``f a b``: calls a curried ``a: b: …`` lambda without the intermediate closure."""
        fn = self.compile(inner.fn, scope).ev
        a_lz = self.compile(inner.arg, scope).lz
        b_lz = self.compile(node.arg, scope).lz

        def ev(frame: Frame) -> Value:
            f = fn(frame)
            if type(f) is Lambda and f.code.body2 is not None:
                try:
                    return f.code.body2([[f.env, a_lz(frame)], b_lz(frame)])
                except EvalError as e:
                    if e.pos is None:
                        e.pos = node
                    raise
            g = call_first(f, frame)
            try:
                if type(g) is Lambda:
                    c = g.code
                    body = c.body
                    if body is not None:
                        return body([g.env, b_lz(frame)])
                    return c.invoke(g.env, b_lz(frame))
                return call_value(g, b_lz(frame))
            except EvalError as e:
                note_failed_call(e, g, node)
                raise

        def call_first(f: Value, frame: Frame) -> Value:
            try:
                if type(f) is Lambda:
                    c = f.code
                    body = c.body
                    if body is not None:
                        return body([f.env, a_lz(frame)])
                    return c.invoke(f.env, a_lz(frame))
                return call_value(f, a_lz(frame))
            except EvalError as e:
                note_failed_call(e, f, inner)
                raise

        return Code(ev)

    def _apply_primop(self, node: ast.Apply, scope: Scope | None) -> Code | None:
        """A builtin applied to exactly its arity of arguments, called without currying."""
        found = direct_call(node, lambda head: self.compile(head, scope).known)
        if found is None:
            return None
        prim, args = found
        return direct_primop(prim, [self.compile(a, scope) for a in args], node)

    # ------------------------------------------------------------------ operators

    def c_BinOp(self, node: ast.BinOp, scope: Scope | None) -> Code:
        lhs = self.compile(node.lhs, scope)
        rhs = self.compile(node.rhs, scope)
        return compile_binop(node, lhs, rhs, self.eager, self.code_cache)

    def c_UnaryOp(self, node: ast.UnaryOp, scope: Scope | None) -> Code:
        return compile_unary(node, self.compile(node.expr, scope))


#: the ``c_<class name>`` method compiling each kind of expression node
_METHODS: dict[type, Callable[[Compiler, Any, Scope | None], Code]] = {
    cls: getattr(Compiler, "c_" + cls.__name__)
    for cls in vars(ast).values()
    if isinstance(cls, type) and hasattr(Compiler, "c_" + cls.__name__)
}
