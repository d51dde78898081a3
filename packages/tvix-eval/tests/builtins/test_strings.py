"""String builtins: replaceStrings, substring, stringLength, baseNameOf, dirOf, toPath…"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tvix_eval.builtins.strings import base_name_of, dir_of, replace_strings, substring_bytes

from .conftest import Run, batch, nix_string


def naive_replace(froms: list[bytes], tos: list[bytes], s: bytes) -> bytes:
    """C++ Nix's replaceStrings loop, transcribed literally."""
    out = b""
    p = 0
    while p <= len(s):
        for f, t in zip(froms, tos, strict=True):
            if s[p : p + len(f)] == f:
                out += t
                if f:
                    p += len(f)
                else:
                    out += s[p : p + 1]
                    p += 1
                break
        else:
            out += s[p : p + 1]
            p += 1
    return out


small = st.text(alphabet="abé-", max_size=3)


@given(st.lists(st.tuples(small, small), max_size=4), st.text(alphabet="abé-x", max_size=12))
def test_replace_strings_matches_model(pairs: list[tuple[str, str]], s: str) -> None:
    froms = [f for f, _ in pairs]
    tos = [t for _, t in pairs]
    got, _ = replace_strings(froms, lambda i: tos[i], s)
    want = naive_replace([f.encode() for f in froms], [t.encode() for t in tos], s.encode())
    assert got.encode("utf-8", "surrogateescape") == want


def test_replace_strings_forces_only_used_replacements() -> None:
    def to(i: int) -> str:
        if i == 1:
            raise AssertionError("forced an unused replacement")
        return "u"

    assert replace_strings(["oo", "XX"], to, "foobar") == ("fubar", [0])


def test_substring_counts_bytes() -> None:
    assert substring_bytes(1, 2, "éa") == "\udca9a"
    assert substring_bytes(0, -1, "abc") == "abc"
    assert substring_bytes(5, 1, "abc") == ""


@pytest.mark.parametrize(
    ("path", "base", "parent"),
    [
        ("/a/b/", "b", "/a/b"),
        ("a//", "", "a/"),
        ("", "", "."),
        ("a", "a", "."),
        ("/a", "a", "/"),
        ("//", "", "/"),
    ],
)
def test_base_name_and_dir(path: str, base: str, parent: str) -> None:
    assert base_name_of(path) == base
    assert dir_of(path) == parent


def test_replace_strings_is_lazy_in_to(tvix: Run) -> None:
    # Newer C++ Nix (and the language test corpus) force only the replacements used;
    # Nix 2.8 forced all of them.
    assert tvix('builtins.replaceStrings ["a"] [(throw "x")] "bcd"') == '"bcd"'


CASES = [
    'builtins.substring 1 2 "hello"',
    'builtins.substring 4294967297 1 "abc"',
    'builtins.substring 1 (-1) "abc"',
    'builtins.substring 1 4294967297 "abcdef"',
    'builtins.substring 0 3 "héllo"',
    'builtins.stringLength "héllo"',
    'builtins.stringLength { outPath = "abc"; }',
    'builtins.replaceStrings ["o"] ["a"] "foobar"',
    'builtins.replaceStrings [""] ["X"] "abc"',
    'builtins.replaceStrings [""] ["X"] ""',
    'builtins.replaceStrings ["" "a"] ["X" "Y"] "ab"',
    'builtins.replaceStrings ["a" ""] ["Y" "X"] "ab"',
    'builtins.replaceStrings ["oo" "o" "f"] ["0" "1" "2"] "foooo"',
    'builtins.concatStringsSep "," ["a" { outPath = "x"; } { __toString = s: "y"; }]',
    'builtins.concatStringsSep "" []',
    'builtins.baseNameOf "/a/b/"',
    'builtins.baseNameOf "a//"',
    'builtins.dirOf "a//b"',
    "builtins.dirOf /.",
    "builtins.dirOf /a/b",
    'builtins.toPath "/a/../b//c/"',
    "builtins.toPath /a/b",
    'builtins.getContext (builtins.substring 0 0 "${builtins.toFile "x" "y"}")',
    'builtins.getContext (builtins.replaceStrings ["b"] ["${builtins.toFile "x" "y"}"] "bcd")',
    'builtins.getContext (builtins.replaceStrings ["a"] ["${builtins.toFile "x" "y"}"] "bcd")',
    'builtins.getContext (builtins.baseNameOf "${builtins.toFile "x" "y"}")',
    'builtins.getContext (builtins.concatStringsSep "${builtins.toFile "x" "y"}" ["a" "b"])',
]


@pytest.mark.nix
def test_strings_match_nix(tvix: Run, nix: Run) -> None:
    src = batch(CASES)
    assert tvix(src) == nix(src)


@pytest.mark.nix
@pytest.mark.parametrize("seed", range(3))
def test_random_replace_strings_match_nix(tvix: Run, nix: Run, seed: int) -> None:
    r = random.Random(seed)
    alphabet = ["a", "b", "é", "-", "\n", "$", "\\", '"', "\t"]

    def word(n: int) -> str:
        return "".join(r.choice(alphabet) for _ in range(r.randint(0, n)))

    exprs = []
    for _ in range(100):
        n = r.randint(0, 3)
        froms = " ".join(nix_string(word(2)) for _ in range(n))
        tos = " ".join(nix_string(word(2)) for _ in range(n))
        subject = nix_string(word(10))
        exprs.append(f"builtins.replaceStrings [{froms}] [{tos}] {subject}")
        start, length = r.randint(-1, 6), r.randint(-2, 6)
        exprs.append(f"builtins.substring {start} ({length}) {subject}")
        exprs.append(f"builtins.stringLength {subject}")
    exprs = [e for e in exprs if "substring -1" not in e]
    src = batch(exprs)
    assert tvix(src) == nix(src)


@pytest.mark.nix
@pytest.mark.parametrize(
    "src",
    [
        'builtins.substring (-1) 1 "abc"',
        "builtins.stringLength 1",
        'builtins.replaceStrings ["a"] [] "abc"',
        'builtins.replaceStrings [1] ["x"] "bcd"',
        "builtins.concatStringsSep 1 []",
        'builtins.concatStringsSep "," [1]',
        "builtins.baseNameOf 1",
        'builtins.toPath "a"',
    ],
)
def test_string_errors_match_nix(tvix: Run, nix: Run, src: str) -> None:
    assert tvix(src) == nix(src)
