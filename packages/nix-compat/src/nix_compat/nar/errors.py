"""The error raised for malformed NAR archives and misuse of the NAR writer."""

from __future__ import annotations

from nix_compat.errors import NixCompatError

__all__ = ["NarError"]


class NarError(NixCompatError):
    """A NAR archive is malformed or non-canonical, or the writer was used wrongly.

    ``offset`` is the byte position in the archive where the problem was found, when known.
    """

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.reason = message
        self.offset = offset
        super().__init__(message if offset is None else f"{message} (at byte {offset})")
