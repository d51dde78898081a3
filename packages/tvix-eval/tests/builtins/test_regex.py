"""builtins.match and builtins.split: POSIX extended regexes as libstdc++ runs them."""

from __future__ import annotations

import random

import pytest
from tvix_eval.builtins.regex import RegexError, match, split_matches, translate

from .conftest import Run, batch, nix_string


def split(pattern: bytes, subject: bytes) -> list[object]:
    out: list[object] = []
    pos = 0
    for start, end, groups in split_matches(pattern, subject):
        out.append(subject[pos:start])
        out.append(groups)
        pos = end
    out.append(subject[pos:])
    return out


@pytest.mark.parametrize(
    ("pattern", "subject", "want"),
    [
        (b"(a|ab)(c|bcd)(d*)", b"abcd", [b"a", b"bcd", b""]),
        (b"a|b", b"b", []),
        (b"(a)|b", b"b", [None]),
        (b"[[:space:]]+([[:alpha:]]+)", b"  abc", [b"abc"]),
        (b"[a\\]", b"\\", []),
        (b"[]a]", b"]", []),
        (b"a^", b"a", None),
        (b".", "é".encode(), None),
        (b"a.c", b"a\nc", []),
        (b"a{1}{2}", b"aa", []),
        (b"a*?", b"aa", []),
        (b"(a|)+", b"aa", [b""]),
        (b"((a)|b)+", b"ab", [b"b", b"a"]),
        (b"[--/]", b".", []),
        (b"[[.a.]]", b"a", []),
        (b"x{0}", b"", []),
    ],
)
def test_match(pattern: bytes, subject: bytes, want: list[bytes | None] | None) -> None:
    assert match(pattern, subject) == want


@pytest.mark.parametrize(
    "pattern",
    [
        b"(",
        b"a)",
        b"\\d",
        b"\\w",
        b"(a)\\1",
        b"\\}",
        b"{",
        b"a{",
        b"*a",
        b"a|*b",
        b"[z-a]",
        b"[]",
        b"[a",
        b"a{1,2",
        b"a{,2}",
        b"a{2,1}",
        b"[[:word:]]",
        b"[a-c-e]",
        b"(?:a)",
        b"\\",
    ],
)
def test_invalid(pattern: bytes) -> None:
    with pytest.raises(RegexError):
        translate(pattern)


@pytest.mark.parametrize(
    ("pattern", "subject", "want"),
    [
        (b"(a|ab)", b"abcabc", [b"", [b"ab"], b"c", [b"ab"], b"c"]),
        (b"a*", b"baaac", [b"", [], b"b", [], b"", [], b"c", [], b""]),
        (b"(^a)", b"aaa", [b"", [b"a"], b"aa"]),
        (b"(a$)", b"aaa", [b"aa", [b"a"], b""]),
        (b"(a|ab$)", b"abab", [b"", [b"a"], b"b", [b"ab"], b""]),
        (b"", b"ab", [b"", [], b"a", [], b"b", [], b""]),
        (b"(b|bc)(c?)", b"abcd", [b"a", [b"b", b"c"], b"d"]),
    ],
)
def test_split(pattern: bytes, subject: bytes, want: list[object]) -> None:
    assert split(pattern, subject) == want


# Patterns from a grammar of literals, classes, groups, alternation and quantifiers.
_ATOMS = ["a", "b", "ab", ".", "[ab]", "[^a]", "[[:alpha:]]", "\\.", "x", "-"]
_QUANTIFIERS = ["", "", "*", "+", "?", "{1,2}"]


def random_regex(r: random.Random, depth: int = 2) -> str:
    parts = []
    for _ in range(r.randint(1, 3)):
        if depth > 0 and r.random() < 0.5:
            branches = [random_regex(r, depth - 1) for _ in range(r.choice([1, 2]))]
            atom = "(" + "|".join(branches) + ")"
        else:
            atom = r.choice(_ATOMS)
        parts.append(atom + r.choice(_QUANTIFIERS))
    return "".join(parts)


# (Some generated patterns make libstdc++ backtrack for minutes; these seeds do not.)
@pytest.mark.nix
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_regex_matches_nix(tvix: Run, nix: Run, seed: int) -> None:
    r = random.Random(seed)
    exprs = []
    for _ in range(100):
        pattern = nix_string(random_regex(r))
        subject = nix_string("".join(r.choice("abx.-") for _ in range(r.randint(0, 8))))
        exprs.append(f"builtins.match {pattern} {subject}")
        exprs.append(f"builtins.split {pattern} {subject}")
    src = batch(exprs)
    assert tvix(src) == nix(src)


def test_split_follows_libstdcxx_search() -> None:
    # libstdc++ explores both alternatives but stops shortening loops once it has a match:
    # C++ Nix splits this as [ "" [ "-" "-" null "xa" "xa" ] "x" ]
    pattern = b"(([ab]b+[[:alpha:]]?|-+-*)?|(b+[^a]?){1,2})((..)\\.?|ab?[[:alpha:]])+"
    assert split(pattern, b"-.b--xax") == [b"", [b"-", b"-", None, b"xa", b"xa"], b"x"]


def test_pathological_pattern_terminates() -> None:
    # C++ Nix backtracks (practically) forever here; we give up on exactness and finish
    pattern = b"a*([[:alpha:]]*(.?\\.+|a+-ab*)*(-+[^a]?|[[:alpha:]]*b?)?|[[:alpha:]]{1,2})*(.+\\.+)"
    result = split(pattern, b"aaaabaxa")
    assert len(result) % 2 == 1


@pytest.mark.nix
@pytest.mark.parametrize(
    "src",
    [
        'builtins.match "(" "a"',
        'builtins.split "a{,2}" "a"',
        'builtins.match 1 "a"',
        'builtins.match "a" 1',
        'builtins.match "(.*)" "${builtins.toFile "x" "y"}"',
    ],
)
def test_regex_errors_match_nix(tvix: Run, nix: Run, src: str) -> None:
    assert tvix(src) == nix(src)


@pytest.mark.nix
def test_split_follows_libstdcxx_search_like_nix(tvix: Run, nix: Run) -> None:
    # the case above, through builtins.split, and checked against C++ Nix itself
    pattern = nix_string("(([ab]b+[[:alpha:]]?|-+-*)?|(b+[^a]?){1,2})((..)\\.?|ab?[[:alpha:]])+")
    src = f'builtins.split {pattern} "-.b--xax"'
    assert tvix(src) == '[ "" [ "-" "-" null "xa" "xa" ] "x" ]'
    assert tvix(src) == nix(src)
