"""Static scope analysis: where each identifier lives at run time.

Every ``let``, ``rec`` set, lambda and ``with`` creates one run-time frame, a Python list
``[parent_frame, slot1, slot2, …]``. The compiler mirrors that chain with :class:`Scope` objects,
so each identifier resolves once, at compile time, to a frame depth and slot, to a global (a
builtin), or to a dynamic lookup through the enclosing ``with`` frames (whose single slot holds the
namespace). ``with`` never shadows a lexical or global name, as in C++ Nix.
"""

from __future__ import annotations

from typing import Any


class Scope:
    """One frame's names (slot numbers start at 1; slot 0 is the parent frame).

    ``known`` holds the names whose slot is sure to hold a given value (a ``let`` binding of a
    builtin function, ``inherit (builtins) map``), so calls through them can be compiled as
    direct calls of the builtin.
    """

    __slots__ = ("is_with", "known", "names", "parent")

    def __init__(self, parent: Scope | None, names: dict[str, int], is_with: bool = False) -> None:
        self.parent = parent
        self.names = names
        self.is_with = is_with
        self.known: dict[str, Any] = {}


#: :attr:`Local.known` of a slot whose value is not known at compile time
UNKNOWN: Any = object()


class Local:
    """A slot ``index`` in the frame ``depth`` levels up (holding ``known``, if not UNKNOWN)."""

    __slots__ = ("depth", "index", "known")

    def __init__(self, depth: int, index: int, known: Any = UNKNOWN) -> None:
        self.depth = depth
        self.index = index
        self.known = known


class Global:
    """A builtin or other global value, known at compile time."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class Dynamic:
    """A lookup through the ``with`` frames at these depths, innermost first."""

    __slots__ = ("with_depths",)

    def __init__(self, with_depths: tuple[int, ...]) -> None:
        self.with_depths = with_depths


Resolution = Local | Global | Dynamic


def resolve(scope: Scope | None, name: str, globals_: dict[str, Any]) -> Resolution | None:
    """Resolve ``name`` from ``scope`` outwards; ``None`` if nothing can bind it."""
    depth = 0
    withs: list[int] = []
    s = scope
    while s is not None:
        if s.is_with:
            withs.append(depth)
        else:
            idx = s.names.get(name)
            if idx is not None:
                return Local(depth, idx, s.known.get(name, UNKNOWN))
        s = s.parent
        depth += 1
    if name in globals_:
        return Global(globals_[name])
    if withs:
        return Dynamic(tuple(withs))
    return None


def pattern_scope(param: Any, scope: Scope | None) -> tuple[Scope, int]:
    """The frame of a lambda with a pattern ``{ a, b ? d, ... } @ args``: one slot per formal
    in order, then the ``@`` name's (unless it repeats a formal); returns the scope and the
    slot that holds the whole argument set (0 when there is no ``@``)."""
    names: dict[str, int] = {}
    for i, f in enumerate(param.entries):
        names[f.name] = i + 1
    at_slot = 0
    if param.at_name is not None:
        at_slot = len(param.entries) + 1
        names.setdefault(param.at_name, at_slot)
    return Scope(scope, names), at_slot
