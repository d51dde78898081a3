"""File access for pure loading: reads only below the directories the caller allowed.

Pure evaluation (the default) may still ``import ./common.nix`` next to the loaded file and read
from the search path, as a configuration split over several files needs; everything else on the
file system is refused, as in Nix's restricted mode.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from tvix_eval.io import EvalIOError, FilesystemIO, FileType


class RestrictedIO(FilesystemIO):
    """A :class:`FilesystemIO` confined to ``roots`` (directories, resolved through symlinks)."""

    def __init__(self, roots: Iterable[str]) -> None:
        self.roots = sorted({os.path.realpath(r) for r in roots})

    def _check(self, path: str) -> None:
        real = os.path.realpath(path)
        for root in self.roots:
            if real == root or real.startswith(root.rstrip("/") + "/"):
                return
        raise EvalIOError(f"access to absolute path '{path}' is forbidden in restricted mode")

    def path_exists(self, path: str) -> bool:
        self._check(path)
        return super().path_exists(path)

    def read_file(self, path: str) -> bytes:
        self._check(path)
        return super().read_file(path)

    def read_dir(self, path: str) -> list[tuple[str, FileType]]:
        self._check(path)
        return super().read_dir(path)

    def is_dir(self, path: str) -> bool:
        self._check(path)
        return super().is_dir(path)

    def import_path(self, path: str) -> str:
        self._check(path)
        return super().import_path(path)
