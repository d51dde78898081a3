"""Two tiers for lambda bodies: closures first, generated Python once a lambda is called often.

The closure compiler builds code fast and runs it slowly (a Python call per syntax node); the
generator (:mod:`tvix_eval.compiler.gen`) costs a ``compile()`` of Python source and runs it
fast. Real Nix programs call only a few hundred distinct lambdas of the thousands they define
(nixpkgs' module system: ~300), most of them thousands of times, so each lambda literal starts
with closures that count its calls and, at the ``threshold``-th, is compiled again to Python
source. Its :class:`~tvix_eval.runtime.values.LambdaCode` then runs the new functions, for the
closures made before as well as after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tvix_eval.compiler.emit import Unit
from tvix_eval.compiler.gen import Ctx, Gen, Init, base_namespace
from tvix_eval.compiler.scope import Scope, pattern_scope
from tvix_eval.runtime.values import Formals, LambdaCode, Value
from tvix_eval.syntax import ast

if TYPE_CHECKING:
    from tvix_eval.compiler.compiler import Compiler

#: calls after which a lambda's body is compiled to Python source (the default of
#: :class:`~tvix_eval.api.Evaluator`): a lambda called twice is likely to be called again
DEFAULT_THRESHOLD = 2


class _Origin:
    """What compiling a lambda again needs; dropped once it is compiled."""

    __slots__ = ("compiler", "left", "node", "outer", "scope")

    def __init__(self, compiler: Compiler, node: ast.Lambda, scope: Scope | None, left: int):
        self.compiler = compiler
        self.node = node
        self.scope = scope
        #: calls until the body is compiled again
        self.left = left
        #: the lambda whose body is this lambda (``a: b: …``), whose ``body2`` runs ours
        self.outer: LambdaCode | None = None


def count_calls(
    site: LambdaCode, compiler: Compiler, node: ast.Lambda, scope: Scope | None, threshold: int
) -> _Origin:
    """Make ``site`` count its calls and compile itself again at the ``threshold``-th.

    Callers that took the counting functions before that (``map`` and ``genList`` put the body
    into each thunk they make) are sent on to the compiled ones afterwards."""
    origin = _Origin(compiler, node, scope, threshold)
    invoke0 = site.invoke
    body0 = site.body

    def invoke(penv: Any, arg: Value) -> Value:
        left = origin.left = origin.left - 1
        if left > 0:
            return invoke0(penv, arg)
        if left == 0:
            tier_up(site, origin)
        return site.invoke(penv, arg)

    site.invoke = invoke

    def warm_up() -> None:
        if origin.left > 0:
            origin.left = 0
            tier_up(site, origin)

    site.warm_up = warm_up
    if body0 is not None:

        def body(frame: Any) -> Value:
            left = origin.left = origin.left - 1
            if left > 0:
                return body0(frame)
            if left == 0:
                tier_up(site, origin)
            assert site.body is not None
            return site.body(frame)

        site.body = body
    return origin


def tier_up(site: LambdaCode, origin: _Origin) -> None:
    """Compile the lambda of ``site`` to Python source and make it run that from now on."""
    site.warm_up = None
    from tvix_eval.syntax.cache import CacheEntryCorrupt

    try:
        invoke, body = compile_lambda(origin.compiler, origin.node, origin.scope, site)
    except CacheEntryCorrupt as e:
        # a forged chunk of the parse cache, read only now (the file's lambda bodies are
        # compiled when called): parse the file afresh
        e.discard()
        from tvix_eval.syntax.ast import find_node
        from tvix_eval.syntax.cache import parse_cached

        node = origin.node
        tree = parse_cached(node.source.text, node.source.name)
        origin.node = find_node(tree, type(node), node.start, node.end)
        invoke, body = compile_lambda(origin.compiler, origin.node, origin.scope, site)
    site.invoke = invoke
    site.body = body
    if origin.outer is not None:
        origin.outer.body2 = body


def site_for(compiler: Compiler, node: ast.Lambda, scope: Scope | None, name: str | None) -> Any:
    """The :class:`LambdaCode` of a lambda literal inside generated code: the one the closure
    compiler made for it (so both tiers share its call count), else a new one."""
    site = compiler.sites.get(id(node))
    if site is None:
        site = compiler.c_Lambda(node, scope, name).lambda_code
    return site


def _filename(node: ast.Lambda, name: str | None) -> str:
    line, col = node.source.position(node.start)
    return f"<nix {name or 'lambda'} {node.source.name}:{line}:{col}>"


def compile_lambda(
    compiler: Compiler, node: ast.Lambda, scope: Scope | None, site: LambdaCode
) -> tuple[Any, Any]:
    """``(invoke, body)`` of a lambda as generated Python functions (``body`` is ``None`` for
    a pattern lambda)."""
    unit = Unit(_filename(node, site.name), base_namespace())
    gen = Gen(compiler, unit)
    param = node.param
    if isinstance(param, ast.Ident):
        inner = Scope(scope, {param.name: 1})
        body = unit.new_fn("body", "frame")
        body.line(f"return {gen.ev(node.body, Ctx.entry(body, inner))}")
        invoke = unit.new_fn("invoke", "penv, arg")
        invoke.line(f"return {body.name}([penv, arg])")
        ns = unit.build(compiler.code_cache)
        return ns[invoke.name], ns[body.name]
    assert site.formals is not None
    name = _pattern_invoke(gen, node, param, scope, site.name, site.formals)
    ns = unit.build(compiler.code_cache)
    return ns[name], None


def _pattern_invoke(  # noqa: PLR0917
    gen: Gen,
    node: ast.Lambda,
    param: ast.Formals,
    scope: Scope | None,
    name: str | None,
    formals: Formals,
) -> str:
    """``invoke(penv, arg)`` of a lambda with a pattern: check the argument set, fill the
    frame with the formals (defaults as thunks where missing), run the body."""
    inner, at_slot = pattern_scope(param, scope)
    fn = gen.unit.new_fn("invoke", "penv, arg")
    nname = gen.node(node)
    lname = gen.unit.literal(name)
    fn.line("if type(arg) is Thunk: arg = arg.force()")
    fn.line("if type(arg) is not NixAttrs: raise pattern_arg_error(arg)")
    nslots = len(param.entries) + (1 if at_slot else 0)
    fn.line(f"frame = [penv{', UNSET' * nslots}]")
    fn.frame_ready()
    ctx = Ctx.entry(fn, inner)
    init = Init(inner)
    if at_slot:
        fn.line(f"frame[{at_slot}] = arg")
        init.filled.add(at_slot)
    fn.line("d = arg.d")
    ellipsis = param.ellipsis
    if not ellipsis:
        required = sum(1 for f in param.entries if f.default is None)
        fn.line(f"present = {required}")
    for f in param.entries:
        slot = inner.names[f.name]
        key = gen.unit.literal(f.name)
        v = fn.temp()
        fn.line(f"{v} = d.get({key}, MISSING)")
        if f.default is None:
            fn.line(f"if {v} is MISSING: raise missing_formal_error({lname}, {nname}, {key})")
        else:
            with fn.block(f"if {v} is MISSING"):
                fn.line(f"{v} = {gen.lz(f.default, ctx, init)}")
            if not ellipsis:
                with fn.block("else"):
                    fn.line("present += 1")
        fn.line(f"frame[{slot}] = {v}")
        init.filled.add(slot)
    if not ellipsis:
        allowed = gen.unit.bind(frozenset(formals.names), "F")
        fn.line(
            f"if len(d) > present: raise unexpected_formal_error(d, {allowed}, {lname}, {nname})"
        )
    fn.line(f"return {gen.ev(node.body, ctx)}")
    return fn.name
