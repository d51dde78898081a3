"""Parsing Nix source into the syntax tree of :mod:`tvix_eval.syntax.ast`.

``parse(source, file)`` is the run-time entry point: a hand-written tokenizer
and precedence-climbing parser that uses only the standard library. The PEG
grammar in ``grammar.peg`` is the readable reference for the same language;
tests check that both build identical trees.
"""

from __future__ import annotations

from tvix_eval.syntax.ast import Expr, Source, Span
from tvix_eval.syntax.parser import parse

__all__ = ["Expr", "Source", "Span", "parse"]
