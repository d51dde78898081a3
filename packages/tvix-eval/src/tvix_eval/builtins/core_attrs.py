"""Attribute-set builtins: ``attrNames``, ``getAttr``, ``listToAttrs``, ``mapAttrs``…"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tvix_eval.builtins.registry import builtin
from tvix_eval.runtime.errors import EvalError, MissingAttribute
from tvix_eval.runtime.ops import (
    MANY_CALLS,
    call_value2,
    expect_attrs,
    expect_function,
    expect_list,
    expect_string,
)
from tvix_eval.runtime.values import (
    Lambda,
    NixAttrs,
    Thunk,
    Value,
    force,
    position_file,
    set_position,
)


@builtin("attrNames", 1)
def _attr_names(s: Value) -> Value:
    return list(expect_attrs(s).sorted_keys())


@builtin("attrValues", 1)
def _attr_values(s: Value) -> Value:
    a = expect_attrs(s)
    d = a.d
    return [d[k] for k in a.sorted_keys()]


@builtin("hasAttr", 2)
def _has_attr(name: Value, s: Value) -> Value:
    return str(expect_string(name)) in expect_attrs(s).d


@builtin("getAttr", 2)
def _get_attr(name: Value, s: Value) -> Value:
    key = str(expect_string(name))
    a = expect_attrs(s)
    d = a.d
    if key not in d:
        raise missing_argument(key, "getAttr", a)
    return force(d[key])


def missing_argument(key: str, builtin_name: str, attrs: NixAttrs) -> MissingAttribute:
    """C++ Nix's error for an attribute a builtin needs in its argument set: reported where the
    set was written (if it was a literal) while invoking the builtin."""
    e = MissingAttribute(f"attribute '{key}' missing for call to '{builtin_name}'")
    return e.invoking(builtin_name, set_position(attrs))


@builtin("removeAttrs", 2, global_=True)
def _remove_attrs(s: Value, names: Value) -> Value:
    """The set without the attributes named in the list."""
    a = expect_attrs(s)
    d = a.d
    # dict.copy and a delete per name, not a Python loop over every attribute
    present: list[str] = []
    for x in names if type(names) is list else expect_list(names):
        n = x if type(x) is str else str(expect_string(x))
        if n in d:
            present.append(n)
    if not present:
        return a
    out = d.copy()
    for n in present:
        out.pop(n, None)
    return NixAttrs(out)


@builtin("listToAttrs", 1)
def _list_to_attrs(xs: Value) -> Value:
    d: dict[str, Value] = {}
    positions: dict[str, Any] = {}
    for item in xs if type(xs) is list else expect_list(xs):
        e = expect_attrs(item)
        if "name" not in e.d:
            raise missing_argument("name", "listToAttrs", e)
        try:
            key = str(expect_string(e.d["name"]))
        except EvalError as err:
            # reported where ``name`` is defined (nowhere for a set built by a builtin)
            pos = e.pos.get("name") if e.pos is not None else None
            err.at(pos)
            if pos is None:
                err.positioned = False
            raise
        if key in d:
            continue
        if "value" not in e.d:
            raise missing_argument("value", "listToAttrs", e)
        d[key] = e.d["value"]
        # the new attribute is located where its ``value`` was (``unsafeGetAttrPos``, XML)
        value_pos = e.pos.get("value") if e.pos is not None else None
        if value_pos is not None:
            positions[key] = value_pos
    return NixAttrs(d, positions or None)


_new = object.__new__


@builtin("mapAttrs", 2)
def _map_attrs(f: Value, s: Value) -> Value:
    a = s if type(s) is NixAttrs else expect_attrs(s)
    return NixAttrs(_lazy_calls2(f, a.d.items()))


def _lazy_calls2(f: Value, pairs: Iterable[tuple[str, Value]]) -> dict[str, Value]:
    """``name -> thunk of f name value`` for each pair. For a curried plain lambda
    ``n: v: e`` each thunk runs ``e`` in its frame directly, as calling it would."""
    out: dict[str, Value] = {}
    if type(f) is Lambda and f.code.body2 is not None:
        code = f.code
        items = list(pairs)
        if code.warm_up is not None and len(items) >= MANY_CALLS:
            code.warm_up()
        body2 = code.body2
        env = f.env
        for k, v in items:  # without the frame of Thunk.__init__
            t = _new(Thunk)
            t.code = body2
            t.env = [[env, k], v]
            out[k] = t
        return out
    for k, v in pairs:
        t = _new(Thunk)
        t.code = _map_attr
        t.env = (f, k, v)
        out[k] = t
    return out


def _map_attr(env: tuple[Value, str, Value]) -> Value:
    f, k, v = env
    return call_value2(f, k, v)


@builtin("intersectAttrs", 2)
def _intersect_attrs(a: Value, b: Value) -> Value:
    """The attributes of the second set whose names are also in the first."""
    da = expect_attrs(a).d
    db = expect_attrs(b).d
    # look the smaller set's names up in the larger: callPackage intersects a function's few
    # formals with a whole package set
    if len(da) < len(db):
        return NixAttrs({k: db[k] for k in da if k in db})
    return NixAttrs({k: v for k, v in db.items() if k in da})


@builtin("catAttrs", 2)
def _cat_attrs(name: Value, xs: Value) -> Value:
    key = str(expect_string(name))
    out = []
    for item in xs if type(xs) is list else expect_list(xs):
        d = expect_attrs(item).d
        if key in d:
            out.append(d[key])
    return out


@builtin("zipAttrsWith", 2)
def _zip_attrs_with(f: Value, xs: Value) -> Value:
    if type(f) is not Lambda:
        expect_function(f)
    groups: dict[str, list[Value]] = {}
    for item in xs if type(xs) is list else expect_list(xs):
        try:
            attrs = item if type(item) is NixAttrs else expect_attrs(item)
        except EvalError as e:
            # C++ Nix forces the element without a position, while invoking the builtin
            e.positioned = False
            raise e.while_calling("while invoking 'zipAttrsWith'") from None
        for k, v in attrs.d.items():
            groups.setdefault(k, []).append(v)
    return NixAttrs(_lazy_calls2(f, groups.items()))


@builtin("unsafeGetAttrPos", 2)
def _unsafe_get_attr_pos(name: Value, s: Value) -> Value:
    """``{ file; line; column; }`` of the definition of an attribute, or null if unknown."""
    key = str(expect_string(name))
    pos = expect_attrs(s).pos
    node = pos.get(key) if pos is not None else None
    if node is None:
        return None
    line, column = node.source.position(node.start)
    return NixAttrs({"file": position_file(node.source), "line": line, "column": column})
