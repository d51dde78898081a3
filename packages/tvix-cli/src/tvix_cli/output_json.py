"""``--json`` output: the whole value as ``builtins.toJSON`` writes it (with ``--strict``), or
only what the top-level evaluation forced, as Nix 2.8 does without it. Runs on the evaluation
thread.
"""

from __future__ import annotations

from tvix_eval.builtins.json import json_float, json_string, to_json
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import call_value, coerce_to_string, copy_path_to_store
from tvix_eval.runtime.values import NixAttrs, NixPath, NixString, Thunk, Value, show_type


def strict_json(v: Value) -> str:
    """``--json --strict``: ``v`` (already forced deeply) as ``builtins.toJSON`` writes it."""
    out: list[str] = []
    to_json(v, out, set())
    return "".join(out)


def lazy_json(v: Value) -> str:
    """``--json``: ``v`` as JSON where it is evaluated; an unevaluated part is an error."""
    out: list[str] = []
    _json(v, out)
    return "".join(out)


def _json(v: Value, out: list[str]) -> None:
    if type(v) is Thunk:
        if not v.is_evaluated():
            raise EvalError("cannot convert a thunk to JSON")
        v = v.force()
    t = type(v)
    if t is str or t is NixString:
        out.append(json_string(v))
    elif t is bool:
        out.append("true" if v else "false")
    elif t is int:
        out.append(str(v))
    elif t is float:
        out.append(json_float(v))
    elif v is None:
        out.append("null")
    elif t is NixPath:
        out.append(json_string(copy_path_to_store(v.path)))
    elif t is list:
        out.append("[")
        for i, item in enumerate(v):
            if i:
                out.append(",")
            _json(item, out)
        out.append("]")
    elif t is NixAttrs:
        to_string = v.d.get("__toString")
        if to_string is not None:
            s = coerce_to_string(call_value(to_string, v), copy_to_store=False)
            out.append(json_string(s))
            return
        out_path = v.d.get("outPath")
        if out_path is not None:
            _json(out_path, out)
            return
        out.append("{")
        for i, (name, item) in enumerate(v.sorted_items()):
            if i:
                out.append(",")
            out.append(json_string(name))
            out.append(":")
            _json(item, out)
        out.append("}")
    else:
        raise EvalError(f"cannot convert {show_type(v)} to JSON")
