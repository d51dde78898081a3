"""Nix's wire and file formats in Python.

nixbase32, hashes, store paths, derivations (ATerm), NAR and narinfo.
"""

import importlib
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
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

#: names loaded on first use, by module: NAR and narinfo support are not needed to evaluate
#: derivations, and importing them costs a third of this package's import time; signing pulls
#: in ``cryptography``
_LAZY = {
    **dict.fromkeys(
        [
            "NarError",
            "NarReader",
            "dump_path",
            "nar_hash_path",
            "open_nar_writer",
            "read_nar",
            "restore",
        ],
        "nix_compat.nar",
    ),
    **dict.fromkeys(["NarInfo", "NarInfoError", "parse_narinfo"], "nix_compat.narinfo"),
    **dict.fromkeys(
        ["PublicKey", "SecretKey", "Signature", "SignatureError"], "nix_compat.signing"
    ),
}

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
    """Load the names of :data:`_LAZY` (and the ``nar`` and ``narinfo`` subpackages, which
    ``import nix_compat`` used to load) on first use."""
    if name in {"nar", "narinfo"}:
        return importlib.import_module(f"nix_compat.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nix_compat' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
