"""Builtins whose group module is imported on the first call of one of them.

The compiler needs a builtin's :class:`~tvix_eval.runtime.values.PrimOp` (name, arity, which
arguments stay lazy) when it compiles a program, and compiled code keeps the ``fn`` it found
there. So each builtin listed here gets its PrimOp at once, with a stub ``fn`` that imports the
group, puts the registered implementation (and its docstring) into the PrimOp and calls it;
code compiled before that keeps calling the stub, which forwards to the PrimOp's ``fn``.
"""

from __future__ import annotations

import importlib

from tvix_eval.builtins.registry import REGISTRY
from tvix_eval.runtime.values import PrimOp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: name -> (group module, arity, lazy argument indices, global, impure); a test checks it
#: against what the group modules register
LAZY_BUILTINS: dict[str, tuple[str, int, tuple[int, ...], bool, bool]] = {
    "compareVersions": ("versions", 2, (), False, False),
    "convertHash": ("hashing", 1, (), False, False),
    "derivationStrict": ("derivation", 1, (), True, False),
    "fetchGit": ("fetchers", 1, (), True, False),
    "fetchMercurial": ("fetchers", 1, (), True, False),
    "fetchTarball": ("fetchers", 1, (), True, False),
    "fetchTree": ("fetchers", 1, (), True, False),
    "fetchurl": ("fetchers", 1, (), False, False),
    "fromJSON": ("json", 1, (), False, False),
    "fromTOML": ("toml", 1, (), True, False),
    "hashFile": ("hashing", 2, (), False, False),
    "hashString": ("hashing", 2, (), False, False),
    "match": ("regex", 2, (), False, False),
    "parseDrvName": ("versions", 1, (), False, False),
    "split": ("regex", 2, (), False, False),
    "splitVersion": ("versions", 1, (), False, False),
    "toJSON": ("json", 1, (), False, False),
    "toXML": ("xml", 1, (), False, False),
}

#: the group modules of :data:`LAZY_BUILTINS`
LAZY_GROUPS = tuple(sorted({group for group, *_ in LAZY_BUILTINS.values()}))


def _not_loaded(*args: Any) -> Any:
    raise AssertionError("a lazily loaded builtin was called before its stub was installed")


def lazy_primop(name: str) -> PrimOp:
    """The PrimOp of the lazily loaded builtin ``name``."""
    group, arity, lazy_args, _, _ = LAZY_BUILTINS[name]
    prim = PrimOp(name, arity, _not_loaded, lazy_args, None)
    prim.fn = _stub(prim, f"{__package__}.{group}")
    return prim


def _stub(prim: PrimOp, module: str) -> Callable[..., Any]:
    """The stand-in ``fn`` of ``prim`` (one per arity, so calls stay plain positional calls)."""

    def load() -> Callable[..., Any]:
        importlib.import_module(module)
        spec = REGISTRY[prim.name]
        prim.fn = spec.fn
        prim.doc = spec.doc
        return spec.fn

    if prim.arity == 1:

        def stub1(a: Any) -> Any:
            fn = prim.fn
            return (load() if fn is stub1 else fn)(a)

        return stub1
    if prim.arity == 2:

        def stub2(a: Any, b: Any) -> Any:
            fn = prim.fn
            return (load() if fn is stub2 else fn)(a, b)

        return stub2

    def stub(*args: Any) -> Any:
        fn = prim.fn
        return (load() if fn is stub else fn)(*args)

    return stub
