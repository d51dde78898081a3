"""The per-evaluation state builtins and coercions reach: IO, search path, import cache.

Evaluation of one program happens on one thread; :func:`current` returns the state installed for
that thread by :func:`activate`. Keeping it out of every call signature keeps the hot paths lean.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tvix_eval.io import EvalIO


@dataclass
class EvalState:
    """Everything an evaluation shares across files."""

    io: EvalIO
    search_path: list[tuple[str | None, str]] = field(default_factory=list)
    #: realpath of an imported file -> the thunk of its value
    import_cache: dict[str, Any] = field(default_factory=dict)
    #: the ``builtins`` attribute set (a NixAttrs), filled by the evaluator
    builtins: Any = None
    #: compiles a file: (source, path, scope set or None) -> thunk of its value
    import_file: Callable[..., Any] | None = None
    #: where ``builtins.trace`` and warnings go
    trace_out: Callable[[str], None] = field(default=lambda s: print(s, file=sys.stderr))
    #: the file the top-level expression came from (for relative paths), or None
    base_dir: str = "/"
    #: ``builtins.currentTime`` (fixed for one evaluation)
    current_time: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


_local = threading.local()


def current() -> EvalState:
    """The state of the evaluation running on this thread."""
    state: EvalState | None = getattr(_local, "state", None)
    if state is None:
        raise RuntimeError("no evaluation is active on this thread")
    return state


def activate(state: EvalState | None) -> EvalState | None:
    """Install ``state`` for this thread; returns the previous one (to restore afterwards)."""
    previous: EvalState | None = getattr(_local, "state", None)
    _local.state = state
    return previous
