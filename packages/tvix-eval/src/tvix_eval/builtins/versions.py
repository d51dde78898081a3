"""Version strings: ``builtins.splitVersion``, ``builtins.compareVersions`` and ``parseDrvName``.

The algorithms are C++ Nix's (``libstore/names.cc``): a version is a sequence of components
separated by ``.`` or ``-``; a component is a run of digits or a run of other bytes. Comparison is
component-wise with special rules for numbers, the empty component and ``pre``.
"""

from __future__ import annotations

from tvix_eval.builtins._util import from_bytes, to_bytes
from tvix_eval.builtins.registry import builtin
from tvix_eval.builtins.strings import no_context
from tvix_eval.runtime.values import NixAttrs, Value

_SEPARATORS = b".-"
_INT_MAX = 2**31 - 1


def _next_component(v: bytes, p: int) -> tuple[bytes, int]:
    """The component starting at or after ``p`` and the position after it (C++ nextComponent)."""
    n = len(v)
    while p < n and v[p] in _SEPARATORS:
        p += 1
    if p == n:
        return b"", p
    start = p
    if 0x30 <= v[p] <= 0x39:
        while p < n and 0x30 <= v[p] <= 0x39:
            p += 1
    else:
        while p < n and not (0x30 <= v[p] <= 0x39) and v[p] not in _SEPARATORS:
            p += 1
    return v[start:p], p


def split_version(version: bytes) -> list[bytes]:
    """``builtins.splitVersion``: the components of ``version``."""
    out: list[bytes] = []
    p = 0
    while p < len(version):
        c, p = _next_component(version, p)
        if not c:
            break
        out.append(c)
    return out


def _as_int(c: bytes) -> int | None:
    """C++ ``string2Int<int>``: the number a component of digits denotes, if it fits an int."""
    if c and c.isdigit():
        n = int(c)
        if n <= _INT_MAX:
            return n
    return None


def _component_lt(c1: bytes, c2: bytes) -> bool:
    n1 = _as_int(c1)
    n2 = _as_int(c2)
    if n1 is not None and n2 is not None:
        return n1 < n2
    if c1 == b"" and n2 is not None:
        return True
    if c1 == b"pre" and c2 != b"pre":
        return True
    if c2 == b"pre":
        return False
    if n2 is not None:
        return True
    if n1 is not None:
        return False
    return c1 < c2


def compare_versions(v1: bytes, v2: bytes) -> int:
    """``builtins.compareVersions``: -1, 0 or 1."""
    p1 = p2 = 0
    while p1 < len(v1) or p2 < len(v2):
        c1, p1 = _next_component(v1, p1)
        c2, p2 = _next_component(v2, p2)
        if _component_lt(c1, c2):
            return -1
        if _component_lt(c2, c1):
            return 1
    return 0


def parse_drv_name(s: bytes) -> tuple[bytes, bytes]:
    """``builtins.parseDrvName``: split at the first ``-`` not followed by a letter."""
    for i in range(len(s) - 1):
        if s[i] == 0x2D and not (0x41 <= s[i + 1] <= 0x5A or 0x61 <= s[i + 1] <= 0x7A):
            return s[:i], s[i + 1 :]
    return s, b""


# --------------------------------------------------------------------------- builtins


@builtin("splitVersion", 1)
def _split_version(v: Value) -> list[Value]:
    """The components of a version string."""
    return [from_bytes(c) for c in split_version(to_bytes(no_context(v)))]


@builtin("compareVersions", 2)
def _compare_versions(a: Value, b: Value) -> int:
    """-1, 0 or 1 as version ``a`` is older than, the same as, or newer than ``b``."""
    return compare_versions(to_bytes(no_context(a)), to_bytes(no_context(b)))


@builtin("parseDrvName", 1)
def _parse_drv_name(s: Value) -> NixAttrs:
    """Split a package name like ``"nix-0.12pre12876"`` into ``name`` and ``version``."""
    name, version = parse_drv_name(to_bytes(no_context(s)))
    return NixAttrs({"name": from_bytes(name), "version": from_bytes(version)})
