"""What the ``tvix-store`` commands share: service URL options, opening services, error exits.

The blob and directory options, :func:`fail` and the import progress bar are
tvix-castore's (:mod:`tvix_castore.cli`), re-exported here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from nix_compat.errors import NixCompatError
from nix_compat.store_path import StorePath
from tvix_castore.blobservice.base import BlobService
from tvix_castore.cli import (
    BlobAddr,
    DirectoryAddr,
    RichImportProgress,
    fail,
    progress_bar,
)
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import CastoreError

from tvix_store.cli.plain import default_store_url, split_store_path
from tvix_store.pathinfoservice.base import PathInfoService

__all__ = [
    "BlobAddr",
    "DirectoryAddr",
    "PathInfoAddr",
    "RichImportProgress",
    "Services",
    "default_store_url",
    "fail",
    "open_services",
    "parse_store_path",
    "progress_bar",
]


PathInfoAddr = Annotated[
    str | None,
    typer.Option(
        "--path-info-service-addr",
        envvar="PATH_INFO_SERVICE_ADDR",
        help="PathInfoService URL [default: lmdb in the XDG data dir]",
        show_default=False,
    ),
]


@dataclass
class Services:
    """The three open services a command works with."""

    blobs: BlobService
    directories: DirectoryService
    path_infos: PathInfoService


@contextmanager
def open_services(
    blob_addr: str | None, directory_addr: str | None, path_info_addr: str | None
) -> Iterator[Services]:
    """Open the services (closing them afterwards); user and store errors become one line."""
    from tvix_castore.registry import blob_service_from_url, directory_service_from_url

    from tvix_store.pathinfoservice.registry import path_info_service_from_url

    opened: list[Any] = []
    try:
        try:
            blobs = blob_service_from_url(blob_addr or default_store_url())
            opened.append(blobs)
            directories = directory_service_from_url(directory_addr or default_store_url())
            opened.append(directories)
            path_infos = path_info_service_from_url(
                path_info_addr or default_store_url(), blobs, directories
            )
            opened.append(path_infos)
        except CastoreError as e:
            raise fail(str(e)) from None
        try:
            yield Services(blobs, directories, path_infos)
        except (CastoreError, NixCompatError) as e:
            raise fail(str(e)) from None
        except BrokenPipeError:
            # The reader of our stdout went away (`| head`): not an error worth a message.
            _silence_stdout()
            raise typer.Exit(1) from None
    finally:
        for service in reversed(opened):
            service.close()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not complain."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def parse_store_path(text: str) -> tuple[StorePath, str]:
    """``/nix/store/<hash>-<name>[/sub/path]`` (or the base name alone) and the sub path."""
    try:
        return split_store_path(text)
    except NixCompatError as e:
        raise fail(str(e)) from None
