"""Attribute-set builtins: ``attrNames``, ``getAttr``, ``listToAttrs``, ``mapAttrs``…"""

from __future__ import annotations

from tvix_eval.builtins.registry import builtin
from tvix_eval.runtime.errors import MissingAttribute
from tvix_eval.runtime.ops import (
    call_value2,
    expect_attrs,
    expect_list,
    expect_string,
)
from tvix_eval.runtime.values import NixAttrs, Thunk, Value, force


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
    d = expect_attrs(s).d
    if key not in d:
        raise MissingAttribute(f"attribute '{key}' missing for call to 'getAttr'")
    return force(d[key])


@builtin("removeAttrs", 2, global_=True)
def _remove_attrs(s: Value, names: Value) -> Value:
    a = expect_attrs(s)
    drop = {str(expect_string(n)) for n in expect_list(names)}
    if not any(n in a.d for n in drop):
        return a
    return NixAttrs({k: v for k, v in a.d.items() if k not in drop})


@builtin("listToAttrs", 1)
def _list_to_attrs(xs: Value) -> Value:
    d: dict[str, Value] = {}
    for item in expect_list(xs):
        e = expect_attrs(item)
        name = e.d.get("name")
        if name is None and "name" not in e.d:
            raise MissingAttribute("attribute 'name' missing for call to 'listToAttrs'")
        key = str(expect_string(name))
        if key in d:
            continue
        if "value" not in e.d:
            raise MissingAttribute("attribute 'value' missing for call to 'listToAttrs'")
        d[key] = e.d["value"]
    return NixAttrs(d)


@builtin("mapAttrs", 2)
def _map_attrs(f: Value, s: Value) -> Value:
    a = expect_attrs(s)
    return NixAttrs({k: Thunk(_map_attr, (f, k, v)) for k, v in a.d.items()})


def _map_attr(env: tuple[Value, str, Value]) -> Value:
    f, k, v = env
    return call_value2(f, k, v)


@builtin("intersectAttrs", 2)
def _intersect_attrs(a: Value, b: Value) -> Value:
    da = expect_attrs(a).d
    db = expect_attrs(b).d
    return NixAttrs({k: v for k, v in db.items() if k in da})


@builtin("catAttrs", 2)
def _cat_attrs(name: Value, xs: Value) -> Value:
    key = str(expect_string(name))
    out = []
    for item in expect_list(xs):
        d = expect_attrs(item).d
        if key in d:
            out.append(d[key])
    return out


@builtin("zipAttrsWith", 2)
def _zip_attrs_with(f: Value, xs: Value) -> Value:
    groups: dict[str, list[Value]] = {}
    for item in expect_list(xs):
        for k, v in expect_attrs(item).d.items():
            groups.setdefault(k, []).append(v)
    return NixAttrs({k: Thunk(_map_attr, (f, k, vs)) for k, vs in groups.items()})


@builtin("unsafeGetAttrPos", 2)
def _unsafe_get_attr_pos(name: Value, s: Value) -> Value:
    """``{ file; line; column; }`` of the definition of an attribute, or null if unknown."""
    key = str(expect_string(name))
    pos = expect_attrs(s).pos
    node = pos.get(key) if pos is not None else None
    if node is None:
        return None
    line, column = node.source.position(node.start)
    return NixAttrs({"file": node.source.name, "line": line, "column": column})
