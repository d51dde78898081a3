"""``tvix-store daemon``: serve the three services over gRPC until SIGTERM or SIGINT."""

from __future__ import annotations

import logging

from tvix_castore.cli import (
    GracePeriod,
    ListenAddress,
    LogFormat,
    LogFormatOption,
    LogLevel,
    LogLevelOption,
    Workers,
    serve_until_stopped,
    stop_on_signals,
)
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
    listen_address: ListenAddress = "[::1]:8000",
    blob_service_addr: BlobAddr = None,
    directory_service_addr: DirectoryAddr = None,
    path_info_service_addr: PathInfoAddr = None,
    log_level: LogLevelOption = LogLevel.info,
    log_format: LogFormatOption = LogFormat.json,
    workers: Workers = 32,
    grace_period: GracePeriod = 10.0,
) -> None:
    """Serve BlobService, DirectoryService and PathInfoService over gRPC."""
    from tvix_castore.logs import configure_logging

    from tvix_store.server.daemon import start_store_daemon

    configure_logging(log_level.value, log_format.value)
    stop = stop_on_signals(log)
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
        serve_until_stopped(running, stop, grace_period, log)
