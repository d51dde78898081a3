"""``tvix-store mount``: the store as a read-only FUSE filesystem."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tvix_store.cli.common import BlobAddr, DirectoryAddr, PathInfoAddr, fail, open_services


def mount(
    mountpoint: Annotated[Path, typer.Argument(help="an existing empty directory")],
    *,
    list_root: Annotated[
        bool, typer.Option("--list-root", "-l", help="allow listing the store's root")
    ] = False,
    threads: Annotated[
        bool, typer.Option("--threads/--single-thread", help="serve requests concurrently")
    ] = True,
    blob_service_addr: BlobAddr = None,
    directory_service_addr: DirectoryAddr = None,
    path_info_service_addr: PathInfoAddr = None,
) -> None:
    """Mount the store read-only at MOUNTPOINT until unmounted or interrupted."""
    from tvix_store.fs.mount import FuseUnavailableError, mount_store

    if not mountpoint.is_dir():
        raise fail(f"mount point '{mountpoint}' is not a directory")
    with open_services(blob_service_addr, directory_service_addr, path_info_service_addr) as s:
        try:
            mount_store(
                s.blobs, s.directories, s.path_infos, str(mountpoint),
                list_root=list_root, threads=threads, foreground=True,
            )  # fmt: skip
        except FuseUnavailableError as e:
            raise fail(str(e)) from None
