"""Files of the on-disk caches (parsed trees, compiled code): written whole or not at all, and
pruned least recently used first.

Pathnames are plain strings: the code cache is used by evaluations of expressions, which
should not pay for importing pathlib.
"""

from __future__ import annotations

import contextlib
import os
import threading

#: a store whose file name starts with this prunes the directory (one in 256, by the key)
PRUNE_PREFIX = "00"


def write_whole(path: str, blob: bytes, *, mode: int = 0o644, dir_mode: int = 0o777) -> None:
    """Write ``blob`` to ``path`` under a temporary name and rename it into place, so that
    concurrent readers never see half a file."""
    directory, name = os.path.split(path)
    os.makedirs(directory, mode=dir_mode, exist_ok=True)
    # unique per process and thread; not the tempfile module, whose imports cost milliseconds
    tmp = os.path.join(directory, f".tmp-{os.getpid()}-{threading.get_ident()}-{name}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def prune_now_and_then(path: str, suffix: str, max_entries: int) -> None:
    """After storing ``path``: if its name is one in 256, :func:`prune` its directory."""
    directory, name = os.path.split(path)
    if name.startswith(PRUNE_PREFIX):
        prune(directory, suffix, max_entries)


def prune(directory: str, suffix: str, max_entries: int) -> None:
    """Keep at most ``max_entries`` files ending in ``suffix``: when there are more, remove
    the least recently used (oldest modification time) down to three quarters of it."""
    entries: list[tuple[float, str]] = []
    try:
        with os.scandir(directory) as it:
            for entry in it:
                if entry.name.endswith(suffix) and not entry.name.startswith("."):
                    with contextlib.suppress(OSError):
                        entries.append((entry.stat().st_mtime, entry.path))
    except OSError:
        return
    if len(entries) <= max_entries:
        return
    entries.sort()
    for _, stale in entries[: len(entries) - max_entries * 3 // 4]:
        with contextlib.suppress(OSError):
            os.unlink(stale)
