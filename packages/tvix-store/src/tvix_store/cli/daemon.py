"""``tvix-store daemon``: serve the three services over gRPC until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated, Any

import typer
from tvix_castore.cli import LogFormat, LogLevel
from tvix_castore.errors import CastoreError

from tvix_store.cli.common import (
    BlobAddr,
    DirectoryAddr,
    PathInfoAddr,
    default_store_url,
    fail,
    open_services,
)

log = logging.getLogger("tvix_store")


def daemon(  # noqa: PLR0917 - typer passes every option as a parameter
    listen_address: Annotated[
        str,
        typer.Option(
            "--listen-address",
            "-l",
            envvar="LISTEN_ADDRESS",
            help="unix:///path/to/socket or HOST:PORT",
        ),
    ] = "[::1]:8000",
    blob_service_addr: BlobAddr = None,
    directory_service_addr: DirectoryAddr = None,
    path_info_service_addr: PathInfoAddr = None,
    log_level: Annotated[LogLevel, typer.Option("--log-level", envvar="LOG_LEVEL")] = LogLevel.info,
    log_format: Annotated[LogFormat, typer.Option("--log-format")] = LogFormat.json,
    workers: Annotated[int, typer.Option(min=1, help="threads serving RPCs")] = 32,
    grace_period: Annotated[
        float, typer.Option(min=0, help="seconds running calls get on shutdown")
    ] = 10.0,
) -> None:
    """Serve BlobService, DirectoryService and PathInfoService over gRPC."""
    from tvix_castore.logs import configure_logging

    from tvix_store.server.daemon import start_store_daemon

    configure_logging(log_level.value, log_format.value)
    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with open_services(blob_service_addr, directory_service_addr, path_info_service_addr) as s:
        try:
            running = start_store_daemon(
                s.blobs, s.directories, s.path_infos, listen_address, workers=workers
            )
        except CastoreError as e:
            raise fail(str(e)) from None
        default = default_store_url()
        log.info(
            "serving",
            extra={
                "address": running.address,
                "blob_service_addr": blob_service_addr or default,
                "directory_service_addr": directory_service_addr or default,
                "path_info_service_addr": path_info_service_addr or default,
            },
        )
        while not stop.wait(0.5):
            pass
        running.stop(grace_period)
        log.info("stopped")
