"""Hashes as Nix writes them (hex, nixbase32, base64, SRI) and content addresses."""

from nix_compat.errors import HashParseError
from nix_compat.nixhash.algo import HashAlgo
from nix_compat.nixhash.ca import (
    CAHash,
    FlatHash,
    NarHash,
    TextHash,
    ca_hash_from_drv_output,
    ca_hash_from_output_hash,
    output_hash_algo_string,
    parse_ca,
)
from nix_compat.nixhash.hash import NixHash, parse_digest, parse_hash

__all__ = [
    "CAHash",
    "FlatHash",
    "HashAlgo",
    "HashParseError",
    "NarHash",
    "NixHash",
    "TextHash",
    "ca_hash_from_drv_output",
    "ca_hash_from_output_hash",
    "output_hash_algo_string",
    "parse_ca",
    "parse_digest",
    "parse_hash",
]
