"""Differential property test: random well-typed Nix programs print the same as with C++ Nix.

Programs combine arithmetic, strings, ``let``, lambdas, sets (``rec``, ``inherit``, ``//``),
lists, ``if`` and ``with``. Each example is a batch of programs checked with one
``nix-instantiate`` call, in both ``--eval --strict`` and lazy ``--eval`` form.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tvix_eval.api import Evaluator
from tvix_eval.errors import NixError

from .conftest import requires_nix, run_nix

NAMES = ["a", "b", "c", "x", "y"]


@st.composite
def int_expr(draw: st.DrawFn, depth: int = 3, scope: tuple[str, ...] = ()) -> str:
    """An expression of type int, using the int variables in ``scope``."""
    options = ["lit"]
    if scope:
        options.append("var")
    if depth > 0:
        options += ["add", "sub", "mul", "if", "let", "lambda", "select", "length", "with", "div"]
    kind = draw(st.sampled_from(options))
    sub = depth - 1
    if kind == "lit":
        return str(draw(st.integers(min_value=0, max_value=1000)))
    if kind == "var":
        return draw(st.sampled_from(scope))
    if kind in ("add", "sub"):
        op = "+" if kind == "add" else "-"
        return f"({draw(int_expr(sub, scope))} {op} {draw(int_expr(sub, scope))})"
    if kind == "mul":
        return f"({draw(int_expr(sub, scope))} * {draw(st.integers(0, 9))})"
    if kind == "div":
        return f"({draw(int_expr(sub, scope))} / {draw(st.integers(1, 9))})"
    if kind == "if":
        return (
            f"(if {draw(bool_expr(sub, scope))} then {draw(int_expr(sub, scope))} "
            f"else {draw(int_expr(sub, scope))})"
        )
    if kind == "let":
        name = draw(st.sampled_from(NAMES))
        value = draw(int_expr(sub, scope))
        return f"(let {name} = {value}; in {draw(int_expr(sub, (*scope, name)))})"
    if kind == "lambda":
        name = draw(st.sampled_from(NAMES))
        body = draw(int_expr(sub, (*scope, name)))
        return f"(({name}: {body}) {draw(int_expr(sub, scope))})"
    if kind == "select":
        return f"({draw(attrs_expr(sub, scope))}).a"
    if kind == "length":
        return f"(builtins.length {draw(list_expr(sub, scope))})"
    name = draw(st.sampled_from(NAMES))
    body = draw(int_expr(sub, (*scope, name)))
    return f"(with {{ {name} = {draw(int_expr(sub, scope))}; }}; {body})"


@st.composite
def bool_expr(draw: st.DrawFn, depth: int, scope: tuple[str, ...]) -> str:
    """An expression of type bool."""
    kind = draw(st.sampled_from(["lit", "lt", "eq", "and", "not", "has"]))
    sub = max(depth - 1, 0)
    if kind == "lit" or depth <= 0:
        return draw(st.sampled_from(["true", "false"]))
    if kind == "lt":
        return f"({draw(int_expr(sub, scope))} < {draw(int_expr(sub, scope))})"
    if kind == "eq":
        return f"({draw(any_expr(sub, scope))} == {draw(any_expr(sub, scope))})"
    if kind == "and":
        op = draw(st.sampled_from(["&&", "||", "->"]))
        return f"({draw(bool_expr(sub, scope))} {op} {draw(bool_expr(sub, scope))})"
    if kind == "not":
        return f"(!{draw(bool_expr(sub, scope))})"
    return f"({draw(attrs_expr(sub, scope))} ? {draw(st.sampled_from(['a', 'b', 'z']))})"


@st.composite
def str_expr(draw: st.DrawFn, depth: int, scope: tuple[str, ...]) -> str:
    """An expression of type string."""
    text = draw(st.text(alphabet='ab $\\"\n{}', max_size=6))
    lit = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'
    lit = lit.replace("\n", "\\n")
    if depth <= 0:
        return lit
    kind = draw(st.sampled_from(["lit", "concat", "interp", "tostring"]))
    sub = depth - 1
    if kind == "lit":
        return lit
    if kind == "concat":
        return f"({draw(str_expr(sub, scope))} + {draw(str_expr(sub, scope))})"
    if kind == "interp":
        return f'"x${{{draw(str_expr(sub, scope))}}}y"'
    return f"(toString {draw(int_expr(sub, scope))})"


@st.composite
def list_expr(draw: st.DrawFn, depth: int, scope: tuple[str, ...]) -> str:
    """An expression of type list."""
    sub = max(depth - 1, 0)
    kind = draw(st.sampled_from(["lit", "concat", "map"]))
    if kind == "lit" or depth <= 0:
        items = draw(st.lists(any_expr(sub, scope), max_size=3))
        return "[ " + " ".join(f"({i})" for i in items) + " ]"
    if kind == "concat":
        return f"({draw(list_expr(sub, scope))} ++ {draw(list_expr(sub, scope))})"
    return f"(map (n: n + 1) [ {draw(int_expr(sub, scope))} ])"


@st.composite
def attrs_expr(draw: st.DrawFn, depth: int, scope: tuple[str, ...]) -> str:
    """An expression of type set (always with an int attribute ``a``)."""
    sub = max(depth - 1, 0)
    kind = draw(st.sampled_from(["lit", "rec", "update", "inherit"]))
    if kind == "lit" or depth <= 0:
        extra = draw(st.sampled_from(["", f" b = {draw(str_expr(sub, scope))};"]))
        return f"{{ a = {draw(int_expr(sub, scope))};{extra} }}"
    if kind == "rec":
        return f"rec {{ b = {draw(int_expr(sub, scope))}; a = b + 1; c.d = a; }}"
    if kind == "update":
        return f"({draw(attrs_expr(sub, scope))} // {draw(attrs_expr(sub, scope))})"
    return f"(let a = {draw(int_expr(sub, scope))}; in {{ inherit a; }})"


@st.composite
def any_expr(draw: st.DrawFn, depth: int = 2, scope: tuple[str, ...] = ()) -> str:
    """An expression of any of the generated types."""
    gen = draw(st.sampled_from([int_expr, str_expr, bool_expr, list_expr, attrs_expr]))
    result: str = draw(gen(depth, scope))
    return result


def _ours(evaluator: Evaluator, src: str, strict: bool) -> str:
    try:
        return evaluator.print(evaluator.evaluate(src, strict=strict))
    except NixError as e:
        return "error: " + str(getattr(e, "message", e))


@requires_nix
@pytest.mark.nix
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(any_expr(3), min_size=1, max_size=15))
def test_same_output_as_nix(exprs: list[str]) -> None:
    evaluator = Evaluator()
    src = "[ " + " ".join(f"({e})" for e in exprs) + " ]"
    assert _ours(evaluator, src, True) == run_nix(src)
    # lazy printing: which values are still thunks must match too
    assert _ours(evaluator, src, False) == run_nix(src, strict=False)


_ATOMS = [
    "1", "0", "2.5", '"s"', "null", "true", "[ 1 2 ]", "{ a = 1; b = \"x\"; }", "(x: x)",
    "({ a, b ? 2, ... }@s: a + b)", "x", "y", "[]", "{}", '(throw "t")', '"a${"b"}"',
]  # fmt: skip
_OPS = ["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "->", "//", "++"]
_CALLS = [
    "builtins.length", "builtins.head", "builtins.attrNames", "toString", "builtins.typeOf",
    "(map (v: v))", "(builtins.filter (v: v == 1))", "(builtins.foldl' (a: b: a + b) 0)",
    "(builtins.elemAt [ 1 2 3 ])", "builtins.tryEval", '(builtins.getAttr "a")',
    "builtins.functionArgs", "builtins.deepSeq",
]  # fmt: skip


@st.composite
def untyped_expr(draw: st.DrawFn, depth: int = 3) -> str:
    """Any mix of constructs, mostly ill-typed: errors must match too."""
    if depth == 0:
        return draw(st.sampled_from(_ATOMS))
    sub = untyped_expr(depth - 1)
    kind = draw(st.integers(0, 12))
    if kind < 3:
        return f"({draw(sub)} {draw(st.sampled_from(_OPS))} {draw(sub)})"
    if kind == 3:
        return f"({draw(sub)} {draw(sub)})"
    if kind == 4:
        return f"(if {draw(sub)} then {draw(sub)} else {draw(sub)})"
    if kind == 5:
        return f"({draw(sub)}).a"
    if kind == 6:
        return f"(({draw(sub)}).a or {draw(sub)})"
    if kind == 7:
        return f'"${{{draw(sub)}}}-"'
    if kind == 8:
        return f"(let x = {draw(sub)}; y = {draw(sub)}; in {draw(sub)})"
    if kind == 9:
        return f"(with {draw(sub)}; {draw(sub)})"
    if kind == 10:
        return f"({draw(st.sampled_from(_CALLS))} {draw(sub)})"
    if kind == 11:
        return f"(rec {{ a = {draw(sub)}; b = a; c = {draw(sub)}; }})"
    return f"{{ inherit x; inherit ({draw(sub)}) a; d.e = {draw(sub)}; }}"


@requires_nix
@pytest.mark.nix
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(untyped_expr())
def test_same_errors_as_nix(expr: str) -> None:
    evaluator = Evaluator()
    src = f"let x = 1; y = {{ a = 2; }}; in {expr}"
    assert _ours(evaluator, src, True) == run_nix(src)
    assert _ours(evaluator, src, False) == run_nix(src, strict=False)
