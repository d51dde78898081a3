"""The exceptions raised by tvix_store.

They extend tvix_castore's three families, so one mapping to gRPC status codes
covers both packages: :class:`~tvix_castore.errors.InvalidRequestError` is
INVALID_ARGUMENT, :class:`~tvix_castore.errors.NotFoundError` NOT_FOUND and
:class:`~tvix_castore.errors.StorageError` INTERNAL.
"""

from __future__ import annotations

import base64

from tvix_castore.errors import CastoreError, InvalidRequestError, NotFoundError, StorageError

__all__ = [
    "BlobNotFoundError",
    "BlobSizeMismatchError",
    "DirectoryNotFoundError",
    "InconsistentNarinfoReferenceNameDigestError",
    "InconsistentNumberOfReferencesError",
    "InvalidContentAddressError",
    "InvalidDeriverError",
    "InvalidNarinfoReferenceNameError",
    "InvalidNodeDigestLenError",
    "InvalidNodeNameError",
    "InvalidReferenceDigestLenError",
    "NarIngestError",
    "NoNodePresentError",
    "RenderError",
    "StoreError",
    "ValidatePathInfoError",
]

DIGEST_SIZE = 20
B3_LEN = 32


class StoreError(CastoreError):
    """Root of the errors tvix_store adds to tvix_castore's."""


class ValidatePathInfoError(StoreError, InvalidRequestError):
    """A PathInfo breaks one of the rules of :func:`tvix_store.validate_path_info`."""


class InvalidReferenceDigestLenError(ValidatePathInfoError):
    """A reference is not a 20-byte store path digest."""

    def __init__(self, position: int, length: int) -> None:
        super().__init__(
            f"Invalid length of digest at position {position}, expected {DIGEST_SIZE}, got {length}"
        )
        self.position = position
        self.length = length


class NoNodePresentError(ValidatePathInfoError):
    """The PathInfo has no root node."""

    def __init__(self) -> None:
        super().__init__("No node present")


class InvalidNodeNameError(ValidatePathInfoError):
    """The root node's name is not ``<nixbase32 digest>-<name>``."""

    def __init__(self, name: bytes, reason: str) -> None:
        super().__init__(f"Failed to parse {name!r} as StorePath: {reason}")
        self.name = name
        self.reason = reason


class InvalidNodeDigestLenError(ValidatePathInfoError):
    """A directory or file root node's digest is not 32 bytes."""

    def __init__(self, length: int) -> None:
        super().__init__(f"Invalid Digest length: expected {B3_LEN}, got {length}")
        self.length = length


class InconsistentNumberOfReferencesError(ValidatePathInfoError):
    """``narinfo.reference_names`` and ``references`` differ in length."""

    def __init__(self, references: int, reference_names: int) -> None:
        super().__init__(
            f"Inconsistent Number of References: {references} (references) vs "
            f"{reference_names} (narinfo)"
        )
        self.references = references
        self.reference_names = reference_names


class InvalidNarinfoReferenceNameError(ValidatePathInfoError):
    """An entry of ``narinfo.reference_names`` is not a store path base name."""

    def __init__(self, position: int, name: str) -> None:
        super().__init__(f"Invalid reference_name at position {position}: {name}")
        self.position = position
        self.name = name


class InconsistentNarinfoReferenceNameDigestError(ValidatePathInfoError):
    """``narinfo.reference_names[i]`` names another digest than ``references[i]``."""

    def __init__(self, position: int, expected: bytes, actual: bytes) -> None:
        super().__init__(
            f"digest in reference_name at position {position} does not match digest in "
            f"PathInfo, expected {base64.b64encode(expected).decode()}, "
            f"got {base64.b64encode(actual).decode()}"
        )
        self.position = position
        self.expected = expected
        self.actual = actual


class InvalidDeriverError(ValidatePathInfoError):
    """``narinfo.deriver`` is set but is not a valid store path."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Invalid deriver: {reason}")


class InvalidContentAddressError(ValidatePathInfoError):
    """``narinfo.ca`` has a digest of the wrong length for its hash type."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Invalid content address: {reason}")


class RenderError(StoreError, StorageError):
    """Producing a NAR from castore nodes failed."""


class DirectoryNotFoundError(RenderError, NotFoundError):
    """A directory the tree refers to is not in the DirectoryService."""

    def __init__(self, digest: bytes, name: bytes) -> None:
        super().__init__(
            f"unable to find directory b3:{base64.b64encode(digest).decode()}, "
            f"referred from {name!r}"
        )
        self.digest = digest
        self.name = name


class BlobNotFoundError(RenderError, NotFoundError):
    """A blob the tree refers to is not in the BlobService."""

    def __init__(self, digest: bytes, name: bytes) -> None:
        super().__init__(
            f"unable to find blob b3:{base64.b64encode(digest).decode()}, referred from {name!r}"
        )
        self.digest = digest
        self.name = name


class BlobSizeMismatchError(RenderError):
    """A blob is shorter or longer than the size its file node declares.

    ``short`` tells which: True when the blob ended early (the reference's
    UnexpectedEof), False when it has more data (InvalidInput).
    """

    def __init__(self, digest: bytes, name: bytes, declared: int, short: bool) -> None:
        how = "shorter" if short else "longer"
        super().__init__(
            f"blob b3:{base64.b64encode(digest).decode()} referred from {name!r} is {how} "
            f"than the declared size {declared}"
        )
        self.digest = digest
        self.name = name
        self.declared = declared
        self.short = short


class NarIngestError(StoreError, InvalidRequestError):
    """A NAR stream could not be ingested: malformed, non-canonical, or not matching its hash."""
