"""POSIX extended regular expressions as C++ Nix evaluates them, on top of Python's ``re``.

C++ Nix compiles ``builtins.match``/``builtins.split`` patterns with libstdc++'s
``std::regex(…, std::regex::extended)``. Its dialect, which :func:`translate` reproduces:

* bytes, not characters (``.`` matches one byte of a UTF-8 sequence) and ``.`` matches newline;
* only ``. [ \\ ( ) * + ? { | ^ $`` may be escaped; ``\\d``, ``\\w``, back-references and any
  other escape are invalid; inside brackets a backslash is an ordinary character;
* bracket expressions with ``[:class:]``, ``[.x.]`` and ``[=x=]``;
* a quantifier must follow an atom; stacked quantifiers (``a*?``) re-quantify, they are never lazy;
* ``^`` and ``$`` are anchors wherever they appear.

Matching is backtracking, like Python's, except that when searching libstdc++ explores every
alternative and keeps the longest match; :func:`split_matches` takes care of that.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from tvix_eval.builtins._util import from_bytes, to_bytes
from tvix_eval.builtins.registry import builtin
from tvix_eval.builtins.strings import no_context
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import expect_string
from tvix_eval.runtime.values import Value

_ESCAPABLE = frozenset(b".[\\()*+?{|^$")

_CLASSES: dict[bytes, str] = {
    b"alnum": "0-9A-Za-z",
    b"alpha": "A-Za-z",
    b"blank": " \\t",
    b"cntrl": "\\x00-\\x1f\\x7f",
    b"digit": "0-9",
    b"graph": "\\x21-\\x7e",
    b"lower": "a-z",
    b"print": "\\x20-\\x7e",
    b"punct": "!-/:-@\\[-`{-~",
    b"space": " \\t\\n\\r\\f\\v",
    b"upper": "A-Z",
    b"xdigit": "0-9A-Fa-f",
    b"d": "0-9",
    b"w": "0-9A-Za-z_",
    b"s": " \\t\\n\\r\\f\\v",
}


class RegexError(ValueError):
    """The pattern is not a valid POSIX extended regular expression."""


def _lit(b: int) -> str:
    return f"\\x{b:02x}"


def _bracket(p: bytes, i: int) -> tuple[str, int]:
    """Translate the bracket expression whose ``[`` is at ``i - 1``; returns (class, next index)."""
    n = len(p)
    negate = False
    if i < n and p[i] == 0x5E:  # ^
        negate = True
        i += 1
    parts: list[str] = []
    first = True
    prev: int | None = None  # the last single byte, a candidate range start
    while True:
        if i >= n:
            raise RegexError("unterminated bracket")
        c = p[i]
        if c == 0x5D and not first:  # ]
            i += 1
            break
        first = False
        if c == 0x5B and i + 1 < n and p[i + 1] in b":.=":
            kind = p[i + 1]
            end = p.find(bytes([kind, 0x5D]), i + 2)
            if end < 0:
                raise RegexError("unterminated bracket")
            name = p[i + 2 : end]
            i = end + 2
            if kind == 0x3A:  # [:class:]
                cls = _CLASSES.get(name)
                if cls is None:
                    raise RegexError("unknown class")
                parts.append(cls)
                prev = None
                if i < n and p[i] == 0x2D and i + 1 < n and p[i + 1] != 0x5D:
                    raise RegexError("range from a class")
                continue
            if len(name) != 1:
                raise RegexError("collating element")
            c = name[0]
        else:
            i += 1
        if c == 0x2D and prev is not None and i < n and p[i] != 0x5D:
            # a range prev-hi
            hi = p[i]
            i += 1
            if hi == 0x5B and i < n and p[i] in b".=":
                kind = p[i]
                end = p.find(bytes([kind, 0x5D]), i + 1)
                if end < 0 or end != i + 2:
                    raise RegexError("collating element")
                hi = p[i + 1]
                i = end + 2
            if hi < prev:
                raise RegexError("invalid range")
            parts[-1] = f"{_lit(prev)}-{_lit(hi)}"
            prev = None
            if i < n and p[i] == 0x2D and i + 1 < n and p[i + 1] != 0x5D:
                raise RegexError("invalid range")
            continue
        parts.append(_lit(c))
        prev = c
    body = "".join(parts)
    if negate:
        return f"[^{body}]", i
    return f"[{body}]", i


def translate(pattern: bytes, dollar: str = "\\Z") -> str:
    """A Python ``re`` pattern (for bytes) equivalent to the POSIX ERE ``pattern``.

    ``dollar`` is what ``$`` becomes; :func:`_fullmatch_at` uses a never-matching variant when
    it tries a match that ends before the end of the subject.
    """
    out: list[str] = []
    # the start index in ``out`` of the last atom, or None where a quantifier is invalid
    atom: int | None = None
    groups: list[int] = []
    i = 0
    n = len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == 0x5C:  # backslash
            if i >= n or pattern[i] not in _ESCAPABLE:
                raise RegexError("invalid escape")
            atom = len(out)
            out.append(_lit(pattern[i]))
            i += 1
        elif c == 0x5B:  # [
            atom = len(out)
            cls, i = _bracket(pattern, i)
            out.append(cls)
        elif c == 0x28:  # (
            groups.append(len(out))
            out.append("(")
            atom = None
        elif c == 0x29:  # )
            if not groups:
                raise RegexError("unmatched )")
            atom = groups.pop()
            out.append(")")
        elif c == 0x7C:  # |
            out.append("|")
            atom = None
        elif c in b"*+?{":
            if atom is None:
                raise RegexError("nothing to repeat")
            if c == 0x7B:
                end = pattern.find(b"}", i)
                if end < 0:
                    raise RegexError("unterminated brace")
                m = re.fullmatch(rb"([0-9]+)(,([0-9]*))?", pattern[i:end])
                if m is None:
                    raise RegexError("invalid brace")
                lo = int(m.group(1))
                hi = m.group(3)
                if hi and int(hi) < lo:
                    raise RegexError("invalid brace")
                if m.group(2) is None:
                    q = f"{{{lo}}}"
                elif hi:
                    q = f"{{{lo},{int(hi)}}}"
                else:
                    q = f"{{{lo},}}"
                i = end + 1
            else:
                q = chr(c)
            # each quantifier applies to what is before it, so wrap the atom so far
            body = "".join(out[atom:])
            del out[atom:]
            out.append(f"(?:{body}){q}")
        elif c == 0x5E:  # ^
            out.append("\\A")
            atom = len(out) - 1
        elif c == 0x24:  # $
            out.append(dollar)
            atom = len(out) - 1
        elif c == 0x2E:  # .
            atom = len(out)
            out.append("[\\x00-\\xff]")
        else:
            atom = len(out)
            out.append(_lit(c))
    if groups:
        raise RegexError("unmatched (")
    return "".join(out)


@lru_cache(maxsize=512)
def compile_regex(pattern: bytes, dollar: str = "\\Z") -> re.Pattern[bytes]:
    """The compiled (and cached) Python equivalent of ``pattern``; raises :class:`RegexError`."""
    try:
        return re.compile(translate(pattern, dollar).encode("latin-1"))
    except re.error as e:  # e.g. too many groups or a too-large repeat count
        raise RegexError(str(e)) from None


def match(pattern: bytes, subject: bytes) -> list[bytes | None] | None:
    """``builtins.match``: the groups of a match of the whole ``subject``, or ``None``."""
    m = compile_regex(pattern).fullmatch(subject)
    if m is None:
        return None
    return list(m.groups())


@lru_cache(maxsize=512)
def _has_alternation(pattern: bytes) -> bool:
    return b"|" in pattern


@lru_cache(maxsize=512)
def _max_width(pattern: bytes) -> int | None:
    """The longest match ``pattern`` can have, or None when unbounded."""
    import re._parser as sre_parse  # type: ignore[import-not-found]

    rx = compile_regex(pattern)
    hi: int = sre_parse.parse(rx.pattern, rx.flags).getwidth()[1]
    if hi >= sre_parse.MAXREPEAT:
        return None
    return hi


def _fullmatch_at(pattern: bytes, subject: bytes, start: int, end: int) -> re.Match[bytes] | None:
    """A match of exactly ``subject[start:end]`` (``^``/``$`` still refer to the whole subject)."""
    if end < len(subject) and b"$" in pattern:
        return compile_regex(pattern, "(?!)").fullmatch(subject, start, end)
    return compile_regex(pattern).fullmatch(subject, start, end)


def _longest(pattern: bytes, subject: bytes, m: re.Match[bytes]) -> re.Match[bytes]:
    """The longest match starting where ``m`` starts (libstdc++ tries every alternative)."""
    start = m.start()
    width = _max_width(pattern)
    last = len(subject) if width is None else min(len(subject), start + width)
    for end in range(last, m.end(), -1):
        cand = _fullmatch_at(pattern, subject, start, end)
        if cand is not None:
            return cand
    return m


def _approximate_spans(pattern: bytes, subject: bytes) -> Iterator[re.Match[bytes]]:
    """Matches by Python's engine, extended to the longest alternative at each position."""
    rx = compile_regex(pattern)
    pos = 0
    n = len(subject)
    prev_empty_at = -1
    while pos <= n:
        m = rx.search(subject, pos)
        if m is None:
            return
        if m.end() == m.start() == prev_empty_at:
            # after an empty match: a non-empty match here, else search from the next byte
            m2 = _nonempty_at(pattern, subject, pos)
            if m2 is None:
                pos += 1
                continue
            m = m2
        else:
            m = _longest(pattern, subject, m)
        yield m
        prev_empty_at = m.end() if m.end() == m.start() else -1
        pos = m.end()


Span = tuple[int, int, list[bytes | None]]


@lru_cache(maxsize=128)
def _program(pattern: bytes) -> Any:
    from tvix_eval.builtins._posix_exec import Program

    return Program(compile_regex(pattern))


def split_matches(pattern: bytes, subject: bytes) -> list[Span]:
    """The successive matches ``builtins.split`` uses (``std::sregex_iterator``).

    Without alternation Python's engine finds what libstdc++ finds. With it, libstdc++'s own
    search is replayed (:mod:`._posix_exec`); for inputs too large for that, Python's engine
    is extended to the longest alternative, which agrees except in contrived patterns.
    """
    rx = compile_regex(pattern)
    if _has_alternation(pattern):
        from tvix_eval.builtins._posix_exec import split_spans

        try:
            program = _program(pattern)
        except Exception:  # a construct the replay does not model: use the approximation
            program = None
        spans = split_spans(program, subject) if program is not None else None
        if spans is not None:
            return [
                (a, b, [None if g is None else subject[g[0] : g[1]] for g in groups])
                for a, b, groups in spans
            ]
        return [
            (m.start(), m.end(), list(m.groups())) for m in _approximate_spans(pattern, subject)
        ]
    return [(m.start(), m.end(), list(m.groups())) for m in rx.finditer(subject)]


def _nonempty_at(pattern: bytes, subject: bytes, pos: int) -> re.Match[bytes] | None:
    for end in range(len(subject), pos, -1):
        m = _fullmatch_at(pattern, subject, pos, end)
        if m is not None:
            return m
    return None


# --------------------------------------------------------------------------- builtins


def _group(b: bytes | None) -> str | None:
    return None if b is None else from_bytes(b)


def _compiled(pattern: str) -> bytes:
    p = to_bytes(pattern)
    try:
        compile_regex(p)
    except RegexError:
        raise EvalError(f"invalid regular expression '{pattern}'") from None
    return p


#: ``builtins.match``'s compiled patterns by their Nix text (a program uses a few, often)
_MATCHERS: dict[str, re.Pattern[bytes]] = {}


def _matcher(pattern: str) -> re.Pattern[bytes]:
    rx = _MATCHERS.get(pattern)
    if rx is None:
        rx = compile_regex(_compiled(pattern))
        if len(_MATCHERS) >= 512:
            _MATCHERS.clear()
        _MATCHERS[pattern] = rx
    return rx


@builtin("match", 2)
def _match(regex: Value, s: Value) -> Value:
    """The capture groups if the POSIX regex matches the whole string, else null."""
    rx = _matcher(no_context(regex))
    m = rx.fullmatch(to_bytes(expect_string(s)))
    if m is None:
        return None
    return [None if g is None else from_bytes(g) for g in m.groups()]


@builtin("split", 2)
def _split(regex: Value, s: Value) -> list[Value]:
    """The string cut at every match: text, list of captures, text, …, text."""
    p = _compiled(no_context(regex))
    text = expect_string(s)
    subject = to_bytes(text)
    out: list[Value] = []
    pos = 0
    spans = split_matches(p, subject)
    if not spans:
        return [text]
    for start, end, groups in spans:
        out.append(from_bytes(subject[pos:start]))
        out.append([_group(g) for g in groups])
        pos = end
    out.append(from_bytes(subject[pos:]))
    return out
