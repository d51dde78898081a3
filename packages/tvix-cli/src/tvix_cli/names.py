"""Store path names, checked the way C++ Nix checks them.

Nix validates a name while building the store path, so its message shows the whole base name
(``store path '<hash>-a b' contains illegal character ' '``); reproducing it needs the hash the
path would have had, which callers supply through a lazily evaluated fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable

_NAME_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+-._?=")


class InvalidName(ValueError):
    """A store path name Nix rejects; the message is Nix's."""


def is_valid_name(name: str) -> bool:
    """Whether ``name`` may be the name of a store path."""
    return bool(name) and len(name) <= 211 and all(c in _NAME_CHARS for c in name)


def store_name_error(name: str, path_type: str, hash_hex: Callable[[], str]) -> InvalidName | None:
    """None for a valid name, else the error Nix reports for ``makeStorePath(path_type, …)``.

    ``hash_hex`` gives the sha256 (hex) that goes into the fingerprint; it is only computed for
    invalid names.
    """
    if is_valid_name(name):
        return None
    import hashlib

    from nix_compat import nixbase32
    from nix_compat.store_path import compress_hash

    fingerprint = f"{path_type}:sha256:{hash_hex()}:/nix/store:{name}"
    digest = compress_hash(hashlib.sha256(fingerprint.encode()).digest(), 20)
    base = f"{nixbase32.encode(digest)}-{name}"
    if not name:
        return InvalidName(f"store path '{base}' has an empty name")
    if len(name) > 211:
        return InvalidName(f"store path '{base}' has a name longer than 211 characters")
    bad = next(c for c in name if c not in _NAME_CHARS)
    return InvalidName(f"store path '{base}' contains illegal character '{bad}'")


def fixed_output_inner_hash(method_prefix: str, algo_and_hex: str) -> str:
    """The hash ``makeFixedOutputPath`` puts in an ``output:out`` fingerprint."""
    import hashlib

    return hashlib.sha256(f"fixed:out:{method_prefix}{algo_and_hex}:".encode()).hexdigest()
