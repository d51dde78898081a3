"""Commands that add to the store: import and copy-from-nix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from nix_compat.errors import NixCompatError
from nix_compat.store_path import StorePath

from tvix_store.cli.common import (
    BlobAddr,
    DirectoryAddr,
    PathInfoAddr,
    fail,
    open_services,
    progress_bar,
)
from tvix_store.pathinfo import PathInfo


def import_(
    paths: Annotated[list[Path], typer.Argument(help="files, symlinks or directories to add")],
    blob_service_addr: BlobAddr = None,
    directory_service_addr: DirectoryAddr = None,
    path_info_service_addr: PathInfoAddr = None,
) -> None:
    """Add paths to the store like nix-store --add and print their store paths."""
    from tvix_store.importer import import_path, store_path_name_for

    with open_services(blob_service_addr, directory_service_addr, path_info_service_addr) as s:
        for path in paths:
            store_path_name_for(path)
            if not path.exists() and not path.is_symlink():
                raise fail(f"getting status of '{path.absolute()}': No such file or directory")
        for path in paths:
            with progress_bar(f"importing {path.name}") as progress:
                store_path, _ = import_path(
                    path, s.blobs, s.directories, s.path_infos, progress=progress
                )
            typer.echo(store_path.to_absolute_path())


def copy_from_nix(
    store_paths: Annotated[list[str], typer.Argument(help="paths in the Nix store to copy")],
    nix_root: Annotated[
        str | None,
        typer.Option("--nix-root", help="root of a chroot Nix store (nix-store --store ROOT)"),
    ] = None,
    blob_service_addr: BlobAddr = None,
    directory_service_addr: DirectoryAddr = None,
    path_info_service_addr: PathInfoAddr = None,
) -> None:
    """Copy store paths and their closures from an installed Nix; print the paths copied."""
    from tvix_store.nixcopy import NixStore, copy_closure

    try:
        wanted = [StorePath.from_absolute_path(text.rstrip("/")) for text in store_paths]
    except NixCompatError as e:
        raise fail(str(e)) from None

    def report(path: StorePath, info: PathInfo | None) -> None:
        if info is not None:
            typer.echo(f"copied '{path.to_absolute_path()}'", err=True)

    with open_services(blob_service_addr, directory_service_addr, path_info_service_addr) as s:
        copy_closure(NixStore(nix_root), wanted, s.blobs, s.directories, s.path_infos,
                     on_copied=report)  # fmt: skip
        for path in wanted:
            typer.echo(path.to_absolute_path())
