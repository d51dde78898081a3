"""The exceptions raised by tvix_castore.

Every error a caller can act on derives from :class:`CastoreError`. The gRPC
servicers map the three families to status codes in one place
(:mod:`tvix_castore.server.status`): :class:`InvalidRequestError` becomes
INVALID_ARGUMENT, :class:`NotFoundError` NOT_FOUND, and :class:`StorageError`
INTERNAL.
"""

from __future__ import annotations


class CastoreError(Exception):
    """Root of every error raised by tvix_castore."""


class InvalidRequestError(CastoreError, ValueError):
    """The caller sent data that is malformed or inconsistent (maps to INVALID_ARGUMENT)."""


class NotFoundError(CastoreError, LookupError):
    """A blob or directory that was asked for does not exist (maps to NOT_FOUND)."""


class StorageError(CastoreError):
    """The store failed or holds inconsistent data: I/O errors, corrupt records, lost peers."""


class InvalidDigestLengthError(InvalidRequestError):
    """A digest does not have the 32 bytes of a blake3 hash."""

    def __init__(self, length: int) -> None:
        super().__init__(f"invalid digest length: {length} (expected 32 bytes)")
        self.length = length


class DirectoryValidationError(InvalidRequestError):
    """A Directory message breaks one of the castore rules; ``name`` is the offending entry."""

    def __init__(self, message: str, name: bytes = b"") -> None:
        super().__init__(message)
        self.name = name


class InvalidNameError(DirectoryValidationError):
    """A node name is empty, ``.``, ``..``, or contains ``/`` or NUL."""

    def __init__(self, name: bytes) -> None:
        super().__init__(f"invalid node name {name!r}", name)


class WrongSortingError(DirectoryValidationError):
    """A list of nodes in a Directory is not sorted by name."""

    def __init__(self, name: bytes) -> None:
        super().__init__(f"{_show(name)} is not sorted", name)


class DuplicateNameError(DirectoryValidationError):
    """The same name occurs more than once across a Directory's three lists."""

    def __init__(self, name: bytes) -> None:
        super().__init__(f"{_show(name)} is a duplicate name", name)


class InvalidSymlinkTargetError(DirectoryValidationError):
    """A symlink target is empty or contains NUL."""

    def __init__(self, name: bytes, target: bytes) -> None:
        super().__init__(f"symlink {_show(name)} has invalid target {target!r}", name)
        self.target = target


class InvalidUrlError(CastoreError, ValueError):
    """A service URL cannot be used: bad syntax, unknown scheme, or parts the backend forbids."""


class IngestError(CastoreError):
    """Importing a path from the filesystem failed; the message names the path."""


def _show(name: bytes) -> str:
    """Render a node name for a message: as text when it is UTF-8, else as a bytes literal."""
    try:
        return repr(name.decode())
    except UnicodeDecodeError:
        return repr(name)
