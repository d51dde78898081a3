"""Mounting :class:`~tvix_store.fs.operations.StoreFs` with libfuse through mfusepy."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from tvix_castore.blobservice.base import BlobService
from tvix_castore.directoryservice.base import DirectoryService

from tvix_store.fs.operations import StoreFs
from tvix_store.pathinfoservice.base import PathInfoService

__all__ = ["FuseUnavailableError", "fuse_unavailable_reason", "mount_store"]

ATTR_TIMEOUT = 3600.0
"""Seconds the kernel may cache attributes and names (store contents never change)."""

SWITCH_INTERVAL = 0.0002
"""The GIL switch interval while serving FUSE requests, in seconds.

libfuse calls in from several threads; with Python's default of 5 ms a
request waiting for the GIL stalls the kernel's readahead, and sequential
reads drop from hundreds to tens of MB/s.
"""


class FuseUnavailableError(Exception):
    """FUSE cannot be used here: no /dev/fuse, no libfuse, or no mfusepy."""


def _load_fuse() -> Any:
    try:
        import mfusepy  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        try:
            import fuse as mfusepy  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            raise FuseUnavailableError("mfusepy is not installed (pip install mfusepy)") from None
    except OSError as e:
        raise FuseUnavailableError(f"libfuse could not be loaded: {e}") from None
    return mfusepy


def fuse_unavailable_reason() -> str | None:
    """Why mounting cannot work on this machine, or None if it should."""
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse does not exist"
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return "/dev/fuse is not accessible"
    if shutil.which("fusermount3") is None and shutil.which("fusermount") is None:
        return "fusermount3 is not installed"
    try:
        _load_fuse()
    except FuseUnavailableError as e:
        return str(e)
    return None


MAX_IDLE_THREADS = 10
"""Idle worker threads libfuse 3 keeps around (its default pool holds at most 10 threads)."""


def _thread_options(fuse: Any, threads: bool) -> dict[str, int]:
    """Options for libfuse 3's multi-threaded loop, which mfusepy leaves at their defaults.

    libfuse 3.14 leaves ``max_idle_threads`` at "unlimited" (UINT_MAX) unless
    told otherwise, and then rejects that very value with "Ignoring invalid max
    threads value 4294967295 > max (100000)." on stderr at every mount; an
    explicit bound keeps it quiet. libfuse 2 knows no such option.
    """
    if not threads or getattr(fuse, "fuse_version_major", 2) < 3:
        return {}
    return {"max_idle_threads": MAX_IDLE_THREADS}


def mount_store(
    blob_service: BlobService,
    directory_service: DirectoryService,
    path_info_service: PathInfoService,
    mountpoint: str,
    *,
    list_root: bool = False,
    threads: bool = True,
    foreground: bool = True,
) -> None:
    """Serve the store at ``mountpoint`` until it is unmounted (blocks)."""
    reason = fuse_unavailable_reason()
    if reason is not None:
        raise FuseUnavailableError(f"cannot mount: {reason}")
    fuse = _load_fuse()
    operations = StoreFs(blob_service, directory_service, path_info_service, list_root=list_root)
    previous_interval = sys.getswitchinterval()
    if threads:
        sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        fuse.FUSE(
            operations,
            mountpoint,
            foreground=foreground,
            nothreads=not threads,
            ro=True,
            fsname="tvix-store",
            subtype="tvix-store",
            use_ino=True,
            kernel_cache=True,
            default_permissions=True,
            attr_timeout=ATTR_TIMEOUT,
            entry_timeout=ATTR_TIMEOUT,
            negative_timeout=0,
            **_thread_options(fuse, threads),
        )
    except RuntimeError as e:
        raise FuseUnavailableError(f"mounting {mountpoint} failed: {e}") from None
    finally:
        sys.setswitchinterval(previous_interval)
        operations.close()
