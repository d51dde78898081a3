"""Whether evaluators use the on-disk caches, and where they are: asked without loading the
parse cache itself (:mod:`tvix_eval.syntax.cache`, with pickle), which an evaluation of
expressions alone never needs."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path as FsPath


def cache_enabled() -> bool:
    """False when ``$TVIX_PARSE_CACHE`` is ``0``: evaluators then parse every file afresh."""
    return os.environ.get("TVIX_PARSE_CACHE", "1") != "0"


def cache_dir() -> FsPath:
    """Where cached trees and compiled code live (not created until something is stored):
    :func:`cache_dir_name` as a path."""
    from pathlib import Path as FsPath

    return FsPath(cache_dir_name())


def cache_dir_name() -> str:
    """``$TVIX_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/tvix-eval/parse``
    (``~/.cache/tvix-eval/parse``); relative when there is no home directory to resolve
    ``~`` against (then nothing is cached)."""
    override = os.environ.get("TVIX_CACHE_DIR")
    if override:
        return override
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "tvix-eval", "parse")
