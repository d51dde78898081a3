"""Parse ``.narinfo`` text the way C++ Nix reads it from a binary cache.

Each line is ``Key: value``. Unknown keys are ignored, a repeated key overrides the earlier
value except ``References`` and ``CA``, which may appear once, and ``Sig`` may repeat.
``StorePath``, ``URL``, ``NarHash`` and a non-zero ``NarSize`` are required; a missing
``Compression`` means bzip2 and ``Deriver: unknown-deriver`` means none.
"""

from __future__ import annotations

import re

from nix_compat.errors import HashParseError, StorePathError
from nix_compat.narinfo.narinfo import NarInfo, NarInfoError
from nix_compat.nixhash import CAHash, NixHash, parse_ca, parse_hash
from nix_compat.store_path import StorePath

__all__ = ["parse_narinfo"]

_DECIMAL = re.compile(r"[0-9]+")
_MAX_U64 = 2**64 - 1


def _size(value: str, where: str) -> int:
    if not _DECIMAL.fullmatch(value) or int(value) > _MAX_U64:
        raise NarInfoError(f"{where}: {value!r} is not an unsigned 64-bit decimal integer")
    return int(value)


def _hash(value: str, where: str) -> NixHash:
    if ":" not in value and "-" not in value:
        raise NarInfoError(f"{where}: hash {value!r} lacks its algorithm prefix")
    try:
        return parse_hash(value)
    except HashParseError as e:
        raise NarInfoError(f"{where}: {e}") from None


def _store_path(value: str, where: str, absolute: bool) -> StorePath:
    try:
        if absolute:
            return StorePath.from_absolute_path(value)
        return StorePath.from_basename(value)
    except StorePathError as e:
        raise NarInfoError(f"{where}: {e}") from None


def parse_narinfo(text: str | bytes) -> NarInfo:
    """Parse narinfo text; :class:`NarInfoError` names the line and field of any problem."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise NarInfoError(f"narinfo is not UTF-8: invalid byte at offset {e.start}") from None
    if text and not text.endswith("\n"):
        raise NarInfoError("narinfo does not end with a newline")

    store_path: StorePath | None = None
    url = ""
    compression = ""
    file_hash: NixHash | None = None
    file_size: int | None = None
    nar_hash: NixHash | None = None
    nar_size = 0
    references: tuple[StorePath, ...] | None = None
    deriver: StorePath | None = None
    system: str | None = None
    signatures: list[str] = []
    ca: CAHash | None = None

    for number, line in enumerate(text.split("\n")[:-1], start=1):
        key, colon, rest = line.partition(":")
        if not colon:
            raise NarInfoError(f"line {number}: {line!r} is not 'Key: value'")
        if rest and not rest.startswith(" "):
            raise NarInfoError(f"line {number}: no space after ':' in {line!r}")
        value = rest[1:]
        where = f"line {number}, field {key}"
        if key == "StorePath":
            store_path = _store_path(value, where, absolute=True)
        elif key == "URL":
            url = value
        elif key == "Compression":
            compression = value
        elif key == "FileHash":
            file_hash = _hash(value, where)
        elif key == "FileSize":
            file_size = _size(value, where)
        elif key == "NarHash":
            nar_hash = _hash(value, where)
        elif key == "NarSize":
            nar_size = _size(value, where)
        elif key == "References":
            if references:
                raise NarInfoError(f"{where}: References given twice")
            references = tuple(
                _store_path(ref, where, absolute=False) for ref in value.split(" ") if ref
            )
        elif key == "Deriver":
            deriver = None if value == "unknown-deriver" else _store_path(value, where, False)
        elif key == "System":
            system = value
        elif key == "Sig":
            if value not in signatures:
                signatures.append(value)
        elif key == "CA":
            if ca is not None:
                raise NarInfoError(f"{where}: CA given twice")
            try:
                ca = parse_ca(value)
            except HashParseError as e:
                raise NarInfoError(f"{where}: {e}") from None

    missing = [
        name
        for name, present in (
            ("StorePath", store_path is not None),
            ("URL", bool(url)),
            ("NarHash", nar_hash is not None),
            ("NarSize", nar_size != 0),
        )
        if not present
    ]
    if missing:
        raise NarInfoError(f"narinfo lacks required field(s): {', '.join(missing)}")
    assert store_path is not None and nar_hash is not None
    return NarInfo(
        store_path=store_path,
        url=url,
        nar_hash=nar_hash,
        nar_size=nar_size,
        references=references or (),
        compression=compression or "bzip2",
        file_hash=file_hash,
        file_size=file_size,
        deriver=deriver,
        system=system,
        signatures=tuple(signatures),
        ca=ca,
    )
