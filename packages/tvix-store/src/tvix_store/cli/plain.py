"""``tvix-store export`` without the command-line framework.

Exports are often scripted, one per store path, and importing the framework
(typer, and pydantic under it) costs more than rendering a small path. So
:func:`tvix_store.cli.main` hands the plain forms of the command — a store
path and the three service URL options — to :func:`plain_export`; anything
else (``--help``, other options, mistakes) goes to the full parser, whose
``export`` runs the same :func:`run_export`, so results, messages and exit
codes are the same either way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from nix_compat.store_path import StorePath

    from tvix_store.pathinfo import PathInfo
    from tvix_store.pathinfoservice.base import PathInfoService

SERVICE_OPTIONS = (
    ("--blob-service-addr", "BLOB_SERVICE_ADDR"),
    ("--directory-service-addr", "DIRECTORY_SERVICE_ADDR"),
    ("--path-info-service-addr", "PATH_INFO_SERVICE_ADDR"),
)
"""The service URL options every command takes, and the environment variables behind them."""


class CommandError(Exception):
    """A user or store error: printed as one ``error: ...`` line, exit status 1."""


def default_store_url() -> str:
    """``lmdb://`` in ``$XDG_DATA_HOME/tvix/store`` (``~/.local/share/tvix/store``)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return f"lmdb://{os.path.abspath(os.path.join(base, 'tvix', 'store'))}"


def split_store_path(text: str) -> tuple[StorePath, str]:
    """``/nix/store/<hash>-<name>[/sub/path]`` (or the base name alone) and the sub path.

    Raises :class:`~nix_compat.errors.NixCompatError` for anything else.
    """
    from nix_compat.store_path import StorePath

    if text.startswith("/"):
        store_path, sub_path = StorePath.from_absolute_path_full(text)
        return store_path, "" if str(sub_path) == "." else str(sub_path)
    base, _, rest = text.partition("/")
    return StorePath.from_basename(base), rest


def lookup(path_infos: PathInfoService, store_path: StorePath) -> PathInfo:
    """The PathInfo of ``store_path``; CommandError if it is not in the store."""
    from tvix_store.pathinfo import path_info_root_node

    info = path_infos.get(store_path.digest)
    if info is None or path_info_root_node(info).name != str(store_path).encode():
        raise CommandError(f"path '{store_path.to_absolute_path()}' is not in the store")
    return info


def parse_export_args(args: Sequence[str]) -> tuple[str, list[str | None]] | None:
    """The store path and the three service URLs (options, else environment) of
    ``export STORE_PATH [--<service>-addr URL]...``; None for anything else."""
    store_path: str | None = None
    given: dict[str, str] = {}
    names = {option for option, _ in SERVICE_OPTIONS}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if not arg.startswith("-") and store_path is None:
            store_path = arg
            continue
        option, eq, value = arg.partition("=")
        if option not in names or option in given:
            return None
        if not eq:
            if not rest:
                return None
            value = rest.pop(0)
        given[option] = value
    if store_path is None:
        return None
    # As the full parser does, an empty environment variable counts as unset.
    return store_path, [
        given.get(option) or os.environ.get(env) or None for option, env in SERVICE_OPTIONS
    ]


def export_nar(store_path: str, addrs: Sequence[str | None], out: BinaryIO) -> None:
    """Write the NAR serialisation of ``store_path`` to ``out``.

    User and store errors become CommandError; BrokenPipeError passes through.
    """
    from nix_compat.errors import NixCompatError
    from tvix_castore.errors import CastoreError
    from tvix_castore.registry import blob_service_from_url, directory_service_from_url

    from tvix_store.nar.render import write_nar
    from tvix_store.pathinfo import path_info_root_node
    from tvix_store.pathinfoservice.registry import path_info_service_from_url

    blob_addr, directory_addr, path_info_addr = (addr or default_store_url() for addr in addrs)
    opened: list[Any] = []
    try:
        try:
            blobs = blob_service_from_url(blob_addr)
            opened.append(blobs)
            directories = directory_service_from_url(directory_addr)
            opened.append(directories)
            path_infos = path_info_service_from_url(path_info_addr, blobs, directories)
            opened.append(path_infos)
            path, sub = split_store_path(store_path)
            if sub:
                raise CommandError(f"'{store_path}' is not a store path (it has a sub path)")
            root = path_info_root_node(lookup(path_infos, path))
            write_nar(out, root, blobs, directories)
            out.flush()
        except (CastoreError, NixCompatError) as e:
            raise CommandError(str(e)) from None
    finally:
        for service in reversed(opened):
            service.close()


def run_export(store_path: str, addrs: Sequence[str | None]) -> int:
    """``tvix-store export``: the NAR on stdout, errors on stderr; returns the exit status."""
    try:
        export_nar(store_path, addrs, sys.stdout.buffer)
    except CommandError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 1
    except BrokenPipeError:
        # The reader of our stdout went away (`| head`): not an error worth a message.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 1
    return 0


def plain_export(args: Sequence[str]) -> int | None:
    """Run ``export`` given the arguments after it, or None if they need the full parser."""
    parsed = parse_export_args(args)
    if parsed is None:
        return None
    return run_export(*parsed)
