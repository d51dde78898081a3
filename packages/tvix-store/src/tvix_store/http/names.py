"""The file names of the binary cache: ``<hash>.narinfo`` and ``nar/…``, parsed strictly.

Served NARs are named ``nar/<store path hash>-<nix32 NAR sha256>.nar[.ext]``:
the NAR is rendered from castore on request, and the name says which PathInfo
to render (and which content it must have) without any server-side state.
Uploads from ``nix copy --to`` arrive as ``nar/<nix32 sha256 of the file>.nar[.ext]``.
Anything else — other characters, other lengths, ``..`` — is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nix_compat import nixbase32
from nix_compat.store_path import DIGEST_SIZE

from tvix_store.http.compression import Compression, CompressionError

__all__ = [
    "BadNameError",
    "NarName",
    "nar_file_name",
    "parse_nar_name",
    "parse_narinfo_name",
]

_NIX32 = "0123456789abcdfghijklmnpqrsvwxyz"
_OUT_LEN = nixbase32.encoded_len(DIGEST_SIZE)
_SHA256_LEN = nixbase32.encoded_len(32)
_NARINFO = re.compile(rf"([{_NIX32}]{{{_OUT_LEN}}})\.narinfo")
_NAR = re.compile(
    rf"(?:([{_NIX32}]{{{_OUT_LEN}}})-)?([{_NIX32}]{{{_SHA256_LEN}}})\.nar((?:\.[a-z0-9]+)?)"
)


class BadNameError(ValueError):
    """A request names no file this cache could hold."""


def _decode(text: str) -> bytes:
    try:
        return nixbase32.decode(text)
    except ValueError as e:  # pragma: no cover - the patterns only admit valid digits
        raise BadNameError(str(e)) from None


def parse_narinfo_name(name: str) -> bytes:
    """The 20-byte store path digest of ``<32 nixbase32 characters>.narinfo``."""
    match = _NARINFO.fullmatch(name)
    if match is None:
        raise BadNameError(
            f"invalid narinfo name {name!r}: expected <{_OUT_LEN} nixbase32 characters>.narinfo"
        )
    return _decode(match.group(1))


@dataclass(frozen=True)
class NarName:
    """A parsed ``nar/`` file name.

    ``out_digest`` is set in the names this cache serves; ``sha256`` is the
    NAR's sha256 in those, and the sha256 of the (compressed) file in upload names.
    """

    out_digest: bytes | None
    sha256: bytes
    compression: Compression


def parse_nar_name(name: str) -> NarName:
    """Parse the part of a NAR URL after ``nar/``."""
    match = _NAR.fullmatch(name)
    if match is None:
        raise BadNameError(
            f"invalid NAR name {name!r}: expected [<{_OUT_LEN} nixbase32 characters>-]"
            f"<{_SHA256_LEN} nixbase32 characters>.nar[.xz|.bz2|.zst]"
        )
    out, sha, ext = match.groups()
    try:
        compression = Compression.from_extension(ext)
    except CompressionError as e:
        raise BadNameError(f"invalid NAR name {name!r}: {e}") from None
    return NarName(None if out is None else _decode(out), _decode(sha), compression)


def nar_file_name(out_digest: bytes, nar_sha256: bytes, compression: Compression) -> str:
    """The ``nar/…`` URL under which a stored path's NAR is served."""
    return (
        f"nar/{nixbase32.encode(out_digest)}-{nixbase32.encode(nar_sha256)}"
        f".nar{compression.extension}"
    )
