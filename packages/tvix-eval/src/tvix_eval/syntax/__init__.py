"""Parsing Nix source into the syntax tree of :mod:`tvix_eval.syntax.ast`.

``parse(source, file)`` is the run-time entry point: a hand-written tokenizer
and precedence-climbing parser that uses only the standard library. The PEG
grammar in ``grammar.peg`` is the readable reference for the same language;
tests check that both build identical trees.
"""

from __future__ import annotations

from typing import Any

from tvix_eval.syntax.ast import Expr, Source, Span

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tvix_eval.syntax.parser import parse

__all__ = ["Expr", "Source", "Span", "parse"]


def __getattr__(name: str) -> Any:
    # the parser (and its lexer's big regular expressions, 15 ms to compile) loads only when
    # something is parsed: files usually come from the parse cache
    if name == "parse":
        from tvix_eval.syntax.parser import parse

        return parse
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
