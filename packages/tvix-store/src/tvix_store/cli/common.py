"""What the ``tvix-store`` commands share: service URL options, opening services, error exits."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from nix_compat.errors import NixCompatError
from nix_compat.store_path import StorePath
from tvix_castore.blobservice.base import BlobService
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import CastoreError

from tvix_store.pathinfoservice.base import PathInfoService


def default_store_url() -> str:
    """``lmdb://`` in ``$XDG_DATA_HOME/tvix/store`` (``~/.local/share/tvix/store``)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return f"lmdb://{os.path.abspath(os.path.join(base, 'tvix', 'store'))}"


_DEFAULT_HELP = "[default: lmdb in the XDG data dir]"
BlobAddr = Annotated[
    str | None,
    typer.Option(
        "--blob-service-addr",
        envvar="BLOB_SERVICE_ADDR",
        help=f"BlobService URL {_DEFAULT_HELP}",
        show_default=False,
    ),
]
DirectoryAddr = Annotated[
    str | None,
    typer.Option(
        "--directory-service-addr",
        envvar="DIRECTORY_SERVICE_ADDR",
        help=f"DirectoryService URL {_DEFAULT_HELP}",
        show_default=False,
    ),
]
PathInfoAddr = Annotated[
    str | None,
    typer.Option(
        "--path-info-service-addr",
        envvar="PATH_INFO_SERVICE_ADDR",
        help=f"PathInfoService URL {_DEFAULT_HELP}",
        show_default=False,
    ),
]


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` to stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


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
        if text.startswith("/"):
            store_path, sub_path = StorePath.from_absolute_path_full(text)
            return store_path, "" if str(sub_path) == "." else str(sub_path)
        base, _, rest = text.partition("/")
        return StorePath.from_basename(base), rest
    except NixCompatError as e:
        raise fail(str(e)) from None


class RichImportProgress:
    """An ImportProgress drawing a rich progress bar on stderr."""

    def __init__(self, progress: Any, task: Any) -> None:
        self._progress = progress
        self._task = task
        self._total = 0
        self._lock = threading.Lock()

    def discovered(self, nbytes: int) -> None:
        with self._lock:
            self._total += nbytes
            self._progress.update(self._task, total=self._total)

    def advanced(self, nbytes: int) -> None:
        self._progress.update(self._task, advance=nbytes)


@contextmanager
def progress_bar(label: str) -> Iterator[RichImportProgress | None]:
    """A byte progress bar on stderr when it is a terminal, else None."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        yield RichImportProgress(progress, progress.add_task(label, total=0))
