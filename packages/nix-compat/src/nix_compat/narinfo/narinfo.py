"""The narinfo model: what a binary cache says about one store path, rendered as Nix writes it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nix_compat.errors import NixCompatError
from nix_compat.nixhash import CAHash, NixHash
from nix_compat.store_path import StorePath

if TYPE_CHECKING:  # signing pulls in cryptography; it is imported when first used
    from nix_compat.signing import PublicKey, SecretKey

__all__ = ["NarInfo", "NarInfoError", "fingerprint"]


class NarInfoError(NixCompatError):
    """A narinfo is malformed, lacks a required field, or cannot be fingerprinted."""


def fingerprint(
    store_path: StorePath, nar_hash: NixHash, nar_size: int, references: Iterable[StorePath]
) -> str:
    """The text a narinfo signature signs, exactly as C++ Nix builds it.

    ``1;<store path>;<algo>:<nix32 NAR hash>;<NAR size>;<sorted absolute references, comma
    separated>``.
    """
    if nar_size <= 0:
        raise NarInfoError(f"cannot fingerprint {store_path.to_absolute_path()}: NarSize unknown")
    refs = ",".join(ref.to_absolute_path() for ref in sorted(set(references)))
    return f"1;{store_path.to_absolute_path()};{nar_hash.to_nix_string()};{nar_size};{refs}"


@dataclass(frozen=True)
class NarInfo:
    """The fields of a ``.narinfo`` file.

    ``references`` and ``signatures`` keep the order they were given in (Nix writes both
    sorted). ``compression`` is ``"bzip2"`` when a narinfo omits it, as in Nix. Signatures are
    kept as the text of their ``Sig:`` lines; :meth:`verify` parses them.
    """

    store_path: StorePath
    url: str
    nar_hash: NixHash
    nar_size: int
    references: tuple[StorePath, ...] = ()
    compression: str = "bzip2"
    file_hash: NixHash | None = None
    file_size: int | None = None
    deriver: StorePath | None = None
    system: str | None = None
    signatures: tuple[str, ...] = ()
    ca: CAHash | None = None

    def __post_init__(self) -> None:
        texts = [("URL", self.url), ("Compression", self.compression), ("System", self.system)]
        texts += [("Sig", sig) for sig in self.signatures]
        for field, text in texts:
            if text is not None and "\n" in text:
                raise NarInfoError(f"field {field} may not contain a newline: {text!r}")
        for field, size in (("NarSize", self.nar_size), ("FileSize", self.file_size)):
            if size is not None and not 0 <= size < 2**64:
                raise NarInfoError(f"field {field} must be an unsigned 64-bit integer, got {size}")

    def render(self) -> str:
        """The narinfo text, field by field in the order and format of C++ Nix."""
        lines = [
            f"StorePath: {self.store_path.to_absolute_path()}",
            f"URL: {self.url}",
            f"Compression: {self.compression}",
        ]
        if self.file_hash is not None:
            lines.append(f"FileHash: {self.file_hash.to_nix_string()}")
        if self.file_size is not None:
            lines.append(f"FileSize: {self.file_size}")
        lines.append(f"NarHash: {self.nar_hash.to_nix_string()}")
        lines.append(f"NarSize: {self.nar_size}")
        lines.append("References: " + " ".join(str(ref) for ref in self.references))
        if self.deriver is not None:
            lines.append(f"Deriver: {self.deriver}")
        if self.system is not None:
            lines.append(f"System: {self.system}")
        lines.extend(f"Sig: {sig}" for sig in self.signatures)
        if self.ca is not None:
            lines.append(f"CA: {self.ca.to_nix_string()}")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.render()

    def fingerprint(self) -> str:
        """The text that signatures of this narinfo sign."""
        return fingerprint(self.store_path, self.nar_hash, self.nar_size, self.references)

    def sign(self, key: SecretKey) -> NarInfo:
        """A copy with ``key``'s signature added, unless it is there already."""
        signature = key.sign(self.fingerprint()).to_nix_string()
        if signature in self.signatures:
            return self
        return dataclasses.replace(self, signatures=(*self.signatures, signature))

    def verify(self, public_keys: Iterable[PublicKey]) -> int:
        """How many of the signatures are valid under ``public_keys`` (Nix's checkSignatures).

        A malformed ``Sig:`` value raises :class:`nix_compat.signing.SignatureError`.
        """
        from nix_compat.signing import verify_detached

        keys = list(public_keys)
        message = self.fingerprint()
        return sum(1 for sig in set(self.signatures) if verify_detached(message, sig, keys))
