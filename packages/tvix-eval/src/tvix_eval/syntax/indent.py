"""Indentation stripping of indented strings (``'' ... ''``), as C++ Nix 2.8 does it.

The input is the sequence of pieces between the quotes, each tagged:
0 for literal text (which counts for indentation), 1 for an escape such as
``''$`` or ``''\\n`` (text that does not count: it ends a line's leading
whitespace like an interpolation does), 2 for an interpolated expression.

The minimum indentation is taken over all lines that contain something
other than spaces (a whitespace-only last line does not count), then that
many leading spaces are removed from every line; a final line consisting
only of spaces is dropped. Only spaces count as indentation, never tabs.
"""

from __future__ import annotations

import re

from tvix_eval.syntax.ast import Expr

__all__ = ["strip_indentation"]

_SPACES = re.compile(" *")


def _min_indent(pieces: list[tuple[int, str | Expr]]) -> int:
    at_sol = True
    cur = 0
    min_indent = 1000000
    spaces = _SPACES.match
    for tag, value in pieces:
        if tag != 0:
            if at_sol:
                at_sol = False
                min_indent = min(min_indent, cur)
            continue
        s = value
        assert isinstance(s, str)
        j = 0
        n = len(s)
        while j < n:
            if at_sol:
                m = spaces(s, j)
                assert m is not None
                k = m.end()
                cur += k - j
                j = k
                if j == n:
                    break
                if s[j] == "\n":
                    cur = 0
                    j += 1
                    continue
                at_sol = False
                min_indent = min(min_indent, cur)
            else:
                nl = s.find("\n", j)
                if nl < 0:
                    break
                at_sol = True
                cur = 0
                j = nl + 1
    return min_indent


def strip_indentation(pieces: list[tuple[int, str | Expr]]) -> tuple[str | Expr, ...]:
    """The parts of the string: literal text merged, empty text dropped."""
    if not pieces:
        return ()
    min_indent = _min_indent(pieces)
    spaces = _SPACES.match
    out: list[str | Expr] = []
    at_sol = True
    dropped = 0
    last = len(pieces) - 1
    for idx, (tag, value) in enumerate(pieces):
        if tag == 2:
            assert not isinstance(value, str)
            at_sol = False
            dropped = 0
            out.append(value)
            continue
        s = value
        assert isinstance(s, str)
        buf: list[str] = []
        j = 0
        n = len(s)
        while j < n:
            if at_sol:
                m = spaces(s, j)
                assert m is not None
                k = m.end()
                nsp = k - j
                if nsp:
                    drop = min(nsp, max(0, min_indent - dropped))
                    dropped += nsp
                    if nsp > drop:
                        buf.append(" " * (nsp - drop))
                j = k
                if j == n:
                    break
                if s[j] == "\n":
                    dropped = 0
                    buf.append("\n")
                    j += 1
                    continue
                at_sol = False
                dropped = 0
            else:
                nl = s.find("\n", j)
                if nl < 0:
                    buf.append(s[j:])
                    break
                buf.append(s[j : nl + 1])
                j = nl + 1
                at_sol = True
        text = "".join(buf)
        if idx == last:
            p = text.rfind("\n")
            if p >= 0 and not text[p + 1 :].strip(" "):
                text = text[: p + 1]
        if not text:
            continue
        last_part = out[-1] if out else None
        if isinstance(last_part, str):
            out[-1] = last_part + text
        else:
            out.append(text)
    return tuple(out)
