"""String context builtins: ``getContext``, ``hasContext``, ``appendContext``,
``unsafeDiscardStringContext`` and ``unsafeDiscardOutputDependency``.

A context element is encoded as C++ Nix does (see :class:`~tvix_eval.runtime.values.NixString`):
``/nix/store/…`` for a plain store path, ``=/nix/store/….drv`` for a derivation with all its
outputs, ``!out!/nix/store/….drv`` for one output.
"""

from __future__ import annotations

import re

from tvix_eval.builtins.registry import builtin
from tvix_eval.builtins.strings import no_context
from tvix_eval.runtime import context as _context
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import (
    coerce_to_string,
    expect_attrs,
    expect_bool,
    expect_list,
    expect_string,
)
from tvix_eval.runtime.values import NixAttrs, Value, make_string, string_context

_BASENAME = re.compile(r"[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+")


def _store_dir() -> str:
    try:
        return _context.current().io.store_dir
    except RuntimeError:
        return "/nix/store"


def is_store_path(path: str, store_dir: str | None = None) -> bool:
    """Whether ``path`` is ``<store>/<hash>-<name>`` (nothing below it)."""
    prefix = (store_dir or _store_dir()) + "/"
    if not path.startswith(prefix):
        return False
    base = path[len(prefix) :]
    return _BASENAME.fullmatch(base) is not None and not base[33:].startswith(".")


def decode_context(element: str) -> tuple[str, str | None]:
    """``(path, kind)`` of a context element: kind None (plain), ``"="`` or an output name."""
    if element.startswith("="):
        return element[1:], "="
    if element.startswith("!"):
        _, output, path = element.split("!", 2)
        return path, output
    return element, None


def context_info(context: frozenset[str]) -> NixAttrs:
    """The ``builtins.getContext`` set for a context."""
    infos: dict[str, dict[str, Value]] = {}
    outputs: dict[str, list[str]] = {}
    for element in sorted(context):
        path, kind = decode_context(element)
        info = infos.setdefault(path, {})
        if kind is None:
            info["path"] = True
        elif kind == "=":
            info["allOutputs"] = True
        else:
            outputs.setdefault(path, []).append(kind)
    for path, outs in outputs.items():
        infos[path]["outputs"] = list(outs)
    return NixAttrs({p: NixAttrs(info) for p, info in infos.items()})


@builtin("getContext", 1)
def _get_context(s: Value) -> NixAttrs:
    """The store paths a string refers to: ``{ path = { path?; allOutputs?; outputs?; }; }``."""
    return context_info(string_context(expect_string(s)))


@builtin("hasContext", 1)
def _has_context(s: Value) -> bool:
    """Whether a string refers to store paths."""
    return bool(string_context(expect_string(s)))


@builtin("unsafeDiscardStringContext", 1)
def _unsafe_discard_string_context(s: Value) -> str:
    """The string without its context."""
    return str.__str__(coerce_to_string(s))


@builtin("unsafeDiscardOutputDependency", 1)
def _unsafe_discard_output_dependency(s: Value) -> str:
    """The string with ``=drv`` (all outputs) context turned into a plain reference to the drv."""
    text = coerce_to_string(s)
    context = frozenset(e[1:] if e.startswith("=") else e for e in string_context(text))
    return make_string(str.__str__(text), context)


@builtin("appendContext", 2)
def _append_context(s: Value, ctx: Value) -> str:
    """The string with the context described by a ``getContext``-style set added."""
    text = expect_string(s)
    context = set(string_context(text))
    store_dir = _store_dir()
    for name, info_value in expect_attrs(ctx).sorted_items():
        if not is_store_path(name, store_dir):
            raise EvalError(f"Context key '\"{name}\"' is not a store path")
        info = expect_attrs(info_value).d
        path = info.get("path")
        if path is not None and expect_bool(path):
            context.add(name)
        all_outputs = info.get("allOutputs")
        if all_outputs is not None and expect_bool(all_outputs):
            if not name.endswith(".drv"):
                raise EvalError(
                    f'Tried to add all-outputs context of "{name}", which is not a derivation, '
                    "to a string"
                )
            context.add("=" + name)
        outputs = info.get("outputs")
        if outputs is not None:
            items = expect_list(outputs)
            if items and not name.endswith(".drv"):
                raise EvalError(
                    f'Tried to add derivation output context of "{name}", which is not a '
                    "derivation, to a string"
                )
            for item in items:
                context.add(f"!{no_context(item)}!{name}")
    return make_string(str.__str__(text), frozenset(context))
