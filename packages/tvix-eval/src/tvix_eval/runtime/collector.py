"""How often CPython's cyclic garbage collector runs while Nix code is evaluated.

Evaluation allocates millions of small container objects (thunks, frames, sets), most of them
alive until much later. CPython's collector, with its default 700-object young generation,
scans each of them once or twice while it is young: a third of the CPU time of the
module-system benchmark, spent on cache misses. C++ Nix starts its heap at a quarter of the
RAM, at most 384 MiB, "so that in most cases we don't need to garbage collect at all". We do
the same: while evaluating, the young generation may grow to that budget (at an estimated
:data:`BYTES_PER_OBJECT` per tracked object) before it is collected, so the collector still
bounds the memory that cycles can hold, and evaluations smaller than the budget never pay
for a collection. ``GC_INITIAL_HEAP_SIZE`` (bytes, with an optional ``k``/``m``/``g``
suffix; the variable C++ Nix's collector reads) sets the budget.
"""

from __future__ import annotations

import os

#: the largest default budget (C++ Nix's initial heap size)
HEAP_CAP = 384 << 20
#: what one object the collector tracks costs on average, with what it holds (measured on
#: nixpkgs' module system: ~1.7M tracked objects in ~170 MB)
BYTES_PER_OBJECT = 96
#: CPython's own young-generation threshold, the least we use
MIN_THRESHOLD = 700

_SUFFIXES = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_size(text: str) -> int | None:
    """A size like ``GC_INITIAL_HEAP_SIZE``'s: digits with an optional k, m or g suffix."""
    text = text.strip().lower()
    factor = _SUFFIXES.get(text[-1:], 1)
    digits = text[:-1] if factor != 1 else text
    if not digits.isdigit():
        return None
    return int(digits) * factor


def heap_budget() -> int:
    """Bytes evaluation may allocate before the collector runs."""
    configured = parse_size(os.environ.get("GC_INITIAL_HEAP_SIZE", ""))
    if configured is not None:
        return configured
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return HEAP_CAP
    return min(HEAP_CAP, ram // 4) if ram > 0 else HEAP_CAP


def young_threshold() -> int:
    """The collector's young-generation threshold while evaluating."""
    return max(MIN_THRESHOLD, heap_budget() // BYTES_PER_OBJECT)
