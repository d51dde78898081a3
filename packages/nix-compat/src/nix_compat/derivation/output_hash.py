"""The ``hashAlgo`` and ``hash`` fields of a derivation output, to and from a content address."""

from __future__ import annotations

from nix_compat.derivation.errors import DerivationError
from nix_compat.errors import HashParseError
from nix_compat.nixhash import CAHash, ca_hash_from_drv_output, output_hash_algo_string


def ca_hash_fields(ca_hash: CAHash | None) -> tuple[str, str]:
    """``(hashAlgo, hash)`` as written in a ``.drv``: ``("r:sha256", <hex>)``, or empty strings."""
    if ca_hash is None:
        return "", ""
    return output_hash_algo_string(ca_hash), ca_hash.hash.hex()


def parse_ca_hash_fields(hash_algo: str, digest: str) -> CAHash | None:
    """The content address an output's ``hashAlgo`` and ``hash`` fields describe.

    Both empty means an input-addressed output (``None``). Raises :class:`DerivationError` when
    only one is set (Nix's floating content-addressed outputs, which this model cannot carry)
    or when they do not form a valid hash.
    """
    if not hash_algo and not digest:
        return None
    if not hash_algo:
        raise DerivationError(f"output hash {digest!r} is given without a hash algorithm")
    if not digest:
        raise DerivationError(
            f"output hash algorithm {hash_algo!r} is given without a hash "
            "(floating content-addressed outputs are not supported)"
        )
    try:
        return ca_hash_from_drv_output(hash_algo, digest)
    except HashParseError as e:
        raise DerivationError(f"invalid output hash: {e}") from None
