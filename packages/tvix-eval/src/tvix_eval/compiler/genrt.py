"""What generated code calls besides the values themselves: slow paths and error raisers.

Generated functions (:mod:`tvix_eval.compiler.gen`) inline the common case of each construct
and call these for the rest, so that each behaves exactly as its closure-compiled form in
:mod:`tvix_eval.compiler.compiler` (same errors, positions and trace frames). Functions named
``*_error`` return the exception for the caller to raise.
"""

from __future__ import annotations

from typing import Any

from tvix_eval.compiler.access import attr_name_of, interpolation_pos
from tvix_eval.compiler.calls import describe_lambda, note_failed_call
from tvix_eval.runtime.errors import (
    AssertionFailed,
    EvalError,
    MissingAttribute,
    TypeMismatch,
    UndefinedVariable,
    did_you_mean,
)
from tvix_eval.runtime.ops import (
    INT_MIN,
    arith,
    call_value,
    coerce_to_string,
    concat_lists,
    expect_attrs,
    expect_bool,
    update_attrs,
)
from tvix_eval.runtime.values import (
    Lambda,
    NixAttrs,
    NixPath,
    NixString,
    Thunk,
    Value,
    show_type,
)


def select_error(v: Value, name: str, node: Any) -> EvalError:
    """Selecting ``name`` from ``v`` failed: not a set, or no such attribute."""
    if type(v) is NixAttrs:
        return MissingAttribute(f"attribute '{name}' missing", node, did_you_mean(name, v.d))
    return TypeMismatch(f"value is {show_type(v)} while a set was expected", node)


def select_trace(  # noqa: PLR0917 (positional: called from generated code)
    e: EvalError, node: Any, found: Any, found_name: str, names: tuple[str, ...], steps: int
) -> None:
    """A failed selection ``a.b.c`` (or ``… or d``): position and, once an attribute was found,
    the ``while evaluating the attribute 'b.c'`` frame over the names tried so far."""
    e.at(node)
    if found is not None:
        pos = found.pos.get(found_name) if found.pos is not None else None
        path = ".".join(names[:steps])
        e.add_trace(pos, f"while evaluating the attribute '{path}'", True)


def var_force_failed(e: BaseException, node: Any) -> None:
    """Forcing the value of the variable ``node`` failed: its position, if the error has none."""
    if isinstance(e, EvalError) and e.pos is None:
        e.pos = node


def attr_force_failed(e: BaseException, attrs: NixAttrs, name: str, node: Any) -> None:
    """Forcing attribute ``name`` of ``attrs`` for the selection ``node`` failed: its position,
    if the error has none, and C++ Nix's ``while evaluating the attribute`` frame."""
    if isinstance(e, EvalError):
        if e.pos is None:
            e.pos = node
        pos = attrs.pos.get(name) if attrs.pos is not None else None
        e.add_trace(pos, f"while evaluating the attribute '{name}'", True)


def dynamic_key(v: Value, node: Any) -> str | None:
    """A dynamic key of a set literal from its (forced) value; ``None`` drops the binding."""
    if v is None:
        return None
    return attr_name_of(v, node)


def add_dynamic(d: dict[str, Value], key: str, value: Value, binding: Any) -> None:
    if key in d:
        line, col = binding.source.position(binding.start)
        where = binding.source.name
        if where == "«string»":
            where = "(string)"
        raise EvalError(
            f"dynamic attribute '{key}' already defined at {where}:{line}:{col}", binding
        )
    d[key] = value


def with_namespace(v: Value, node: Any) -> NixAttrs:
    """The set a ``with`` brings into scope, forced on the first dynamic lookup through it."""
    try:
        return expect_attrs(v)
    except EvalError as e:
        raise e.at(node) from None


def undefined_error(name: str, node: Any) -> EvalError:
    return UndefinedVariable(f"undefined variable '{name}'", node)


def not_bool_error(v: Value, node: Any) -> EvalError:
    return TypeMismatch(f"value is {show_type(v)} while a Boolean was expected", node)


def call_at(f: Value, arg: Value, node: Any) -> Value:
    """``f arg`` at the call site ``node``, for callees that are not lambdas."""
    try:
        return call_value(f, arg)
    except EvalError as e:
        note_failed_call(e, f, node)
        raise


