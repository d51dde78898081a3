"""Whether evaluators use the on-disk parse cache: asked when an evaluator is made, without
loading the cache itself (:mod:`tvix_eval.syntax.cache`, with pickle and pathlib), which an
evaluation of expressions alone never needs."""

from __future__ import annotations

import os


def cache_enabled() -> bool:
    """False when ``$TVIX_PARSE_CACHE`` is ``0``: evaluators then parse every file afresh."""
    return os.environ.get("TVIX_PARSE_CACHE", "1") != "0"
