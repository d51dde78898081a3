"""The ``tvix-castore`` command: run the gRPC daemon, import paths, look inside the store.

The pieces other store commands share are public here: the service URL options
(:data:`BlobAddr`, :data:`DirectoryAddr`), :func:`fail`, the import
:func:`progress_bar`, and for daemons the options :data:`ListenAddress`,
:data:`LogLevelOption`, :data:`LogFormatOption`, :data:`Workers` and
:data:`GracePeriod` and the signal handling of :func:`stop_on_signals` and
:func:`serve_until_stopped` (``tvix-store daemon`` is built from them).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tvix_castore.blobservice.base import CHUNK_SIZE, BlobService
from tvix_castore.digests import B3Digest
from tvix_castore.directory import (
    ChildNode,
    DirectoryNode,
    FileNode,
    SymlinkNode,
    iter_nodes,
    node_kind,
)
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import CastoreError, InvalidRequestError, NotFoundError

if TYPE_CHECKING:
    from tvix_castore.server.daemon import Daemon

app = typer.Typer(
    name="tvix-castore",
    help="A content-addressed store of blobs and directories: daemon, import and inspection.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
log = logging.getLogger("tvix_castore")


def default_store_url() -> str:
    """``lmdb://`` in ``$XDG_DATA_HOME/tvix/castore`` (``~/.local/share/tvix/castore``)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return f"lmdb://{os.path.abspath(os.path.join(base, 'tvix', 'castore'))}"


BlobAddr = Annotated[
    str | None,
    typer.Option(
        "--blob-service-addr",
        envvar="BLOB_SERVICE_ADDR",
        help="BlobService URL [default: lmdb in the XDG data dir]",
        show_default=False,
    ),
]
DirectoryAddr = Annotated[
    str | None,
    typer.Option(
        "--directory-service-addr",
        envvar="DIRECTORY_SERVICE_ADDR",
        help="DirectoryService URL [default: lmdb in the XDG data dir]",
        show_default=False,
    ),
]


class LogLevel(StrEnum):
    """Levels accepted by ``--log-level``."""

    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


class LogFormat(StrEnum):
    """Formats accepted by ``--log-format``."""

    json = "json"
    text = "text"


ListenAddress = Annotated[
    str,
    typer.Option(
        "--listen-address",
        "-l",
        envvar="LISTEN_ADDRESS",
        help="unix:///path/to/socket or HOST:PORT",
    ),
]
LogLevelOption = Annotated[LogLevel, typer.Option("--log-level", envvar="LOG_LEVEL")]
LogFormatOption = Annotated[LogFormat, typer.Option("--log-format")]
Workers = Annotated[int, typer.Option(min=1, help="threads serving RPCs")]
GracePeriod = Annotated[float, typer.Option(min=0, help="seconds running calls get on shutdown")]


def stop_on_signals(logger: logging.Logger) -> threading.Event:
    """Install SIGTERM and SIGINT handlers; return the event they set.

    Each signal received is logged on ``logger``.
    """
    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        logger.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop


