"""``builtins.hashString``, ``builtins.hashFile`` and ``builtins.convertHash``."""

from __future__ import annotations

import hashlib

from tvix_eval.builtins._util import read_file, realise_path, to_bytes
from tvix_eval.builtins.registry import builtin
from tvix_eval.builtins.strings import no_context
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import expect_attrs, expect_string
from tvix_eval.runtime.values import Value

ALGORITHMS = ("md5", "sha1", "sha256", "sha512")
_FORMATS = {
    "base16": "base16",
    "nix32": "nix32",
    "base32": "nix32",
    "base64": "base64",
    "sri": "sri",
}


def hash_hex(algo: str, data: bytes) -> str:
    """The lowercase hex digest of ``data`` (``algo`` must be one Nix supports)."""
    if algo not in ALGORITHMS:
        raise EvalError(f"unknown hash algorithm '{algo}'")
    return hashlib.new(algo, data).hexdigest()


@builtin("hashString", 2)
def _hash_string(algo: Value, s: Value) -> str:
    """The hex digest of a string with md5, sha1, sha256 or sha512."""
    name = no_context(algo)
    return hash_hex(name, to_bytes(expect_string(s)))


@builtin("hashFile", 2)
def _hash_file(algo: Value, p: Value) -> str:
    """The hex digest of a file's contents."""
    name = no_context(algo)
    path = realise_path(p)
    if name not in ALGORITHMS:
        raise EvalError(f"unknown hash algorithm '{name}'")
    return hash_hex(name, read_file(path))


def convert_hash(hash_text: str, algo: str | None, to_format: str) -> str:
    """Re-encode a hash (any form Nix parses) as base16, nix32, base64 or SRI."""
    from nix_compat.nixhash import HashParseError, parse_hash

    fmt = _FORMATS.get(to_format)
    if fmt is None:
        raise EvalError(
            f"unknown hash format '{to_format}', expect 'base16', 'base32', 'nix32', 'base64', "
            "or 'sri'"
        )
    try:
        h = parse_hash(hash_text, algo)
    except HashParseError as e:
        raise EvalError(str(e)) from None
    if fmt == "base16":
        return h.hex()
    if fmt == "nix32":
        return h.nix32()
    if fmt == "base64":
        return h.base64()
    return h.sri()


@builtin("convertHash", 1)
def _convert_hash(args: Value) -> str:
    """``{ hash; hashAlgo ? <from the hash>; toHashFormat; }`` to the hash in that format."""
    d = expect_attrs(args).d
    hash_value = d.get("hash")
    if hash_value is None:
        raise EvalError("attribute 'hash' missing")
    text = no_context(hash_value)
    algo_value = d.get("hashAlgo")
    algo = None if algo_value is None else no_context(algo_value)
    fmt_value = d.get("toHashFormat")
    if fmt_value is None:
        raise EvalError("attribute 'toHashFormat' missing")
    return convert_hash(text, algo, no_context(fmt_value))
