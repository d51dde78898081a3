"""Evaluation errors.

Every error a Nix program can cause is an :class:`EvalError` (a
:class:`~tvix_eval.errors.NixError`).
:class:`CatchableError` (``throw``, failed ``assert``, an unresolvable ``<path>``) is what
``builtins.tryEval`` catches; everything else is fatal, as in C++ Nix.

An error carries the C++ Nix message text (without the ``error: `` prefix), the position of the
expression it came from (filled in by the innermost compiled node that knows one) and trace frames
(``… while evaluating …``), shown with ``--show-trace``.
"""

from __future__ import annotations

from tvix_eval.errors import NixError, render_position

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Self

    from tvix_eval.syntax.ast import Span


class EvalError(NixError):
    """A fatal evaluation error with a C++-Nix-style message.

    ``positioned=False`` marks errors C++ Nix reports without a location (``throw``, ``abort``,
    comparing incomparable values): positions attached while the error travels up are ignored.
    """

    positioned = True

    def __init__(
        self, message: str, pos: Any = None, hint: str | None = None, *, positioned: bool = True
    ) -> None:
        NixError.__init__(self, message, None)
        self._pos: Any = pos
        #: ``(frame text, position)`` until the call site is known (:meth:`while_calling`)
        self._call_frame: tuple[str, Any] | None = None
        self.hint = hint
        #: ``(pos, text, always)``; ``always`` frames are recorded by C++ Nix even without
        #: ``--show-trace`` (and make it print the ``(use '--show-trace' …)`` hint)
        self.trace: list[tuple[Any, str, bool]] = []
        if not positioned or (not type(self).positioned and pos is None):
            self.positioned = False

    @property
    def pos(self) -> Any:
        """The syntax node (or span) the error is reported at, once known."""
        return self._pos

    @pos.setter
    def pos(self, pos: Any) -> None:
        pending = self._call_frame
        if pending is not None and pos is not None:
            # the first position attached is the call site of the builtin (``while_calling``)
            self._call_frame = None
            text, arg_pos = pending
            self._pos = pos if arg_pos is None else arg_pos
            self.add_trace(pos, text, True)
            return
        self._pos = pos

    def while_calling(self, text: str, arg_pos: Any = None) -> Self:
        """Add C++ Nix's ``… text`` frame at the call site of the builtin raising this error,
        once the call site attaches its position; the error itself is then reported at
        ``arg_pos``, or (without one) where it would have been reported anyway. An error that
        already has its position gets the frame without one (the call site is not known here)."""
        if self._pos is None:
            self._call_frame = (text, arg_pos)
        else:
            self.add_trace(None, text, True)
        return self

    def invoking(self, name: str, arg_pos: Any) -> Self:
        """Report the error as C++ Nix does for a bad argument set of a builtin: at ``arg_pos``
        (where the set was written) with a ``… while invoking 'name'`` frame at the call site.
        Without ``arg_pos`` (a set not written as a literal) it is reported at the call site."""
        if arg_pos is not None:
            self.while_calling(f"while invoking '{name}'", arg_pos)
        return self

    def at(self, pos: Any) -> EvalError:
        """Attach ``pos`` unless the error already has a position; returns ``self``."""
        if self.pos is None:
            self.pos = pos
        return self

    def add_trace(self, pos: Any, text: str, always: bool = False) -> None:
        """Record one ``… while …`` frame (outermost last)."""
        self.trace.append((pos, text, always))

    def __str__(self) -> str:
        return self.message

    def position(self) -> Span | None:
        """The span the error refers to (from the node that raised it), if known."""
        from tvix_eval.syntax.ast import Span

        if self.span is not None:
            return self.span
        pos = self.pos
        if pos is None or not self.positioned:
            return None
        if isinstance(pos, Span):
            return pos
        return Span(pos.source, pos.start, pos.end)

    def render(self, show_trace: bool = False) -> str:
        """The error as C++ Nix prints it (without a trailing newline)."""
        pending = self._call_frame
        if pending is not None:
            # the builtin was called where no position is known (from another builtin)
            self._call_frame = None
            text, arg_pos = pending
            self._pos = arg_pos
            self.add_trace(None, text, True)
        text = f"error: {self.message}"
        span = self.position()
        if span is not None:
            text += "\n\n" + render_position(span)
        if self.hint:
            text += "\n       " + self.hint
        if show_trace:
            from tvix_eval.syntax.ast import Span

            for pos, what, _ in self.trace:
                text += f"\n\n       … {what}"
                if pos is not None:
                    text += "\n\n" + render_position(Span(pos.source, pos.start, pos.end))
        elif any(always for _, _, always in self.trace):
            text += "\n(use '--show-trace' to show detailed location information)"
        return text


class CatchableError(EvalError):
    """An error ``builtins.tryEval`` catches."""


class ThrownError(CatchableError):
    """``throw msg`` (reported without a location, as C++ Nix does)."""

    positioned = False


class AssertionFailed(CatchableError):
    """A failed ``assert``."""


class AbortError(EvalError):
    """``abort msg``: ends evaluation (reported without a location)."""

    positioned = False


class InfiniteRecursion(EvalError):
    """A thunk was forced while it was being forced."""

    def __init__(self, pos: Any = None) -> None:
        super().__init__("infinite recursion encountered", pos)


class StackOverflow(EvalError):
    """The evaluation recursed deeper than the evaluator's stack allows."""

    def __init__(self, pos: Any = None) -> None:
        super().__init__("stack overflow", pos)


class TypeMismatch(EvalError):
    """A value had the wrong type."""


class MissingAttribute(EvalError):
    """Selecting an attribute that is not there."""


class UndefinedVariable(EvalError):
    """A variable that no scope binds (found before anything runs)."""


class InternalError(EvalError):
    """A bug in the evaluator itself (not caused by the Nix program)."""


def levenshtein(a: str, b: str) -> int:
    """The edit distance between two strings."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def did_you_mean(query: str, candidates: Any) -> str | None:
    """C++ Nix's suggestion hint (``Did you mean a?``): up to 5 names at edit distance <= 2."""
    scored = sorted((levenshtein(query, c), c) for c in candidates)
    best = [c for d, c in scored if d <= 2][:5]
    if not best:
        return None
    if len(best) == 1:
        return f"Did you mean {best[0]}?"
    return f"Did you mean one of {', '.join(best[:-1])} or {best[-1]}?"