def serve_until_stopped(
    running: Daemon, stop: threading.Event, grace_period: float, logger: logging.Logger
) -> None:
    """Serve until ``stop`` is set, then stop ``running`` (see :meth:`Daemon.stop`) and log it."""
    while not stop.wait(0.5):
        pass
    running.stop(grace_period)
    logger.info("stopped")


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` to stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@contextmanager
def services(
    blob_addr: str | None, directory_addr: str | None
) -> Iterator[tuple[BlobService, DirectoryService]]:
    """Open both services (closing them afterwards); user errors become a one-line message."""
    from tvix_castore.registry import blob_service_from_url, directory_service_from_url

    blob_url = blob_addr or default_store_url()
    directory_url = directory_addr or default_store_url()
    try:
        blobs = blob_service_from_url(blob_url)
        try:
            directories = directory_service_from_url(directory_url)
        except BaseException:
            blobs.close()
            raise
    except CastoreError as e:
        raise fail(str(e)) from None
    try:
        yield blobs, directories
    except CastoreError as e:
        raise fail(str(e)) from None
    except BrokenPipeError:
        raise typer.Exit(1) from None
    finally:
        directories.close()
        blobs.close()


def parse_digest(text: str) -> B3Digest:
    """A digest from the command line, or a one-line error."""
    try:
        return B3Digest.parse(text)
    except InvalidRequestError as e:
        raise fail(str(e)) from None


@app.command()
def daemon(  # noqa: PLR0917 - the signature is the command line
    listen_address: ListenAddress = "[::]:8000",
    blob_service_addr: BlobAddr = None,
    directory_service_addr: DirectoryAddr = None,
    log_level: LogLevelOption = LogLevel.info,
    log_format: LogFormatOption = LogFormat.json,
    workers: Workers = 32,
    grace_period: GracePeriod = 10.0,
) -> None:
    """Serve tvix.castore.v1.BlobService and DirectoryService over gRPC until SIGTERM or SIGINT."""
    from tvix_castore.logs import configure_logging
    from tvix_castore.server.daemon import start_daemon

    configure_logging(log_level.value, log_format.value)
    stop = stop_on_signals(log)
    with services(blob_service_addr, directory_service_addr) as (blobs, directories):
        running = start_daemon(blobs, directories, listen_address, workers=workers)
        log.info(
            "serving",
            extra={
                "address": running.address,
                "blob_service_addr": blob_service_addr or default_store_url(),
                "directory_service_addr": directory_service_addr or default_store_url(),
            },
        )
        serve_until_stopped(running, stop, grace_period, log)


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


def describe(node: ChildNode) -> str:
    """``kind digest size`` for files and directories, ``symlink -> target`` for symlinks."""
    if isinstance(node, SymlinkNode):
        return f"symlink -> {os.fsdecode(node.target)}"
    kind = "executable" if isinstance(node, FileNode) and node.executable else node_kind(node)
    return f"{kind} {B3Digest(node.digest)} {node.size}"


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="files, symlinks or directories to import")],
    blob_service_addr: BlobAddr = None,
    directory_service_addr: DirectoryAddr = None,
) -> None:
    """Import paths and print, for each, its root node (kind, digest, size) and the path."""
    from tvix_castore.importer import import_path

    with services(blob_service_addr, directory_service_addr) as (blobs, directories):
        for path in paths:
            with progress_bar(f"importing {path}") as progress:
                node = import_path(path, blobs, directories, progress=progress)
            typer.echo(f"{describe(node)} {path}")


@app.command()
def ls(
    digest: Annotated[str, typer.Argument(help="digest of a directory (b3:<base64> or hex)")],
    path: Annotated[str, typer.Argument(help="a path below that directory")] = "",
    recursive: Annotated[
        bool, typer.Option("--recursive", "-R", help="list everything below")
    ] = False,
    blob_service_addr: BlobAddr = None,
    directory_service_addr: DirectoryAddr = None,
) -> None:
    """List a directory by digest: one line per entry (kind, digest, size, name)."""
    from tvix_castore.directoryservice.traverse import descend_to, walk

    root_digest = parse_digest(digest)
    with services(blob_service_addr, directory_service_addr) as (_, directories):
        root_directory = directories.get(root_digest)
        if root_directory is None:
            raise fail(f"directory {root_digest} not found")
        from tvix_castore.directory import directory_size

        root: ChildNode = DirectoryNode(
            name=b"", digest=root_digest, size=directory_size(root_directory)
        )
        node = descend_to(directories, root, path)
        if node is None:
            raise fail(f"{path!r} does not exist in directory {root_digest}")
        if recursive:
            for relative, child in walk(directories, node):
                if relative:
                    typer.echo(f"{describe(child)} {os.fsdecode(relative)}")
        elif isinstance(node, DirectoryNode):
            directory = directories.get(B3Digest(node.digest))
            if directory is None:
                raise NotFoundError(f"directory {B3Digest(node.digest)} not found")
            for child in iter_nodes(directory):
                typer.echo(f"{describe(child)} {os.fsdecode(child.name)}")
        else:
            typer.echo(f"{describe(node)} {path}")


@app.command()
def cat(
    digest: Annotated[str, typer.Argument(help="digest of a blob (b3:<base64> or hex)")],
    blob_service_addr: BlobAddr = None,
) -> None:
    """Write a blob to stdout."""
    blob_digest = parse_digest(digest)
    with services(blob_service_addr, "memory://") as (blobs, _):
        reader = blobs.open_read(blob_digest)
        if reader is None:
            raise fail(f"blob {blob_digest} not found")
        out = sys.stdout.buffer
        with reader:
            while data := reader.read(CHUNK_SIZE):
                out.write(data)
        out.flush()


def main() -> None:
    """Entry point of the ``tvix-castore`` script."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
