"""Ed25519 signing keys, public keys and detached signatures in Nix's text format.

Nix writes a secret key as ``name:base64(64 bytes)`` (libsodium's 32-byte seed followed by the
32-byte public key), a public key as ``name:base64(32 bytes)`` and a signature as
``name:base64(64 bytes)``; the name says which key made a signature. These are the files
``nix-store --generate-binary-cache-key`` writes and the ``Sig:`` lines of narinfo files.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from nix_compat.errors import NixCompatError

__all__ = [
    "PUBLIC_KEY_SIZE",
    "SECRET_KEY_SIZE",
    "SIGNATURE_SIZE",
    "PublicKey",
    "SecretKey",
    "Signature",
    "SignatureError",
    "verify_detached",
]

SECRET_KEY_SIZE = 64
PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64


class SignatureError(NixCompatError):
    """A key or signature in Nix's ``name:base64`` format is malformed or inconsistent."""


def _split_named(text: str, what: str, size: int) -> tuple[str, bytes]:
    """Split ``name:base64`` and decode the base64 part, which must be ``size`` bytes."""
    name, colon, encoded = text.strip().partition(":")
    if not colon:
        raise SignatureError(f"{what} {text!r} lacks the ':' between name and base64 data")
    if not name:
        raise SignatureError(f"{what} {text!r} has an empty name")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as e:
        raise SignatureError(
            f"{what} {text!r}: invalid base64 after offset {len(name) + 1}: {e}"
        ) from None
    if len(data) != size:
        raise SignatureError(f"{what} {text!r} holds {len(data)} bytes, expected {size}")
    return name, data


def _named(name: str, data: bytes) -> str:
    return f"{name}:{base64.b64encode(data).decode('ascii')}"


@dataclass(frozen=True)
class Signature:
    """A detached ed25519 signature together with the name of the key that made it."""

    key_name: str
    data: bytes

    @classmethod
    def parse(cls, text: str) -> Signature:
        """Parse ``name:base64(64 bytes)``, the form of a narinfo ``Sig:`` value."""
        name, data = _split_named(text, "signature", SIGNATURE_SIZE)
        return cls(name, data)

    def to_nix_string(self) -> str:
        """``name:base64``."""
        return _named(self.key_name, self.data)

    def __str__(self) -> str:
        return self.to_nix_string()


@dataclass(frozen=True)
class PublicKey:
    """An ed25519 public key with its name, as listed in ``trusted-public-keys``."""

    name: str
    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) != PUBLIC_KEY_SIZE:
            raise SignatureError(
                f"public key {self.name!r} has {len(self.key)} bytes, expected {PUBLIC_KEY_SIZE}"
            )

    @classmethod
    def parse(cls, text: str) -> PublicKey:
        """Parse ``name:base64(32 bytes)``."""
        name, key = _split_named(text, "public key", PUBLIC_KEY_SIZE)
        return cls(name, key)

    def to_nix_string(self) -> str:
        """``name:base64``, the content of a public key file."""
        return _named(self.name, self.key)

    def __str__(self) -> str:
        return self.to_nix_string()

    def verify(self, message: bytes | str, signature: Signature | str) -> bool:
        """Whether ``signature`` is this key's valid signature of ``message``.

        A signature made by a key of another name is not valid. A malformed signature string
        raises :class:`SignatureError`.
        """
        sig = Signature.parse(signature) if isinstance(signature, str) else signature
        if sig.key_name != self.name:
            return False
        data = message.encode() if isinstance(message, str) else message
        try:
            Ed25519PublicKey.from_public_bytes(self.key).verify(sig.data, data)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SecretKey:
    """An ed25519 signing key with its name, as in a Nix secret key file."""

    name: str
    seed: bytes
    public: bytes

    def __post_init__(self) -> None:
        if len(self.seed) != 32:
            raise SignatureError(f"secret key {self.name!r} needs a 32-byte seed")
        derived = _public_bytes(Ed25519PrivateKey.from_private_bytes(self.seed))
        if derived != self.public:
            raise SignatureError(
                f"secret key {self.name!r} is inconsistent: its public half does not match its seed"
            )

    @classmethod
    def generate(cls, name: str) -> SecretKey:
        """A fresh random key called ``name``."""
        if not name or ":" in name:
            raise SignatureError(f"key name {name!r} must be non-empty and contain no ':'")
        private = Ed25519PrivateKey.generate()
        seed = private.private_bytes_raw()
        return cls(name, seed, _public_bytes(private))

    @classmethod
    def parse(cls, text: str) -> SecretKey:
        """Parse ``name:base64(seed + public key)``, the content of a secret key file."""
        name, data = _split_named(text, "secret key", SECRET_KEY_SIZE)
        return cls(name, data[:32], data[32:])

    def to_nix_string(self) -> str:
        """``name:base64(64 bytes)``, the content of a secret key file."""
        return _named(self.name, self.seed + self.public)

    def __repr__(self) -> str:
        return f"SecretKey(name={self.name!r}, public={self.public_key()})"

    def public_key(self) -> PublicKey:
        """The matching public key, with the same name."""
        return PublicKey(self.name, self.public)

    def sign(self, message: bytes | str) -> Signature:
        """Sign ``message`` (for narinfo: its fingerprint)."""
        data = message.encode() if isinstance(message, str) else message
        return Signature(self.name, Ed25519PrivateKey.from_private_bytes(self.seed).sign(data))


def _public_bytes(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def verify_detached(
    message: bytes | str, signature: Signature | str, public_keys: Iterable[PublicKey]
) -> bool:
    """Whether one of ``public_keys`` with the signature's key name validates it, as Nix checks."""
    sig = Signature.parse(signature) if isinstance(signature, str) else signature
    return any(key.name == sig.key_name and key.verify(message, sig) for key in public_keys)
