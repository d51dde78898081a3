"""Store paths: parsing, validation and computing them from content or derivations."""

from nix_compat.errors import StorePathError
from nix_compat.store_path.build import (
    build_ca_path,
    build_nar_based_store_path,
    build_output_path,
    build_text_path,
    compress_hash,
    hash_placeholder,
)
from nix_compat.store_path.path import (
    DIGEST_SIZE,
    ENCODED_DIGEST_SIZE,
    MAX_NAME_LEN,
    STORE_DIR,
    STORE_DIR_WITH_SLASH,
    StorePath,
    is_canonical_absolute_path,
    validate_name,
)

__all__ = [
    "DIGEST_SIZE",
    "ENCODED_DIGEST_SIZE",
    "MAX_NAME_LEN",
    "STORE_DIR",
    "STORE_DIR_WITH_SLASH",
    "StorePath",
    "StorePathError",
    "build_ca_path",
    "build_nar_based_store_path",
    "build_output_path",
    "build_text_path",
    "compress_hash",
    "hash_placeholder",
    "is_canonical_absolute_path",
    "validate_name",
]
