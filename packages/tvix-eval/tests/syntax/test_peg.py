"""The reference PEG grammar and the run-time parser agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from syntax_helpers import TOKENS, corpus_files, exprs
from tvix_eval.errors import NixParseError
from tvix_eval.syntax import parse
from tvix_eval.syntax.ast import to_data
from tvix_eval.syntax.peg import peg_parse
from tvix_eval.syntax.printer import pretty

CORPUS = corpus_files()


def both(text: str) -> tuple[object, object]:
    results = []
    for fn in (parse, peg_parse):
        try:
            results.append(to_data(fn(text)))
        except NixParseError:
            results.append("rejected")
    return results[0], results[1]


@pytest.mark.skipif(not CORPUS, reason="the seed test corpus (../shared) is not available")
@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_corpus_identical(path: Path) -> None:
    text = path.read_bytes().decode("utf-8", "replace")
    ours, reference = both(text)
    assert ours == reference


@settings(max_examples=100, deadline=None)
@given(exprs())
def test_generated_programs_identical(e: object) -> None:
    text = pretty(e)  # type: ignore[arg-type]
    assert to_data(peg_parse(text)) == to_data(parse(text)) == to_data(e)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join))
def test_token_soup_agrees(text: str) -> None:
    ours, reference = both(text)
    assert ours == reference


@pytest.mark.parametrize(
    "text",
    [
        "{ a = 1; a = 2; }",
        "{ a.b = 1; a.b = 2; }",
        "{ a = 1; a.b = 2; }",
        "{ inherit a; a = 1; }",
        "{ a.b = 1; a = { b = 2; }; }",
        "let ${a} = 1; in 1",
        "{ inherit ${a}; }",
        "{ a, a }: 1",
        "a@{ a }: 1",
        "1 == 2 == 3",
        "1 < 2 < 3",
        "a/b/",
        "9223372036854775808",
        "1.0e999",
        '"abc',
        "''abc",
        "/* abc",
        "{ a }",
        "\0",
    ],
)
def test_both_reject(text: str) -> None:
    assert both(text) == ("rejected", "rejected")
