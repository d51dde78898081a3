"""The builtins: one module per group, each registering with :mod:`.registry`.

:func:`make_globals` builds, for one evaluation, the ``builtins`` set and the global names
(``true``, ``map``, ``__add``…) the compiler resolves identifiers against. The groups in
:data:`EAGER_GROUPS` are imported then; the others (JSON, TOML, XML, regular expressions,
hashes, versions, fetchers, ``derivationStrict``) when one of their builtins is first called
(:mod:`.lazy`), so that evaluating a small expression does not pay for them.
"""

from __future__ import annotations

import importlib

from tvix_eval.builtins.lazy import LAZY_BUILTINS, LAZY_GROUPS, lazy_primop
from tvix_eval.builtins.registry import CONSTANTS, REGISTRY

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: the group modules imported when an evaluator is made
EAGER_GROUPS = (
    "context",
    "core",
    "core_attrs",
    "core_lists",
    "derivation_nix",
    "misc",
    "paths",
    "strings",
)


def load_eager() -> None:
    """Import the group modules of :data:`EAGER_GROUPS` (once)."""
    for group in EAGER_GROUPS:
        importlib.import_module(f"{__name__}.{group}")


def load_all() -> None:
    """Import every builtin group module of this package, lazily loaded ones included."""
    load_eager()
    for group in LAZY_GROUPS:
        importlib.import_module(f"{__name__}.{group}")


def make_globals(state: Any, *, impure: bool) -> dict[str, Any]:
    """The global scope of one evaluation: ``builtins``, ``__name`` aliases and global names."""
    from tvix_eval.runtime.values import NixAttrs, PrimOp

    load_eager()
    members: dict[str, Any] = {}
    globals_: dict[str, Any] = {}
    for name, spec in REGISTRY.items():
        if spec.impure and not impure:
            continue
        prim = PrimOp(name, spec.arity, spec.fn, spec.lazy_args, spec.doc)
        members[name] = prim
        if spec.global_:
            globals_[name] = prim
    for name, (_, _, _, global_, impure_only) in LAZY_BUILTINS.items():
        if name in REGISTRY or (impure_only and not impure):
            continue  # already loaded (above), or left out
        prim = lazy_primop(name)
        members[name] = prim
        if global_:
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
    state.builtins = builtins_set
    return globals_
