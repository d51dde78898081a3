"""Store paths: ``/nix/store/<32 nixbase32 characters>-<name>``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from nix_compat import nixbase32
from nix_compat.errors import StorePathError

__all__ = [
    "DIGEST_SIZE",
    "ENCODED_DIGEST_SIZE",
    "MAX_NAME_LEN",
    "STORE_DIR",
    "STORE_DIR_WITH_SLASH",
    "StorePath",
    "is_canonical_absolute_path",
    "validate_name",
]

STORE_DIR = "/nix/store"
STORE_DIR_WITH_SLASH = STORE_DIR + "/"
DIGEST_SIZE = 20
ENCODED_DIGEST_SIZE = 32
MAX_NAME_LEN = 211
"""The longest name C++ Nix accepts (``StorePath::MaxPathLen``)."""

_NAME_RE = re.compile(r"[A-Za-z0-9+\-._?=]+")
_CANONICAL_ABSOLUTE_PATH_RE = re.compile(
    re.escape(STORE_DIR_WITH_SLASH)
    + f"[{nixbase32.ALPHABET}]{{{ENCODED_DIGEST_SIZE}}}-"
    + f"[A-Za-z0-9+\\-._?=]{{1,{MAX_NAME_LEN}}}"
)
_NIX32_CHARS = frozenset(nixbase32.ALPHABET)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?=")


def validate_name(name: str | bytes) -> str:
    """Check a store path name against C++ Nix's rules and return it as a string.

    The name must be 1 to 211 characters from ``A-Z a-z 0-9 + - . _ ? =``. A leading ``.`` is
    allowed, as C++ Nix 2.8 allows it (``builtins.toFile ".x"``, ``nix-store --add .hidden``).
    Raises :class:`StorePathError` naming the offending character and its position.
    """
    return _validate_name(name, None, 0)


def is_canonical_absolute_path(path: str) -> bool:
    """Whether ``StorePath.from_absolute_path(path).to_absolute_path()`` would give ``path`` back.

    One regular expression instead of a parse: callers that only need a valid absolute store
    path skip decoding and re-encoding the digest.
    """
    return _CANONICAL_ABSOLUTE_PATH_RE.fullmatch(path) is not None


def _validate_name(name: str | bytes, whole: str | None, offset: int) -> str:
    if isinstance(name, bytes | bytearray | memoryview):
        name = _as_text(name, "store path name")
    if 0 < len(name) <= MAX_NAME_LEN and _NAME_RE.fullmatch(name):
        return name
    context = f" in store path {whole!r}" if whole is not None else ""
    if not name:
        raise StorePathError(f"empty store path name{context}")
    if len(name) > MAX_NAME_LEN:
        raise StorePathError(
            f"store path name {name!r}{context} is {len(name)} characters long, "
            f"more than {MAX_NAME_LEN}"
        )
    position, char = next((i, c) for i, c in enumerate(name) if c not in _NAME_CHARS)
    raise StorePathError(
        f"store path name {name!r}{context} contains illegal character {char!r} at position "
        f"{offset + position}"
    )


@dataclass(frozen=True, slots=True)
class StorePath:
    """A direct child of the Nix store: a 20-byte digest and a name.

    ``str()`` gives the base name ``<nixbase32 digest>-<name>``. Store paths sort like C++ Nix
    sorts them, by that base name (which is not the order of the raw digests).
    """

    digest: bytes
    name: str
    _basename: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        digest: object = self.digest
        if not isinstance(digest, bytes):
            if not isinstance(digest, bytearray | memoryview):
                raise TypeError(f"StorePath.digest must be bytes, not {type(digest).__name__}")
            digest = bytes(digest)
            object.__setattr__(self, "digest", digest)
        if len(digest) != DIGEST_SIZE:
            raise StorePathError(f"a store path digest has {DIGEST_SIZE} bytes, got {len(digest)}")
        name = _validate_name(self.name, None, 0)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "_basename", f"{nixbase32.encode(digest)}-{name}")

    @classmethod
    def from_basename(cls, basename: str | bytes) -> StorePath:
        """Parse ``<32 nixbase32 characters>-<name>`` (no store directory, no subpath)."""
        return cls._parse(basename, None, 0)

    @classmethod
    def from_absolute_path(cls, path: str | bytes) -> StorePath:
        """Parse ``/nix/store/<hash>-<name>``; anything after the name is rejected."""
        text = _as_text(path)
        if not text.startswith(STORE_DIR_WITH_SLASH):
            raise StorePathError(f"path {text!r} is not in the Nix store {STORE_DIR!r}")
        return cls._parse(text[len(STORE_DIR_WITH_SLASH) :], text, len(STORE_DIR_WITH_SLASH))

    @classmethod
    def from_absolute_path_full(cls, path: str | bytes) -> tuple[StorePath, PurePosixPath]:
        """Split ``/nix/store/<hash>-<name>/sub/path`` into the store path and ``sub/path``."""
        text = _as_text(path)
        if not text.startswith(STORE_DIR_WITH_SLASH):
            raise StorePathError(f"path {text!r} is not in the Nix store {STORE_DIR!r}")
        rest = text[len(STORE_DIR_WITH_SLASH) :]
        basename, _, subpath = rest.partition("/")
        store_path = cls._parse(basename, text, len(STORE_DIR_WITH_SLASH))
        return store_path, PurePosixPath(subpath.lstrip("/"))

    @classmethod
    def _parse(cls, basename: str | bytes, whole: str | None, offset: int) -> StorePath:
        text = _as_text(basename)
        shown = whole if whole is not None else text
        if len(text) < ENCODED_DIGEST_SIZE + 2:
            raise StorePathError(
                f"store path {shown!r} is too short: expected {ENCODED_DIGEST_SIZE} nixbase32 "
                "characters, '-' and a name"
            )
        hash_part = text[:ENCODED_DIGEST_SIZE]
        if not _NIX32_CHARS.issuperset(hash_part):
            position, char = next((i, c) for i, c in enumerate(hash_part) if c not in _NIX32_CHARS)
            raise StorePathError(
                f"invalid hash part of store path {shown!r}: character {char!r} at offset "
                f"{offset + position} is not in the nixbase32 alphabet"
            )
        digest = nixbase32.decode(hash_part)
        if text[ENCODED_DIGEST_SIZE] != "-":
            raise StorePathError(
                f"store path {shown!r} lacks the '-' between hash and name at offset "
                f"{offset + ENCODED_DIGEST_SIZE}"
            )
        name = _validate_name(
            text[ENCODED_DIGEST_SIZE + 1 :], shown, offset + ENCODED_DIGEST_SIZE + 1
        )
        return cls._make(digest, name, text)

    @classmethod
    def from_valid_parts(cls, digest: bytes, name: str) -> StorePath:
        """A store path from a 20-byte ``digest`` and a ``name`` already validated (by
        :func:`validate_name`): the constructor without its checks, for hot paths."""
        return cls._make(digest, name, f"{nixbase32.encode(digest)}-{name}")

    @classmethod
    def _make(cls, digest: bytes, name: str, basename: str) -> StorePath:
        path = object.__new__(cls)
        object.__setattr__(path, "digest", digest)
        object.__setattr__(path, "name", name)
        object.__setattr__(path, "_basename", basename)
        return path

    @property
    def hash_part(self) -> str:
        """The nixbase32 digest, the 32 characters before the ``-``."""
        return self._basename[:ENCODED_DIGEST_SIZE]

    def to_absolute_path(self) -> str:
        """``/nix/store/<hash>-<name>``."""
        return STORE_DIR_WITH_SLASH + self._basename

    def __str__(self) -> str:
        return self._basename

    def __lt__(self, other: StorePath) -> bool:
        if not isinstance(other, StorePath):
            return NotImplemented
        return self._basename < other._basename

    def __le__(self, other: StorePath) -> bool:
        if not isinstance(other, StorePath):
            return NotImplemented
        return self._basename <= other._basename

    def __gt__(self, other: StorePath) -> bool:
        if not isinstance(other, StorePath):
            return NotImplemented
        return self._basename > other._basename

    def __ge__(self, other: StorePath) -> bool:
        if not isinstance(other, StorePath):
            return NotImplemented
        return self._basename >= other._basename


def _as_text(value: str | bytes, what: str = "store path") -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        if not raw.isascii():
            offset = next(i for i, byte in enumerate(raw) if byte >= 0x80)
            raise StorePathError(
                f"{what} {raw!r} contains the non-ASCII byte 0x{raw[offset]:02x} at offset {offset}"
            )
        return raw.decode("ascii")
    return value
