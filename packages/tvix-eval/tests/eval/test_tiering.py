"""Lambdas move from closures to generated Python code (compiler.tiering, compiler.gen)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tvix_eval.api import Evaluator, to_python
from tvix_eval.errors import NixError
from tvix_eval.runtime.ops import call_value
from tvix_eval.runtime.values import Lambda, NixAttrs, force


def _attrs(ev: Evaluator, src: str) -> NixAttrs:
    value = force(ev.evaluate(src))
    assert type(value) is NixAttrs
    return value


def _generated(f: Lambda) -> bool:
    """Whether the lambda's code is generated Python (named after the Nix source)."""
    body = f.code.body if f.code.body is not None else f.code.invoke
    return body.__code__.co_filename.startswith("<nix ")


def test_a_lambda_is_compiled_at_its_threshold_call() -> None:
    ev = Evaluator(tier_threshold=3)
    f = force(ev.evaluate("x: x + 1"))
    assert type(f) is Lambda
    results = []
    for n in range(4):
        results.append(ev.run(lambda n=n: call_value(f, n)))
        assert _generated(f) == (n >= 2), n
    assert results == [1, 2, 3, 4]
    assert f.code.warm_up is None


def test_closures_made_before_run_the_compiled_code() -> None:
    ev = Evaluator(tier_threshold=2)
    s = _attrs(ev, "let make = n: (x: x + n); in { f = make 1; g = make 2; }")
    f, g = force(s.d["f"]), force(s.d["g"])
    assert f.code is g.code
    assert [ev.run(lambda h=h: call_value(h, 10)) for h in (f, g, f, g)] == [11, 12, 11, 12]
    assert _generated(f) and _generated(g)


def test_never_means_closures_only() -> None:
    ev = Evaluator(tier_threshold=None)
    f = force(ev.evaluate("x: x"))
    assert f.code.warm_up is None
    assert [ev.run(lambda n=n: call_value(f, n)) for n in range(5)] == list(range(5))
    assert not _generated(f)


@pytest.mark.parametrize(
    "use",
    [
        "builtins.map f (builtins.genList (x: x) 40)",
        "builtins.filter (x: f x > 10) (builtins.genList (x: x) 40)",
        "builtins.foldl' (a: x: a + f x) 0 (builtins.genList (x: x) 40)",
    ],
)
def test_builtins_that_call_a_lambda_many_times_compile_it_first(use: str) -> None:
    ev = Evaluator(tier_threshold=1000)
    s = _attrs(ev, f"let f = x: x * 2; in {{ inherit f; r = {use}; }}")
    f = force(s.d["f"])
    assert not _generated(f)
    result = to_python(force(s.d["r"]), ev)
    assert result  # the builtin ran
    if "map f" in use:
        # map only makes the thunks: f is compiled before any of them runs
        assert _generated(f)


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("let f = x: x.a; in [ (f {}) ]", "attribute 'a' missing"),
        ("let f = { a }: a; in f { b = 1; }", "called without required argument 'a'"),
        ("let f = { a }: a; in f { a = 1; b = 1; }", "called with unexpected argument 'b'"),
        ("let f = x: assert x > 1; x; in f 0 + f 1", "assertion '(__lessThan 1 x)' failed"),
        ('let f = x: x + "s"; in f 1 + f 2', "cannot add a string to an integer"),
        ("let f = x: if x then 1 else 2; in f 1 + f 1", "value is an integer while a Boolean"),
        ('let f = x: x.a.b or (throw "no"); in f { a = {}; }', "no"),
        ("let f = x: y: x y; in f 1 2", "attempt to call something which is not a function"),
    ],
)
def test_errors_are_the_same_in_both_tiers(src: str, message: str) -> None:
    texts = []
    for threshold in (None, 1):
        with pytest.raises(NixError) as caught:
            Evaluator(tier_threshold=threshold).evaluate(src, strict=True)
        texts.append(caught.value.render(show_trace=True))
    assert message in texts[0]
    assert texts[0] == texts[1]


def _syntax_helpers() -> object:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "syntax"))
    import syntax_helpers

    return syntax_helpers


_helpers = _syntax_helpers()


def _outcome(src: str, threshold: int | None, *, strict: bool) -> str:
    ev = Evaluator(tier_threshold=threshold)
    try:
        return "value: " + ev.print(ev.evaluate(src, strict=strict))
    except NixError as e:
        return "error: " + e.render(show_trace=True)


@settings(max_examples=300)
@given(
    body=_helpers.exprs(max_leaves=10),  # type: ignore[attr-defined]
    arg=_helpers.exprs(max_leaves=4),  # type: ignore[attr-defined]
    strict=st.booleans(),
)
def test_generated_code_agrees_with_the_closures(body: object, arg: object, strict: bool) -> None:
    """Any program (most fail somewhere) has the same value or the same error whether its
    lambdas run as closures or as generated code: here a function of the random body is
    called twice, and every lambda is compiled at its first call. Without ``--strict`` the
    results are forced one level deep only, so what stays unevaluated prints as ``<CODE>``
    and must be the same too."""
    from tvix_eval.syntax.printer import pretty

    fn = f"(x: y: {pretty(body)})"  # type: ignore[arg-type]
    calls = f"let f = {fn}; a = {pretty(arg)}; in [ (f a 1) (f 2 a) ]"  # type: ignore[arg-type]
    src = calls
    if not strict:
        src = (
            f"let r = {calls}; in builtins.seq (builtins.elemAt r 0)"
            " (builtins.seq (builtins.elemAt r 1) r)"
        )
    assert _outcome(src, None, strict=strict) == _outcome(src, 1, strict=strict)
