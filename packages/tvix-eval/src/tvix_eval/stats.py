"""Counts of what an evaluation did, in the terms of C++ Nix's ``NIX_SHOW_STATS``.

``Evaluator(stats=True)`` counts function calls, builtin calls, thunks, attribute sets and their
elements, ``//`` and the values it copied, list concatenations and attribute selections, so
that a program's amount of work can be compared with Nix's before the cost of each operation
is. Counting costs nothing when it is off: with ``stats``, the evaluator runs every lambda as
closures (never compiled to Python source) and through its ``invoke`` function, and a profile
function of the evaluation thread counts the calls of the functions that do each kind of
work. The counts are the work of the program, not of a particular speed-up: thunks that
generated code would avoid are counted, as C++ Nix counts thunks it creates.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

#: which calls count as what: (file name ending, qualified name of the function) -> counter
_COUNTED: dict[tuple[str, str], str] = {
    ("compiler/compiler.py", "Compiler.c_Lambda.<locals>.invoke"): "function_calls",
    ("compiler/compiler.py", "Compiler._pattern_lambda.<locals>.invoke"): "function_calls",
    ("runtime/ops.py", "run_primop"): "primop_calls",
    ("compiler/calls.py", "direct_primop.<locals>.ev1"): "primop_calls",
    ("compiler/calls.py", "direct_primop.<locals>.ev2"): "primop_calls",
    ("compiler/calls.py", "direct_primop.<locals>.ev3"): "primop_calls",
    ("compiler/calls.py", "direct_primop.<locals>.evn"): "primop_calls",
    ("runtime/values.py", "Thunk.__init__"): "thunks",
    ("runtime/values.py", "NixAttrs.__init__"): "sets",
    ("compiler/operators.py", "compile_binop.<locals>.ev_update"): "op_updates",
    ("compiler/operators.py", "compile_binop.<locals>.ev_concat"): "list_concats",
    ("builtins/core_lists.py", "_concat_lists"): "list_concats",
    ("compiler/compiler.py", "Compiler.c_Select.<locals>.ev1"): "lookups",
    ("compiler/compiler.py", "Compiler.c_Select.<locals>.ev"): "lookups",
}


class EvalStats:
    """What the evaluations of one evaluator did so far."""

    __slots__ = (
        "function_calls",
        "list_concats",
        "lookups",
        "op_update_values_copied",
        "op_updates",
        "primop_calls",
        "set_elements",
        "sets",
        "thunks",
    )

    def __init__(self) -> None:
        self.function_calls = 0
        self.primop_calls = 0
        self.thunks = 0
        self.sets = 0
        self.set_elements = 0
        self.op_updates = 0
        self.op_update_values_copied = 0
        self.list_concats = 0
        self.lookups = 0

    def as_nix(self, cpu_time: float | None = None) -> dict[str, Any]:
        """The counts under ``NIX_SHOW_STATS``'s names (those it has)."""
        out: dict[str, Any] = {}
        if cpu_time is not None:
            out["cpuTime"] = round(cpu_time, 6)
        out.update(
            {
                "list": {"concats": self.list_concats},
                "sets": {"number": self.sets, "elements": self.set_elements},
                "nrOpUpdates": self.op_updates,
                "nrOpUpdateValuesCopied": self.op_update_values_copied,
                "nrThunks": self.thunks,
                "nrLookups": self.lookups,
                "nrPrimOpCalls": self.primop_calls,
                "nrFunctionCalls": self.function_calls,
            }
        )
        return out


class Counter:
    """The profile function that counts into an :class:`EvalStats` (see :func:`sys.setprofile`)."""

    def __init__(self, stats: EvalStats) -> None:
        self.stats = stats
        #: what each code object seen so far counts as (None: nothing)
        self._kinds: dict[object, str | None] = {}

    def _kind(self, code: Any) -> str | None:
        kind = self._kinds.get(code, "")
        if kind == "":
            name = code.co_filename.replace("\\", "/")
            kind = None
            for (suffix, qualname), counter in _COUNTED.items():
                if code.co_qualname == qualname and name.endswith("tvix_eval/" + suffix):
                    kind = counter
                    break
            self._kinds[code] = kind
        return kind

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            kind = self._kind(frame.f_code)
            if kind is None:
                return
            stats = self.stats
            setattr(stats, kind, getattr(stats, kind) + 1)
            if kind == "sets":
                stats.set_elements += len(frame.f_locals["d"])
        elif event == "return" and arg is not None and self._kind(frame.f_code) == "op_updates":
            operands = frame.f_locals
            if arg is not operands.get("a") and arg is not operands.get("b"):
                # a new set (with an empty side, C++ Nix too returns the other one as it is)
                stats = self.stats
                stats.op_update_values_copied += len(arg.d)
                stats.sets += 1
                stats.set_elements += len(arg.d)

    def install(self) -> Any:
        """Count on this thread from now on; returns what to pass to :meth:`remove`."""
        previous = sys.getprofile()
        sys.setprofile(self)
        return previous

    @staticmethod
    def remove(previous: Any) -> None:
        sys.setprofile(previous)
