"""nar-bridge: tvix-store as an HTTP Nix binary cache (an ASGI app served by uvicorn).

``create_app(blobs, directories, path_infos, CacheConfig(...))`` builds the
application; ``tvix-store serve-http`` runs it. Starlette is imported only
when the application is built, so the command line stays quick to start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tvix_store.http.compression import Compression
from tvix_store.http.config import CacheConfig

if TYPE_CHECKING:
    from tvix_store.http.app import create_app

__all__ = ["CacheConfig", "Compression", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from tvix_store.http.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
