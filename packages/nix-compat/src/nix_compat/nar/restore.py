"""Unpack a NAR archive onto the filesystem, like ``nix-store --restore``."""

from __future__ import annotations

import os
import stat

from nix_compat.nar.reader import NarDirectory, NarFile, NarReader, NarSymlink
from nix_compat.nar.wire import BinaryReader, FsPath

__all__ = ["restore"]

COPY_CHUNK = 256 * 1024


def restore(nar_stream: BinaryReader, fs_path: FsPath) -> None:
    """Create the tree stored in ``nar_stream`` at ``fs_path``, which must not exist yet.

    Files are created with mode 0666 minus the umask, and executables then get every execute
    bit, as Nix does. The archive is validated while it is unpacked; on :class:`NarError` a
    partial tree is left behind.
    """
    root = os.fsencode(fs_path)
    buffer = bytearray(COPY_CHUNK)
    view = memoryview(buffer)
    for event in NarReader(nar_stream):
        target = os.path.join(root, *event.path) if event.path else root
        if isinstance(event, NarDirectory):
            os.mkdir(target, 0o777)
        elif isinstance(event, NarSymlink):
            os.symlink(event.target, target)
        elif isinstance(event, NarFile):
            fd = os.open(
                target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666
            )
            try:
                with open(fd, "wb", closefd=False) as out:
                    while got := event.contents.readinto(view):
                        out.write(view[:got])
                if event.executable:
                    mode = os.fstat(fd).st_mode
                    os.fchmod(fd, stat.S_IMODE(mode) | 0o111)
            finally:
                os.close(fd)