def call_two(f: Value, a: Value, b: Value, node: Any, inner: Any) -> Value:
    """``f a b`` when ``f`` is not a curried plain lambda: two calls, each with its call site."""
    try:
        if type(f) is Lambda:
            c = f.code
            body = c.body
            g = body([f.env, a]) if body is not None else c.invoke(f.env, a)
        else:
            g = call_value(f, a)
    except EvalError as e:
        note_failed_call(e, f, inner)
        raise
    try:
        if type(g) is Lambda:
            c = g.code
            body = c.body
            if body is not None:
                return body([g.env, b])
            return c.invoke(g.env, b)
        return call_value(g, b)
    except EvalError as e:
        note_failed_call(e, g, node)
        raise


def coerce_add_lhs(a: Value, node: Any) -> Value:
    """The left operand of a ``+`` that is not a number: a string (paths stay paths), coerced
    before the right operand is evaluated, as in C++ Nix."""
    if type(a) is NixPath:
        return a
    try:
        return coerce_to_string(a)
    except EvalError as e:
        raise e.at(node.lhs) from None


def interpolate(v: Value, node: Any) -> str:
    """An interpolated part ``${…}`` that is not a plain string, coerced to one."""
    try:
        s: str = coerce_to_string(v)
    except EvalError as e:
        raise e.at(interpolation_pos(node)) from None
    return s


def negate(v: Value, node: Any) -> Value:
    """``-v`` (``0 - v``) for anything but an integer that can be negated in place."""
    if type(v) is int and v != INT_MIN:
        return -v
    try:
        return arith("-", 0, v)
    except EvalError as e:
        raise e.at(node) from None


def not_bool(v: Value, node: Any) -> bool:
    """``!v`` for a value that is not a Boolean: the type error."""
    try:
        expect_bool(v)
    except EvalError as e:
        raise e.at(node) from None
    raise AssertionError("unreachable")


def pattern_arg_error(v: Value) -> EvalError:
    return TypeMismatch(f"value is {show_type(v)} while a set was expected")


def missing_formal_error(name: str | None, node: Any, formal: str) -> EvalError:
    return TypeMismatch(
        f"{describe_lambda(name, node)} called without required argument '{formal}'"
    )


def unexpected_formal_error(
    d: dict[str, Value], allowed: frozenset[str], name: str | None, node: Any
) -> EvalError:
    """The first (in Nix's order) argument a pattern without ``...`` does not accept."""
    for k in sorted(d):
        if k not in allowed:
            return TypeMismatch(
                f"{describe_lambda(name, node)} called with unexpected argument '{k}'",
                None,
                did_you_mean(k, allowed),
            )
    raise AssertionError("no unexpected argument")


def assertion_error(node: Any, base_dir: str, globals_: dict[str, Any]) -> EvalError:
    """``assert`` with a false condition: C++ Nix quotes the condition as it parsed it."""
    from tvix_eval.compiler.show import show_parse

    # Nix interns the builtins' names (without ``__``) before it reads the source.
    builtin_names = [n.removeprefix("__") for n in globals_]
    text = show_parse(node.cond, node.source.text, base_dir, builtin_names=builtin_names)
    return AssertionFailed(f"assertion '{text}' failed", node)


#: what every generated unit's namespace starts with
BASE_NAMESPACE: dict[str, Any] = {
    "Thunk": Thunk,
    "NixAttrs": NixAttrs,
    "NixPath": NixPath,
    "NixString": NixString,
    "Lambda": Lambda,
    "EvalError": EvalError,
    "call_value": call_value,
    "note_failed_call": note_failed_call,
    "select_error": select_error,
    "select_trace": select_trace,
    "attr_name_of": attr_name_of,
    "var_force_failed": var_force_failed,
    "attr_force_failed": attr_force_failed,
    "dynamic_key": dynamic_key,
    "add_dynamic": add_dynamic,
    "with_namespace": with_namespace,
    "undefined_error": undefined_error,
    "not_bool_error": not_bool_error,
    "call_at": call_at,
    "call_two": call_two,
    "coerce_add_lhs": coerce_add_lhs,
    "update_attrs": update_attrs,
    "expect_attrs": expect_attrs,
    "concat_lists": concat_lists,
    "interpolate": interpolate,
    "negate": negate,
    "not_bool": not_bool,
    "pattern_arg_error": pattern_arg_error,
    "missing_formal_error": missing_formal_error,
    "unexpected_formal_error": unexpected_formal_error,
    "assertion_error": assertion_error,
}
