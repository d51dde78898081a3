"""Nix's wire and file formats in Python.

nixbase32, hashes, store paths, derivations (ATerm), NAR and narinfo.
"""

from nix_compat import nixbase32
from nix_compat.errors import HashParseError, Nixbase32Error, NixCompatError, StorePathError
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
    "CAHash",
    "FlatHash",
    "HashAlgo",
    "HashParseError",
    "NarHash",
    "NixCompatError",
    "NixHash",
    "Nixbase32Error",
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
    "hash_placeholder",
    "nixbase32",
    "output_hash_algo_string",
    "parse_ca",
    "parse_digest",
    "parse_hash",
    "validate_name",
]
