"""The per-evaluation state builtins and coercions reach: IO, search path, import cache.

Evaluation of one program happens on one thread; :func:`current` returns the state installed for
that thread by :func:`activate`. Keeping it out of every call signature keeps the hot paths lean.
"""

from __future__ import annotations

import sys
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from tvix_eval.io import EvalIO


def _print_to_stderr(s: str) -> None:
    print(s, file=sys.stderr)


class EvalState:
    """Everything an evaluation shares across files (a plain class: a dataclass would cost
    an import of :mod:`dataclasses` and :mod:`inspect` at start-up)."""

    def __init__(
        self,
        io: EvalIO,
        search_path: list[tuple[str | None, str]] | None = None,
        *,
        import_cache: dict[str, Any] | None = None,
        builtins: Any = None,
        import_file: Callable[..., Any] | None = None,
        trace_out: Callable[[str], None] = _print_to_stderr,
        base_dir: str = "/",
        current_time: int = 0,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.io = io
        self.search_path: list[tuple[str | None, str]] = (
            search_path if search_path is not None else []
        )
        #: realpath of an imported file -> the thunk of its value
        self.import_cache: dict[str, Any] = import_cache if import_cache is not None else {}
        #: the ``builtins`` attribute set (a NixAttrs), filled by the evaluator
        self.builtins = builtins
        #: compiles a file: (source, path, scope set or None) -> thunk of its value
        self.import_file = import_file
        #: where ``builtins.trace`` and warnings go
        self.trace_out = trace_out
        #: the file the top-level expression came from (for relative paths), or None
        self.base_dir = base_dir
        #: ``builtins.currentTime`` (fixed for one evaluation)
        self.current_time = current_time
        self.extra: dict[str, Any] = extra if extra is not None else {}


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
