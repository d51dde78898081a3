"""The error classes of the Nix evaluator and their C++-Nix-style rendering.

Every error a Nix program can cause is a :class:`NixError`: a message and,
when known, the :class:`~tvix_eval.syntax.ast.Span` it refers to.
:meth:`NixError.render` formats it the way C++ Nix 2.8 prints errors::

    error: syntax error, unexpected '}'

           at /tmp/a.nix:1:5:

                1| 1 + }
                 |     ^
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tvix_eval.syntax.ast import Span

__all__ = ["NixError", "NixParseError", "render_position"]


class NixError(Exception):
    """Root of all errors caused by Nix code (as opposed to internal bugs)."""

    def __init__(self, message: str, span: Span | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span

    def __str__(self) -> str:
        if self.span is None:
            return self.message
        line, col = self.span.source.position(self.span.start)
        return f"{self.span.source.name}:{line}:{col}: {self.message}"

    def render(self) -> str:
        """The error as C++ Nix prints it (without a trailing newline)."""
        text = f"error: {self.message}"
        if self.span is not None:
            text += "\n\n" + render_position(self.span)
        return text


class NixParseError(NixError):
    """A syntax error (or another error C++ Nix reports while parsing)."""


def _expand_tabs(line: str) -> str:
    # C++ Nix expands tabs to 8-column stops in the printed code lines.
    out: list[str] = []
    width = 0
    for c in line:
        if c == "\t":
            out.append(" ")
            width += 1
            while width % 8:
                out.append(" ")
                width += 1
        else:
            out.append(c)
            width += 1
    return "".join(out)


def _code_line(number: int, text: str) -> str:
    text = text.rstrip()
    shown = _expand_tabs(" " + text) if text else ""
    return f"{number:>13}|{shown}"


def render_position(span: Span) -> str:
    """``at FILE:LINE:COL:`` followed by the surrounding source lines and a caret."""
    source = span.source
    line, col = source.position(span.start)
    out = [f"       at {source.name}:{line}:{col}:"]
    # C++ Nix counts lines on CR, LF and CRLF but prints code lines split on
    # LF only, so it shows none for a position past the last LF-line. From a
    # file it reads only lines that end in LF (an unterminated last line is
    # dropped); from a string (`-E`) it reads with getline, which also yields
    # the unterminated last line, or an empty one after a final LF.
    lines = source.text.split("\n")
    if not source.name.startswith("«"):
        lines.pop()
    if line > len(lines):
        return out[0]
    out.append("")
    if line > 1:
        out.append(_code_line(line - 1, lines[line - 2]))
    out.append(_code_line(line, lines[line - 1]))
    out.append(" " * 13 + "|" + " " * col + "^")
    if line < len(lines):
        out.append(_code_line(line + 1, lines[line]))
    return "\n".join(out)
