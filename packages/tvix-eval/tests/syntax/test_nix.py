"""Differential tests against C++ Nix (`nix-instantiate --parse`)."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from syntax_helpers import NIX, NixShow, corpus_files, exprs, nix_parse
from test_errors import ERRORS
from tvix_eval.errors import NixParseError
from tvix_eval.syntax import ast as A
from tvix_eval.syntax import parse
from tvix_eval.syntax.printer import pretty

pytestmark = [
    pytest.mark.nix,
    pytest.mark.skipif(NIX is None, reason="nix-instantiate (C++ Nix) is not installed"),
]

HOME = os.path.expanduser("~")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("nixparse"))


@pytest.fixture(scope="module")
def nix_errors(workdir: str) -> dict[str, tuple[bool, str]]:
    """C++ Nix's verdict on every entry of ERRORS (run in parallel)."""
    texts = [e[0] for e in ERRORS]
    with ThreadPoolExecutor(8) as pool:
        return dict(zip(texts, pool.map(lambda t: nix_parse(t, workdir), texts), strict=False))


@pytest.mark.parametrize(("text", "message", "line", "column"), ERRORS, ids=[e[0] for e in ERRORS])
def test_error_messages_match_nix(
    text: str, message: str, line: int, column: int, nix_errors: dict[str, tuple[bool, str]]
) -> None:
    ok, out = nix_errors[text]
    assert not ok
    with pytest.raises(NixParseError) as info:
        parse(text)
    assert info.value.render() == out.rstrip("\n")
    if "already defined" not in message:
        assert f"«string»:{line}:{column}:" in out


CORPUS = corpus_files()


def _nix_verdict(path: Path) -> int | None:
    """None if C++ Nix accepts the file (or only reports an undefined
    variable, which is not a syntax error here), else its exit status."""
    assert NIX is not None
    proc = subprocess.run(
        [NIX, "--parse", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    if proc.returncode == 0 or "undefined variable" in proc.stderr:
        return None
    return proc.returncode


@pytest.fixture(scope="module")
def nix_corpus() -> dict[Path, int | None]:
    with ThreadPoolExecutor(8) as pool:
        return dict(zip(CORPUS, pool.map(_nix_verdict, CORPUS), strict=False))


@pytest.mark.skipif(not CORPUS, reason="the seed test corpus (../shared) is not available")
@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_corpus_accepted_like_nix(path: Path, nix_corpus: dict[Path, int | None]) -> None:
    verdict = nix_corpus[path]
    try:
        parse(path.read_bytes(), str(path))
        ours_rejects = False
    except NixParseError:
        ours_rejects = True
    if verdict is not None and verdict < 0:
        # C++ Nix 2.8 crashes on parse-fail-eof-in-string.nix; it must fail.
        assert ours_rejects
    else:
        assert ours_rejects == (verdict is not None)


SHOW = [
    "1",
    "1.5",
    "1.0e10",
    "0.1",
    "123456789.123",
    "2.5e-7",
    '"a${x}b\\n\\t\\r\\\\ $ ${"$"} \\"q\\" $${x}"',
    '"${x}"',
    "''\n  a\n  ${x}\n  b''",
    "{a, b ? 1, ...}@args: a",
    "args@{a}: a",
    "{}: 1",
    "{ ... }: 1",
    "x: -x",
    "1 - 2 * 3 / 4",
    "a < b && a > b || a <= b -> a >= b",
    "x // y ++ y",
    "x ? a.b",
    'x.a.${"b"}.${x}.c or 3',
    "./a/${x}/b",
    "~/a/${x}",
    "./a/b/../c/./d",
    "/a/b",
    "<a> {}",
    "(f a) b",
    "(a < b) c",
    "{ b = 1; a = 2; inherit c; inherit (d) e f; B = 3; _x = 4; }",
    "{ a = { b = 1; }; a.c = 2; }",
    "{ a.b = 1; a = { c = 3; }; }",
    "{ x.${y}.z = 1; }",
    '{ "" = 1; "1a" = 2; "a-b" = 3; "if" = 4; or = 5; }',
    "let inherit a; b = 1; c = 2; in b",
    "let { body = 1; }",
    "rec { a = 1; }",
    "with x; y",
    "assert x; x",
    "if x then 1 else 2",
    '[1 "a" ./. (f x) (x: x)]',
    "http://x.org/a?b",
    "x.or",
    "f a or b",
    "!x",
    "-(-1)",
    '1 + 2 + "a"',
    "__curPos",
]


def _show_batch(items: list[A.Expr], workdir: str, text: str) -> None:
    ok, out = nix_parse("with {}; " + text, workdir)
    assert ok, out
    show = NixShow(workdir, HOME)
    expected = "(with { }; " + show.show(parse(text)) + ")"
    assert out == expected


def test_show_matches_nix(workdir: str) -> None:
    text = "[ " + " ".join(f"({s})" for s in SHOW) + " ]"
    _show_batch([], workdir, text)


# C++ Nix prints formals and `let` bindings in symbol-table order (the order
# names were first seen, including its own builtins), so those are left to
# the fixed cases above; floats print with 6 digits and do not round-trip.
_UNSHOWABLE = (A.Formals, A.Let, A.Float)


def _showable(e: A.Expr) -> bool:
    todo: list[object] = [e]
    while todo:
        x = todo.pop()
        if isinstance(x, _UNSHOWABLE):
            return False
        if isinstance(x, A.Node):
            todo.extend(getattr(x, f) for f in type(x).__slots__)
        elif isinstance(x, tuple):
            todo.extend(x)
    return True


_SIMPLE_SHOWABLE = exprs(max_leaves=10).filter(_showable)


@settings(max_examples=8, deadline=None)
@given(st.lists(_SIMPLE_SHOWABLE, min_size=5, max_size=10))
def test_generated_programs_match_nix(workdir: str, items: list[A.Expr]) -> None:
    text = "[ " + " ".join(f"({pretty(e)})" for e in items) + " ]"
    _show_batch(items, workdir, text)
