"""The tvix command: evaluate Nix expressions, instantiate derivations into the store, a REPL.

Run it as ``tvix`` or ``python -m tvix_cli``; see :mod:`tvix_cli.main`. From Python,
:class:`Session` is an evaluator wired to a store (so derivations are written into it), set up by
:class:`Settings`; :func:`open_store` opens a store by URL. These names load lazily, so
importing the package stays cheap for the command's start-up.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from typing import Any

    from tvix_cli.main import __version__, main
    from tvix_cli.session import Session, Settings
    from tvix_cli.store import Store, StoreError, open_store

__all__ = ["Session", "Settings", "Store", "StoreError", "__version__", "main", "open_store"]

_HOMES = {
    "Session": "tvix_cli.session",
    "Settings": "tvix_cli.session",
    "Store": "tvix_cli.store",
    "StoreError": "tvix_cli.store",
    "open_store": "tvix_cli.store",
    "main": "tvix_cli.main",
    "__version__": "tvix_cli.main",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tvix_cli' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
