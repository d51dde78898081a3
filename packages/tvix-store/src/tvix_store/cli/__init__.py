"""The ``tvix-store`` command: daemon, import/export, inspection, copying from Nix, FUSE mount.

The typer application (``app``) is built on first use: plain ``export`` runs
without it (see :mod:`tvix_store.cli.plain`).
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

__all__ = ["app", "main"]


@functools.cache
def _build_app() -> typer.Typer:
    import typer

    from tvix_store.cli.daemon import daemon
    from tvix_store.cli.inspect import cat, export, info, list_, ls
    from tvix_store.cli.mount import mount
    from tvix_store.cli.write import copy_from_nix, import_
    from tvix_store.http.cli import serve_http

    app = typer.Typer(
        name="tvix-store",
        help="Nix store paths on a content-addressed store: daemon, import/export, inspection, "
        "mount.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    app.command()(daemon)
    app.command("import")(import_)
    app.command()(export)
    app.command()(info)
    app.command()(ls)
    app.command()(cat)
    app.command("list")(list_)
    app.command("copy-from-nix")(copy_from_nix)
    app.command()(mount)
    app.command("serve-http")(serve_http)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return _build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point of the ``tvix-store`` script."""
    try:
        if sys.argv[1:2] == ["export"]:
            from tvix_store.cli.plain import plain_export

            status = plain_export(sys.argv[2:])
            if status is not None:
                sys.exit(status)
        _build_app()()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except SystemExit as e:
        # Typer turns Ctrl-C into a silent exit with status 130; say what happened.
        if e.code == 130:
            print("interrupted", file=sys.stderr)
        raise
