"""String builtins: ``substring``, ``stringLength``, ``concatStringsSep``, ``replaceStrings``,
``baseNameOf``, ``dirOf``, ``toPath``.

Nix strings are byte strings; these functions count and cut bytes as C++ Nix does, and keep the
string context of their inputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tvix_eval.builtins._util import c_int, from_bytes, to_bytes, with_context_of
from tvix_eval.builtins.registry import builtin
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import (
    canon_path,
    coerce_to_string,
    expect_int,
    expect_list,
    expect_string,
)
from tvix_eval.runtime.values import NixPath, NixString, Value


def no_context(v: Value) -> str:
    """C++ ``forceStringNoCtx``: a string that must not refer to store paths."""
    s = expect_string(v)
    if type(s) is NixString:
        example = sorted(s.context)[0].lstrip("=")
        if example.startswith("!"):
            example = example.split("!", 2)[2]
        raise EvalError(
            f"the string '{s}' is not allowed to refer to a store path (such as '{example}')"
        )
    return s


# --------------------------------------------------------------------------- pure logic


def substring_bytes(start: int, length: int, s: str) -> str:
    """``builtins.substring`` on the bytes of ``s`` (``start``/``length`` already C ints)."""
    if start < 0:
        raise EvalError("negative start position in 'substring'")
    if s.isascii():
        if start >= len(s):
            return ""
        return s[start:] if length < 0 else s[start : start + length]
    b = to_bytes(s)
    if start >= len(b):
        return ""
    return from_bytes(b[start:] if length < 0 else b[start : start + length])


def base_name_of(path: str) -> str:
    """C++ ``baseNameOf``: the last component, ignoring one trailing slash."""
    if not path:
        return ""
    last = len(path) - 1
    if path[last] == "/" and last > 0:
        last -= 1
    pos = path.rfind("/", 0, last + 1)
    pos = 0 if pos < 0 else pos + 1
    return path[pos : last + 1]


def dir_of(path: str) -> str:
    """C++ ``dirOf``: everything before the last slash; ``.`` or ``/`` when that is empty."""
    pos = path.rfind("/")
    if pos < 0:
        return "."
    return "/" if pos == 0 else path[:pos]


def replace_strings(froms: list[str], to: Callable[[int], str], s: str) -> tuple[str, list[int]]:
    """Replace, scanning ``s`` left to right and trying ``froms`` in order at each position.

    ``to(i)`` gives the replacement for ``froms[i]`` (forced only when used); returns the result
    and the indices of the replacements used. An empty pattern matches between any two bytes and
    at the end, and the byte after it is copied, as in C++ Nix.
    """
    used: list[int] = []
    if not froms:
        return s, used
    if "" in froms:
        return _replace_with_empty(froms, to, s, used), used
    if len(froms) == 1:
        f = froms[0]
        if f not in s:
            return s, used
        used.append(0)
        return s.replace(f, to(0)), used
    # A regex alternation tries its branches in order at each position, as Nix does; splitting
    # on it (with a group) gives the text between matches and the matches themselves.
    parts = _alternation(tuple(froms)).split(s)
    if len(parts) == 1:
        return s, used
    matches = parts[1::2]
    index = {f: i for i, f in reversed(list(enumerate(froms)))}
    replacement: dict[str, str] = {}
    for m in dict.fromkeys(matches):  # the distinct matches, in order of first use
        i = index[m]
        replacement[m] = to(i)
        used.append(i)
    parts[1::2] = [replacement[m] for m in matches]
    return "".join(parts), used


_ALTERNATIONS: dict[tuple[str, ...], re.Pattern[str]] = {}


def _alternation(froms: tuple[str, ...]) -> re.Pattern[str]:
    """``(from1|from2|…)`` matching the (non-empty) patterns literally."""
    rx = _ALTERNATIONS.get(froms)
    if rx is None:
        if len(_ALTERNATIONS) > 256:
            _ALTERNATIONS.clear()
        alternation = "|".join(re.escape(f) for f in froms)
        rx = _ALTERNATIONS[froms] = re.compile(f"({alternation})", re.S)
    return rx


def _replace_with_empty(froms: list[str], to: Callable[[int], str], s: str, used: list[int]) -> str:
    bs = to_bytes(s)
    bfroms = [to_bytes(f) for f in froms]
    cache: dict[int, bytes] = {}
    out: list[bytes] = []
    p = 0
    n = len(bs)
    while p <= n:
        for i, f in enumerate(bfroms):
            if bs.startswith(f, p):
                r = cache.get(i)
                if r is None:
                    r = cache[i] = to_bytes(to(i))
                    used.append(i)
                out.append(r)
                if f:
                    p += len(f)
                else:
                    out.append(bs[p : p + 1])
                    p += 1
                break
        else:
            out.append(bs[p : p + 1])
            p += 1
    return from_bytes(b"".join(out))


# --------------------------------------------------------------------------- builtins


@builtin("stringLength", 1)
def _string_length(s: Value) -> int:
    """The length of a string in bytes."""
    text = s if type(s) is str else coerce_to_string(s)
    return len(text) if text.isascii() else len(to_bytes(text))


@builtin("substring", 3)
def _substring(start: Value, length: Value, s: Value) -> str:
    """The bytes ``start`` to ``start + length`` of a string (to the end if ``length`` < 0)."""
    a = c_int(start if type(start) is int else expect_int(start))
    n = c_int(length if type(length) is int else expect_int(length))
    text = s if type(s) is str else coerce_to_string(s)
    if a < 0:
        raise EvalError("negative start position in 'substring'")
    if type(text) is str:
        if text.isascii():
            return text[a:] if n < 0 else text[a : a + n]
        return substring_bytes(a, n, text)
    return with_context_of(substring_bytes(a, n, text), text)


@builtin("concatStringsSep", 2)
def _concat_strings_sep(sep: Value, xs: Value) -> str:
    """Join the (coerced) elements of a list with a separator."""
    separator = expect_string(sep)
    items = expect_list(xs)
    parts = [coerce_to_string(x) for x in items]
    return with_context_of(separator.join(parts), separator, *parts)


def _forced_string(v: Value) -> str:
    return v if type(v) is str else expect_string(v)


@builtin("replaceStrings", 3)
def _replace_strings(froms: Value, tos: Value, s: Value) -> str:
    """Replace every occurrence of ``from[i]`` by ``to[i]`` in a string."""
    from_list = froms if type(froms) is list else expect_list(froms)
    to_list = tos if type(tos) is list else expect_list(tos)
    if len(from_list) != len(to_list):
        raise EvalError("'from' and 'to' arguments to 'replaceStrings' have different lengths")
    if len(from_list) == 1:
        pattern = _forced_string(from_list[0])
        patterns = [pattern]
    else:
        patterns = [_forced_string(f) for f in from_list]
        pattern = ""
    text = s if type(s) is str else expect_string(s)
    if pattern:
        # the common case, without the general machinery
        if pattern not in text:
            return text
        replacement = _forced_string(to_list[0])
        result = text.replace(pattern, replacement)
        if type(text) is str and type(replacement) is str:
            return result
        return with_context_of(result, text, replacement)

    def to(i: int) -> str:
        return _forced_string(to_list[i])

    result, used = replace_strings(patterns, to, text)
    if not used and type(text) is str:
        return result
    contexts = [to(i) for i in used]
    return with_context_of(result, text, *contexts)


@builtin("baseNameOf", 1, global_=True)
def _base_name_of(p: Value) -> str:
    """The last component of a path or string."""
    text = coerce_to_string(p, copy_to_store=False)
    return with_context_of(base_name_of(text), text)


@builtin("dirOf", 1, global_=True)
def _dir_of(p: Value) -> Value:
    """The directory part of a path (a path) or string (a string)."""
    if type(p) is NixPath:
        return NixPath(dir_of(p.path))
    text = coerce_to_string(p, copy_to_store=False)
    return with_context_of(dir_of(text), text)


@builtin("toPath", 1)
def _to_path(p: Value) -> str:
    """The canonical form of an absolute path, as a string."""
    text = coerce_to_string(p, copy_to_store=False)
    if not text.startswith("/"):
        raise EvalError(f"string '{text}' doesn't represent an absolute path")
    return with_context_of(canon_path(text), text)
