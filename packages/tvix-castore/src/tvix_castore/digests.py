"""blake3 digests, the identifiers of blobs and directories."""

from __future__ import annotations

import base64
import binascii

import blake3

from tvix_castore.errors import InvalidDigestLengthError, InvalidRequestError

B3_LEN = 32
"""Length in bytes of a blake3 digest."""


class B3Digest(bytes):
    """A 32-byte blake3 digest.

    It is a ``bytes`` (so it can be put straight into protobuf fields and used
    as a dict key interchangeably with plain bytes), whose length is checked on
    construction. ``str()`` gives the reference's display form ``b3:<base64>``.
    """

    __slots__ = ()

    def __new__(cls, value: bytes | bytearray | memoryview) -> B3Digest:
        if len(value) != B3_LEN:
            raise InvalidDigestLengthError(len(value))
        return super().__new__(cls, value)

    def __str__(self) -> str:
        return "b3:" + base64.b64encode(self).decode()

    def __repr__(self) -> str:
        return f"B3Digest({str(self)!r})"

    @property
    def hex_digest(self) -> str:
        """The digest as 64 lower-case hex characters."""
        return self.hex()

    @classmethod
    def of(cls, data: bytes | bytearray | memoryview) -> B3Digest:
        """Hash ``data`` with blake3 (multithreaded for large inputs)."""
        threads = blake3.blake3.AUTO if len(data) >= 1 << 22 else 1
        return cls(blake3.blake3(data, max_threads=threads).digest())

    @classmethod
    def parse(cls, text: str) -> B3Digest:
        """Parse ``b3:<base64>``, bare base64, or 64 hex characters."""
        raw = text.strip()
        if raw.startswith("b3:"):
            raw = raw[3:]
        try:
            if len(raw) == 2 * B3_LEN:
                return cls(bytes.fromhex(raw))
            return cls(base64.b64decode(raw, validate=True))
        except (ValueError, binascii.Error) as e:
            if isinstance(e, InvalidDigestLengthError):
                raise InvalidRequestError(f"not a blake3 digest: {text!r} ({e})") from None
            raise InvalidRequestError(
                f"not a blake3 digest: {text!r} (expected b3:<base64> or 64 hex characters)"
            ) from None


EMPTY_BLOB_DIGEST = B3Digest(blake3.blake3(b"").digest())
"""Digest of the empty blob (and of the empty Directory, whose encoding is empty too)."""
