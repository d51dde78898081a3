"""What every decoder shares: the decoder type and the error helper that records the path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tvix_eval.errors import NixError

from tvix_serde.errors import Error, EvaluationError, PathSegment

#: Takes a Nix value or thunk, returns the Python value (raises :class:`ShapeError`).
Decoder = Callable[[Any], Any]

#: What decoders catch to add their path segment before re-raising.
PASS_THROUGH = (Error, NixError)


def at(exc: Exception, segment: PathSegment) -> Error:
    """``exc`` (ours, or an evaluator error turned into :class:`EvaluationError`) with
    ``segment`` prefixed to its path."""
    if isinstance(exc, Error):
        return exc.push(segment)
    assert isinstance(exc, NixError)
    return EvaluationError(exc).push(segment)
