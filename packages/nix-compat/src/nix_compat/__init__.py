"""Nix's wire and file formats in Python.

nixbase32, hashes, store paths, derivations (ATerm), NAR and narinfo.
"""

from nix_compat import nixbase32
from nix_compat.derivation import (
    ATermParseError,
    Derivation,
    DerivationError,
    Output,
    parse_aterm,
    write_aterm,
)
from nix_compat.errors import HashParseError, Nixbase32Error, NixCompatError, StorePathError
from nix_compat.nar import (
    NarError,
    NarReader,
    dump_path,
    nar_hash_path,
    open_nar_writer,
    read_nar,
    restore,
)
from nix_compat.narinfo import NarInfo, NarInfoError, parse_narinfo
from nix_compat.nixhash import (
    CAHash,
    FlatHash,
    HashAlgo,
    NarHash,
    NixHash,
    TextHash,
    ca_hash_from_drv_output,
    ca_hash_from_output_hash,
    output_hash_algo_string,
    parse_ca,
    parse_digest,
    parse_hash,
)
from nix_compat.store_path import (
    STORE_DIR,
    StorePath,
    build_ca_path,
    build_nar_based_store_path,
    build_output_path,
    build_text_path,
    compress_hash,
    hash_placeholder,
    validate_name,
)

__all__ = [
    "STORE_DIR",
    "ATermParseError",
    "CAHash",
    "Derivation",
    "DerivationError",
    "FlatHash",
    "HashAlgo",
    "HashParseError",
    "NarError",
    "NarHash",
    "NarInfo",
    "NarInfoError",
    "NarReader",
    "NixCompatError",
    "NixHash",
    "Nixbase32Error",
    "Output",
    "StorePath",
    "StorePathError",
    "TextHash",
    "build_ca_path",
    "build_nar_based_store_path",
    "build_output_path",
    "build_text_path",
    "ca_hash_from_drv_output",
    "ca_hash_from_output_hash",
    "compress_hash",
    "dump_path",
    "hash_placeholder",
    "nar_hash_path",
    "nixbase32",
    "open_nar_writer",
    "output_hash_algo_string",
    "parse_aterm",
    "parse_ca",
    "parse_digest",
    "parse_hash",
    "parse_narinfo",
    "read_nar",
    "restore",
    "validate_name",
    "write_aterm",
]


def __getattr__(name: str) -> object:
    """Load the signing names on first use: they pull in ``cryptography``."""
    if name in {"PublicKey", "SecretKey", "Signature", "SignatureError"}:
        from nix_compat import signing

        return getattr(signing, name)
    raise AttributeError(f"module 'nix_compat' has no attribute {name!r}")
