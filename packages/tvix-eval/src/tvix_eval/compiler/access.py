"""Compiled variable access: frame slots, ``with`` lookups, search paths, dynamic names."""

from __future__ import annotations

import os
from typing import Any

from tvix_eval.compiler.code import Code, Frame
from tvix_eval.io import EvalIOError
from tvix_eval.runtime import context as _context
from tvix_eval.runtime.errors import EvalError, ThrownError, UndefinedVariable
from tvix_eval.runtime.ops import canon_path, coerce_to_string, expect_attrs
from tvix_eval.runtime.values import NixAttrs, NixPath, NixString, Thunk, Value
from tvix_eval.syntax.ast import Span

_MISSING: Any = object()


def interpolation_pos(node: Any) -> Any:
    """Where C++ Nix reports errors of an interpolated part: at its ``${``."""
    text = node.source.text
    i = node.start - 1
    while i > 0 and text[i] in " \t\r\n":
        i -= 1
    if i > 0 and text[i - 1 : i + 1] == "${":
        return Span(node.source, i - 1, node.end)
    return node


def attr_name(p: tuple[Any, Any], frame: Frame) -> str:
    """Evaluate a dynamic attribute name ``(ev, node)``; must be a string."""
    fn, pnode = p
    return attr_name_of(fn(frame), pnode)


def attr_name_of(v: Value, node: Any) -> str:
    """A dynamic attribute name from its (forced) value: a string, or coerced to one."""
    t = type(v)
    if t is str or t is NixString:
        return v  # type: ignore[no-any-return]
    if t is NixPath:
        return v.path  # type: ignore[no-any-return]
    try:
        return coerce_to_string(v)
    except EvalError as e:
        raise e.at(node) from None


def local_access(depth: int, idx: int, node: Any) -> Code:
    if depth == 0:

        def ev0(frame: Frame) -> Value:
            v = frame[idx]
            if type(v) is Thunk:
                try:
                    v = frame[idx] = v.force()
                except EvalError as e:
                    if e.pos is None:
                        e.pos = node
                    raise
            return v

        def lz0(frame: Frame) -> Value:
            return frame[idx]

        return Code(ev0, lz0, local0=True, local=(0, idx))
    if depth == 1:

        def ev1(frame: Frame) -> Value:
            v = frame[0][idx]
            if type(v) is Thunk:
                try:
                    v = frame[0][idx] = v.force()
                except EvalError as e:
                    if e.pos is None:
                        e.pos = node
                    raise
            return v

        def lz1(frame: Frame) -> Value:
            return frame[0][idx]

        return Code(ev1, lz1, local=(1, idx))
    if depth == 2:

        def ev2(frame: Frame) -> Value:
            v = frame[0][0][idx]
            if type(v) is Thunk:
                try:
                    v = frame[0][0][idx] = v.force()
                    return v
                except EvalError as e:
                    if e.pos is None:
                        e.pos = node
                    raise
            return v

        def lz2(frame: Frame) -> Value:
            return frame[0][0][idx]

        return Code(ev2, lz2, local=(2, idx))

    def lzn(frame: Frame) -> Value:
        for _ in range(depth):
            frame = frame[0]
        return frame[idx]

    def evn(frame: Frame) -> Value:
        for _ in range(depth):
            frame = frame[0]
        v = frame[idx]
        if type(v) is Thunk:
            try:
                return v.force()
            except EvalError as e:
                if e.pos is None:
                    e.pos = node
                raise
        return v

    return Code(evn, lzn, local=(depth, idx))


def dynamic_access(name: str, depths: tuple[int, ...], node: Any) -> Code:
    def lookup(frame: Frame) -> Value:
        f = frame
        at = 0
        for d in depths:
            while at < d:
                f = f[0]
                at += 1
            ns = f[1]
            if type(ns) is not NixAttrs:
                try:
                    ns = expect_attrs(ns)
                except EvalError as e:
                    raise e.at(node) from None
                f[1] = ns
            x = ns.d.get(name, _MISSING)
            if x is not _MISSING:
                return x
        raise UndefinedVariable(f"undefined variable '{name}'", node)

    def ev(frame: Frame) -> Value:
        v = lookup(frame)
        if type(v) is Thunk:
            try:
                return v.force()
            except EvalError as e:
                if e.pos is None:
                    e.pos = node
                raise
        return v

    return Code(ev)


def find_in_search_path(name: str, node: Any) -> Value:
    """Resolve ``<name>`` through the search path (``-I``, ``NIX_PATH``)."""
    state = _context.current()
    for prefix, path in state.search_path:
        if prefix is None or prefix == "":
            candidate = os.path.join(path, name)
        elif name == prefix:
            candidate = path
        elif name.startswith(prefix + "/"):
            candidate = os.path.join(path, name[len(prefix) + 1 :])
        else:
            continue
        candidate = canon_path(os.path.join(os.getcwd(), candidate))
        try:
            exists = state.io.path_exists(candidate)
        except EvalIOError:
            exists = False
        if exists:
            return NixPath(candidate)
    if name.startswith("nix/"):
        from tvix_eval.corepkgs import PREFIX

        return NixPath(PREFIX + name[4:])
    raise ThrownError(
        f"file '{name}' was not found in the Nix search path (add it using $NIX_PATH or -I)", node
    )
