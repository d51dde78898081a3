"""Serialise a derivation to the ATerm form C++ Nix writes to ``.drv`` files.

C++ Nix escapes only the builder, the arguments and the environment (keys and values); output
names, store paths, hash fields and the system are written verbatim. We do the same, so the
bytes (and hence the drv path) match Nix's even for unusual strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from nix_compat.derivation.errors import DerivationError
from nix_compat.derivation.output_hash import ca_hash_fields

if TYPE_CHECKING:
    from nix_compat.derivation.model import Derivation, Output

_NEEDS_ESCAPE = re.compile(rb'[\\"\n\r\t]')


def encode_str(text: str) -> bytes:
    """UTF-8 bytes of a model string, restoring non-UTF-8 bytes kept as lone surrogates."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as e:
        raise DerivationError(
            f"string {text!r} has an unpaired surrogate at index {e.start} that stands for no byte"
        ) from None


def escape_bytes(data: bytes) -> bytes:
    """Escape ``\\``, ``"``, newline, carriage return and tab as Nix does; no quotes added."""
    if _NEEDS_ESCAPE.search(data) is None:
        return data
    return (
        data.replace(b"\\", b"\\\\")
        .replace(b"\n", b"\\n")
        .replace(b"\r", b"\\r")
        .replace(b"\t", b"\\t")
        .replace(b'"', b'\\"')
    )


def _quoted(data: bytes) -> bytes:
    return b'"' + escape_bytes(data) + b'"'


def _verbatim(data: bytes) -> bytes:
    return b'"' + data + b'"'


def _verbatim_list(items: Iterable[str]) -> bytes:
    return b"[" + b",".join(_verbatim(s) for s in sorted(encode_str(i) for i in items)) + b"]"


def _output(name: bytes, output: Output) -> bytes:
    algo, digest = ca_hash_fields(output.ca_hash)
    fields = (name, encode_str(output.path), algo.encode(), digest.encode())
    return b"(" + b",".join(_verbatim(f) for f in fields) + b")"


def _first(pair: tuple[bytes, object]) -> bytes:
    return pair[0]


def write_aterm(drv: Derivation) -> bytes:
    """The ``Derive(...)`` bytes of ``drv``: maps and sets sorted by their bytes."""
    outputs = sorted(((encode_str(k), v) for k, v in drv.outputs.items()), key=_first)
    input_drvs = sorted(((encode_str(k), v) for k, v in drv.input_derivations.items()), key=_first)
    env = sorted(((encode_str(k), v) for k, v in drv.environment.items()), key=_first)
    parts = [
        b"Derive([",
        b",".join(_output(name, output) for name, output in outputs),
        b"],[",
        b",".join(
            b"(" + _verbatim(path) + b"," + _verbatim_list(names) + b")"
            for path, names in input_drvs
        ),
        b"],",
        _verbatim_list(drv.input_sources),
        b",",
        _verbatim(encode_str(drv.system)),
        b",",
        _quoted(encode_str(drv.builder)),
        b",[",
        b",".join(_quoted(encode_str(arg)) for arg in drv.arguments),
        b"],[",
        b",".join(b"(" + _quoted(key) + b"," + _quoted(value) + b")" for key, value in env),
        b"])",
    ]
    return b"".join(parts)
