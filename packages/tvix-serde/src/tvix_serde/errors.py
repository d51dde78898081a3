"""The errors ``tvix_serde`` raises for mistakes in the loaded Nix code.

:class:`Error` is the root (a :class:`ValueError`, like :class:`json.JSONDecodeError` and
:class:`tomllib.TOMLDecodeError`). :class:`EvaluationError` wraps an error of the Nix program
itself and renders it like Nix does; :class:`ShapeError` says that a value does not fit the
requested type, naming the path into the value (``foods.olives``) and, where it can be found,
the place in the Nix source that produced it.

Decoders record the path innermost first while an error travels outwards (:meth:`Error.push`),
so the happy path never builds path strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tvix_eval.errors import NixError

__all__ = [
    "Error",
    "EvaluationError",
    "Location",
    "MissingAttributeError",
    "ShapeError",
    "UnknownAttributeError",
    "format_path",
]

#: One step into a value: an attribute name or a list index.
PathSegment = str | int

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*\Z")
_KEYWORDS = frozenset(["if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"])


def _quote(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


def format_path(segments: Iterable[PathSegment]) -> str:
    """A path into a value as Nix attribute-path syntax: ``servers[2].port``, ``a."b c"``."""
    out: list[str] = []
    for seg in segments:
        if isinstance(seg, int):
            out.append(f"[{seg}]")
            continue
        name = seg if _IDENT.match(seg) and seg not in _KEYWORDS else _quote(seg)
        out.append(f".{name}" if out else name)
    return "".join(out)


@dataclass(frozen=True)
class Location:
    """A place in Nix source: file name (``«string»`` for source without a file), line, column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Error(ValueError):
    """Root of the errors caused by the loaded Nix code or by its shape."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self._reversed_path: list[PathSegment] = []

    @property
    def path(self) -> tuple[PathSegment, ...]:
        """Where in the loaded value the error happened (empty for the value itself)."""
        return tuple(reversed(self._reversed_path))

    def push(self, segment: PathSegment) -> Error:
        """Prefix the path with ``segment`` (called by the enclosing decoder); returns ``self``."""
        self._reversed_path.append(segment)
        return self

    def render(self) -> str:
        """The error as the command line prints it."""
        return f"error: {self}"


class EvaluationError(Error):
    """The Nix code failed to evaluate (a syntax error, ``throw``, a type error…).

    ``nix_error`` is the evaluator's error; ``str()`` and :meth:`render` show it as Nix does,
    with its source location, followed by the path of the value being loaded, if any.
    """

    def __init__(self, nix_error: NixError) -> None:
        super().__init__(nix_error.message)
        self.nix_error = nix_error

    def render(self) -> str:
        text: str = self.nix_error.render()
        if self._reversed_path:
            text += f"\n\n       … while loading '{format_path(self.path)}'"
        return text

    def __str__(self) -> str:
        return self.render()


class ShapeError(Error):
    """A value does not have the shape the target type asks for.

    ``message`` says what is wrong (``expected a string, got 42``), :attr:`path` where, and
    :attr:`location` which Nix source produced the offending value, when it could be found.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.location: Location | None = None
        self._span: Any = None

    @classmethod
    def expected(cls, what: str, got: object) -> ShapeError:
        """``expected {what}, got {description of the forced Nix value got}``."""
        from tvix_serde.describe import describe

        return cls(f"expected {what}, got {describe(got)}")

    def __str__(self) -> str:
        text = self.message
        if self._reversed_path:
            text = f"{format_path(self.path)}: {text}"
        if self.location is not None:
            text += f" (at {self.location})"
        return text

    def render(self) -> str:
        text = self.message
        if self._reversed_path:
            text = f"{format_path(self.path)}: {text}"
        text = f"error: {text}"
        if self._span is not None:
            from tvix_eval.errors import render_position

            text += "\n\n" + render_position(self._span)
        return text

    def set_span(self, span: Any) -> None:
        """Record the source span of the offending value (a :class:`tvix_eval.syntax.Span`)."""
        self._span = span
        line, column = span.source.position(span.start)
        self.location = Location(span.source.name, line, column)


class MissingAttributeError(ShapeError):
    """A set lacks an attribute the target type requires; ``name`` is the missing attribute."""

    def __init__(self, name: str) -> None:
        super().__init__(f"missing required attribute '{name}'")
        self.name = name


class UnknownAttributeError(ShapeError):
    """A set has an attribute the target type does not know (see ``ignore_unknown_keys``)."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        import difflib

        choices = sorted(known)
        close = difflib.get_close_matches(name, choices, n=1)
        if close:
            detail = f"did you mean '{close[0]}'?"
        elif choices:
            detail = "expected one of " + ", ".join(format_path([k]) for k in choices)
        else:
            detail = "the set must be empty"
        super().__init__(f"unknown attribute ({detail})")
        self.name = name
