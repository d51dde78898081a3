"""Computing store paths the way C++ Nix's ``makeStorePath`` and its callers do.

A path's digest is the sha256 of the fingerprint ``<type>:<algo>:<hex digest>:/nix/store:<name>``
folded to 20 bytes with :func:`compress_hash`. The type is ``text[:refs]`` for text files,
``source[:refs][:self]`` for NAR-hashed sha256 content, ``output:out`` for other fixed outputs
and ``output:<name>`` for input-addressed derivation outputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from nix_compat import nixbase32
from nix_compat.errors import StorePathError
from nix_compat.nixhash import CAHash, HashAlgo, NarHash, NixHash, TextHash
from nix_compat.store_path.path import (
    DIGEST_SIZE,
    STORE_DIR,
    StorePath,
    is_canonical_absolute_path,
    validate_name,
)

__all__ = [
    "build_ca_path",
    "build_nar_based_store_path",
    "build_output_path",
    "build_text_path",
    "compress_hash",
    "hash_placeholder",
]


def compress_hash(digest: bytes, size: int) -> bytes:
    """Fold ``digest`` to ``size`` bytes by XOR-ing byte ``i`` into position ``i % size``.

    The ``size``-byte chunks are XOR-ed as big numbers, not byte by byte in Python.
    """
    if size <= 0:
        output = bytearray(size)
        for i, byte in enumerate(digest):
            output[i % size] ^= byte
        return bytes(output)
    data = bytes(digest)
    folded = 0
    for start in range(0, len(data), size):
        folded ^= int.from_bytes(data[start : start + size].ljust(size, b"\0"), "big")
    return folded.to_bytes(size, "big")


def build_text_path(
    name: str, content: bytes | str, references: Iterable[str | StorePath] = ()
) -> StorePath:
    """The path of a text file (``builtins.toFile``, a ``.drv``) with these references."""
    data = content.encode() if isinstance(content, str) else content
    # what build_ca_path does for a TextHash, without making one
    refs = _sorted_references(references)
    digest = hashlib.sha256(data).digest()
    return _make_store_path(_make_type("text", refs, False), NixHash(HashAlgo.SHA256, digest), name)


def build_ca_path(
    name: str,
    ca: CAHash,
    references: Iterable[str | StorePath] = (),
    self_reference: bool = False,
) -> StorePath:
    """The path of content-addressed content, as ``makeFixedOutputPath``/``makeTextPath``.

    Only NAR-hashed sha256 content may have references and a self reference, and text may
    have references; other content addresses raise :class:`StorePathError` when given any.
    """
    refs = _sorted_references(references)
    if isinstance(ca, TextHash):
        if self_reference:
            raise StorePathError(f"text store path {name!r} cannot refer to itself")
        return _make_store_path(_make_type("text", refs, False), ca.hash, name)
    if isinstance(ca, NarHash) and ca.hash.algo is HashAlgo.SHA256:
        return _make_store_path(_make_type("source", refs, self_reference), ca.hash, name)
    if refs or self_reference:
        raise StorePathError(
            f"store path {name!r} with content address {ca.to_nix_string()!r} cannot have "
            "references: only recursive (NAR) sha256 and text content addresses can"
        )
    inner = f"fixed:out:{ca.method_prefix}{ca.hash.to_hex_string()}:"
    fixed_hash = NixHash(HashAlgo.SHA256, hashlib.sha256(inner.encode()).digest())
    return _make_store_path("output:out", fixed_hash, name)


def build_nar_based_store_path(
    nar_sha256_digest: bytes,
    name: str,
    references: Iterable[str | StorePath] = (),
    self_reference: bool = False,
) -> StorePath:
    """The "source" path of a file or tree whose NAR has this sha256 (``nix-store --add``)."""
    ca = NarHash(NixHash(HashAlgo.SHA256, nar_sha256_digest))
    return build_ca_path(name, ca, references, self_reference)


def build_output_path(drv_hash: NixHash, output_name: str, output_path_name: str) -> StorePath:
    """The input-addressed path of output ``output_name``, from ``hashDerivationModulo``."""
    return _make_store_path(f"output:{output_name}", drv_hash, output_path_name)


def hash_placeholder(output_name: str) -> str:
    """What ``builtins.placeholder output_name`` returns: ``/`` + nix32(sha256("nix-output:…"))."""
    digest = hashlib.sha256(f"nix-output:{output_name}".encode()).digest()
    return "/" + nixbase32.encode(digest)


def _make_store_path(path_type: str, nix_hash: NixHash, name: str) -> StorePath:
    valid_name = validate_name(name)
    fingerprint = f"{path_type}:{nix_hash.to_hex_string()}:{STORE_DIR}:{name}"
    digest = hashlib.sha256(fingerprint.encode()).digest()
    return StorePath.from_valid_parts(compress_hash(digest, DIGEST_SIZE), valid_name)


def _sorted_references(references: Iterable[str | StorePath]) -> list[str]:
    """Validated absolute reference paths, deduplicated and sorted as in a ``StorePathSet``."""
    paths = set()
    for reference in references:
        if type(reference) is str and is_canonical_absolute_path(reference):
            # parsing it would give back the same string
            paths.add(reference)
        elif isinstance(reference, StorePath):
            paths.add(reference.to_absolute_path())
        else:
            paths.add(StorePath.from_absolute_path(reference).to_absolute_path())
    return sorted(paths)


def _make_type(path_type: str, references: list[str], self_reference: bool) -> str:
    parts = [path_type, *references]
    if self_reference:
        parts.append("self")
    return ":".join(parts)
