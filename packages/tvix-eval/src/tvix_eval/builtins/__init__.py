"""The builtins: one module per group, each registering with :mod:`.registry`.

:func:`make_globals` builds, for one evaluation, the ``builtins`` set and the global names
(``true``, ``map``, ``__add``…) the compiler resolves identifiers against.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from tvix_eval.builtins.registry import CONSTANTS, REGISTRY

_loaded: list[bool] = []


def load_all() -> None:
    """Import every builtin group module of this package (once)."""
    if _loaded:
        return
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "registry":
            continue
        importlib.import_module(f"{__name__}.{info.name}")
    _loaded.append(True)


def make_globals(state: Any, *, impure: bool) -> dict[str, Any]:
    """The global scope of one evaluation: ``builtins``, ``__name`` aliases and global names."""
    from tvix_eval.runtime.values import NixAttrs, PrimOp, Thunk

    load_all()
    members: dict[str, Any] = {}
    globals_: dict[str, Any] = {}
    for name, spec in REGISTRY.items():
        if spec.impure and not impure:
            continue
        prim = PrimOp(name, spec.arity, spec.fn, spec.lazy_args, spec.doc)
        members[name] = prim
        if spec.global_:
            globals_[name] = prim
    for name, const in CONSTANTS.items():
        if const.impure and not impure:
            continue
        value = const.factory(state)
        members[name] = value
        if const.global_:
            globals_[name] = value
    builtins_set = NixAttrs(members)
    members["builtins"] = builtins_set
    for name, value in members.items():
        globals_.setdefault("__" + name, value)
    globals_["builtins"] = builtins_set
    globals_["true"] = True
    globals_["false"] = False
    globals_["null"] = None
    del Thunk
    state.builtins = builtins_set
    return globals_
