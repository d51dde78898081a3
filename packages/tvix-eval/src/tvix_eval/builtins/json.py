"""``builtins.toJSON`` and ``builtins.fromJSON`` with C++ Nix's formatting and errors."""

from __future__ import annotations

from json.encoder import encode_basestring as _encode_basestring

from tvix_eval.builtins._json_parse import JSONError, from_json
from tvix_eval.builtins.registry import builtin
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import call_value, coerce_to_string, copy_path_to_store, expect_string
from tvix_eval.runtime.values import (
    Lambda,
    NixAttrs,
    NixPath,
    NixString,
    PrimOp,
    PrimOpApp,
    Thunk,
    Value,
    make_string,
    show_type,
)

_ESCAPE = {i: f"\\u{i:04x}" for i in range(32)}
_ESCAPE.update({0x22: '\\"', 0x5C: "\\\\", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"})


def json_string(s: str) -> str:
    """A JSON string literal as C++ Nix writes it (only ``"``, ``\\`` and controls escaped)."""
    if "\b" in s or "\f" in s:
        return '"' + s.translate(_ESCAPE) + '"'
    # Python's C encoder escapes exactly the same characters, except \b and \f (handled above)
    return _encode_basestring(s)


def json_float(x: float) -> str:
    """A float as C++ Nix writes it into JSON (``std::ostream`` default: ``%g``)."""
    return "%g" % x  # noqa: UP031


def _describe(v: Value) -> str:
    if type(v) is PrimOp:
        return f"the built-in function '{v.name}'"
    if type(v) is PrimOpApp:
        return f"the partially applied built-in function '{v.primop.name}'"
    return show_type(v)


def to_json(v: Value, out: list[str], context: set[str]) -> None:
    """Append the JSON text of ``v`` to ``out``, collecting string context into ``context``."""
    t = type(v)
    if t is Thunk:
        v = v.force()
        t = type(v)
    if t is str:
        out.append(json_string(v))
    elif t is NixAttrs:
        _attrs_to_json(v, out, context)
    elif t is list:
        append = out.append
        sep = "["
        for slot in v:
            append(sep)
            sep = ","
            # plain strings and integers inline, the rest recursively
            item = slot.force() if type(slot) is Thunk else slot
            ti = type(item)
            if ti is str:
                append(json_string(item))
            elif ti is int:
                append(str(item))
            else:
                to_json(item, out, context)
        append("[]" if sep == "[" else "]")
    elif t is bool:
        out.append("true" if v else "false")
    elif t is int:
        out.append(str(v))
    elif t is NixString:
        context.update(v.context)
        out.append(json_string(v))
    elif t is float:
        out.append(json_float(v))
    elif v is None:
        out.append("null")
    elif t is NixPath:
        s = copy_path_to_store(v.path)
        context.update(s.context)
        out.append(json_string(s))
    elif t is Lambda or t is PrimOp or t is PrimOpApp:
        # C++ Nix 2.8 reports a lambda where it is written, in a frame with this odd text
        error = EvalError(f"cannot convert {_describe(v)} to JSON")
        raise error.while_calling("message for the trace", v.pos if t is Lambda else None)
    else:
        raise EvalError(f"cannot convert {show_type(v)} to JSON")


_KEYS: dict[str, str] = {}


def _attrs_to_json(v: NixAttrs, out: list[str], context: set[str]) -> None:
    d = v.d
    to_string = d.get("__toString")
    if to_string is not None:
        s = coerce_to_string(call_value(to_string, v), copy_to_store=False)
        if type(s) is NixString:
            context.update(s.context)
        out.append(json_string(s))
        return
    out_path = d.get("outPath")
    if out_path is not None:
        to_json(out_path, out, context)
        return
    append = out.append
    keys = _KEYS
    sep = "{"
    for name in v.sorted_keys():
        key = keys.get(name)
        if key is None:
            if len(keys) > 4096:
                keys.clear()
            key = keys[name] = json_string(name) + ":"
        append(sep)
        sep = ","
        append(key)
        try:
            # plain strings and integers inline, the rest recursively
            item = d[name]
            if type(item) is Thunk:
                item = item.force()
            ti = type(item)
            if ti is str:
                append(json_string(item))
            elif ti is int:
                append(str(item))
            else:
                to_json(item, out, context)
        except EvalError as e:
            e.add_trace(None, f"while evaluating attribute '{name}'")
            raise
    append("{}" if sep == "{" else "}")


@builtin("toJSON", 1)
def _to_json(v: Value) -> str:
    """The JSON text of a value (strings keep their context)."""
    out: list[str] = []
    context: set[str] = set()
    to_json(v, out, context)
    return make_string("".join(out), frozenset(context))


@builtin("fromJSON", 1)
def _from_json(s: Value) -> Value:
    """The Nix value a JSON text denotes."""
    try:
        return from_json(expect_string(s))
    except JSONError as e:
        # C++ Nix reports the parser's message without a position, in a trace frame
        error = EvalError(str(e), positioned=False)
        raise error.while_calling("while decoding a JSON string") from None
