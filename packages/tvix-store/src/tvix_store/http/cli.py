"""``tvix-store serve-http``: serve the store as a Nix binary cache until SIGTERM or SIGINT."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from tvix_store.cli.common import (
    BlobAddr,
    DirectoryAddr,
    PathInfoAddr,
    fail,
    open_services,
)
from tvix_store.http.compression import Compression

__all__ = ["serve_http"]


def _split_address(address: str) -> tuple[str, int]:
    host, colon, port = address.rpartition(":")
    if not colon or not port.isdigit():
        raise fail(f"invalid listen address {address!r}: expected HOST:PORT")
    return host.removeprefix("[").removesuffix("]"), int(port)


def _default_upload_index() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return os.path.join(base, "tvix", "nar-bridge-uploads.sqlite")


def serve_http(  # noqa: PLR0917 - typer passes every option as a parameter
    listen_address: Annotated[
        str,
        typer.Option("--listen-address", "-l", envvar="LISTEN_ADDRESS", help="HOST:PORT"),
    ] = "[::1]:9000",
    blob_service_addr: BlobAddr = None,
    directory_service_addr: DirectoryAddr = None,
    path_info_service_addr: PathInfoAddr = None,
    sign_key: Annotated[
        Path | None,
        typer.Option(
            "--sign-key", help="sign served narinfos with this Nix secret key file (name:base64)"
        ),
    ] = None,
    compression: Annotated[
        str, typer.Option(help="compression announced for NARs: none, zstd, xz or bzip2")
    ] = "none",
    priority: Annotated[int, typer.Option(help="Priority in nix-cache-info")] = 30,
    read_only: Annotated[bool, typer.Option("--read-only", help="refuse uploads")] = False,
    max_upload_size: Annotated[
        int, typer.Option(min=1, help="largest accepted upload (and NAR), in bytes")
    ] = 4 << 30,
    upload_idle_timeout: Annotated[
        float, typer.Option(min=0.1, help="seconds an upload may stall")
    ] = 30.0,
    head_timeout: Annotated[
        float, typer.Option(min=0.1, help="seconds a request head may take to arrive")
    ] = 30.0,
    upload_index: Annotated[
        str | None,
        typer.Option(help="SQLite file remembering upload names [default: in the XDG data dir]"),
    ] = None,
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log")] = True,
    log_level: Annotated[str, typer.Option(envvar="LOG_LEVEL")] = "info",
) -> None:
    """Serve the store as a Nix binary cache over HTTP (nix copy --to/--from, substituters)."""
    import logging

    from nix_compat.errors import NixCompatError
    from nix_compat.signing import SecretKey

    from tvix_store.http.app import create_app
    from tvix_store.http.compression import CompressionError
    from tvix_store.http.config import CacheConfig
    from tvix_store.http.server import make_server

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    host, port = _split_address(listen_address)
    try:
        announced = Compression.from_name(compression)
        key = None if sign_key is None else SecretKey.parse(sign_key.read_text())
    except (CompressionError, NixCompatError, OSError) as e:
        raise fail(str(e)) from None
    index = upload_index or _default_upload_index()
    os.makedirs(os.path.dirname(os.path.abspath(index)), exist_ok=True)
    config = CacheConfig(
        priority=priority,
        compression=announced,
        sign_key=key,
        read_only=read_only,
        max_upload_size=max_upload_size,
        upload_idle_timeout=upload_idle_timeout,
        upload_index=index,
    )
    with open_services(blob_service_addr, directory_service_addr, path_info_service_addr) as s:
        app = create_app(s.blobs, s.directories, s.path_infos, config)
        server = make_server(
            app,
            host,
            port,
            head_timeout=head_timeout,
            access_log=access_log,
            log_level=log_level.lower(),
        )
        # uvicorn shuts down gracefully on SIGTERM and then re-raises the signal under the
        # previous handler: make that a no-op, so the services close and the exit status is 0.
        signal.signal(signal.SIGTERM, lambda signum, frame: None)
        server.run()
