"""The ``tvix-store`` command: daemon, import/export, inspection, copying from Nix, FUSE mount."""

from __future__ import annotations

import sys

import typer

from tvix_store.cli.daemon import daemon
from tvix_store.cli.inspect import cat, export, info, list_, ls
from tvix_store.cli.write import copy_from_nix, import_

__all__ = ["app", "main"]

app = typer.Typer(
    name="tvix-store",
    help="Nix store paths on a content-addressed store: daemon, import/export, inspection, mount.",
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


def _register_mount() -> None:
    from tvix_store.cli.mount import mount

    app.command()(mount)


_register_mount()


def _register_serve_http() -> None:
    from tvix_store.http.cli import serve_http

    app.command("serve-http")(serve_http)


_register_serve_http()


def main() -> None:
    """Entry point of the ``tvix-store`` script."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit as e:
        # Typer turns Ctrl-C into a silent exit with status 130; say what happened.
        if e.code == 130:
            typer.echo("interrupted", err=True)
        raise
