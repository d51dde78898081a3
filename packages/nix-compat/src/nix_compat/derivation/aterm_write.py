"""Serialise a derivation to the ATerm form C++ Nix writes to ``.drv`` files.

C++ Nix escapes only the builder, the arguments and the environment (keys and values); output
names, store paths, hash fields and the system are written verbatim. We do the same, so the
bytes (and hence the drv path) match Nix's even for unusual strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from operator import itemgetter
from typing import TYPE_CHECKING

from nix_compat.derivation.errors import DerivationError
from nix_compat.derivation.output_hash import ca_hash_fields

if TYPE_CHECKING:
    from nix_compat.derivation.model import Derivation

_NEEDS_ESCAPE = re.compile(rb'[\\"\n\r\t]')


def encode_str(text: str) -> bytes:
    """UTF-8 bytes of a model string, restoring non-UTF-8 bytes kept as lone surrogates."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as e:
        raise _surrogate_error(e) from None


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


_FIRST = itemgetter(0)


def _surrogate_error(e: UnicodeEncodeError) -> DerivationError:
    """The :func:`encode_str` error for the string ``e`` failed on."""
    return DerivationError(
        f"string {e.object!r} has an unpaired surrogate at index {e.start} that stands for no byte"
    )


def _list(items: list[bytes]) -> bytes:
    """``["a","b"]`` of items that are already escaped or verbatim."""
    if not items:
        return b"[]"
    return b'["' + b'","'.join(items) + b'"]'


def write_aterm(
    drv: Derivation, input_derivations: Mapping[str, Iterable[str]] | None = None
) -> bytes:
    """The ``Derive(...)`` bytes of ``drv``: maps and sets sorted by their bytes.

    ``input_derivations`` stands in for the derivation's own (``hashDerivationModulo`` writes
    the input derivations' hashes there), so no modified copy of ``drv`` is needed.
    """
    if input_derivations is None:
        input_derivations = drv.input_derivations
    try:
        # plain UTF-8 first: much faster than naming an error handler, and the same bytes
        return _write(drv, input_derivations, _STRICT)
    except UnicodeEncodeError:
        pass
    try:
        return _write(drv, input_derivations, _SURROGATES)
    except UnicodeEncodeError as e:
        raise _surrogate_error(e) from None


_STRICT: tuple[str, ...] = ()
_SURROGATES = ("utf-8", "surrogateescape")


def _write(
    drv: Derivation, input_derivations: Mapping[str, Iterable[str]], enc: tuple[str, ...]
) -> bytes:
    """:func:`write_aterm` with strings encoded by ``str.encode(*enc)``.

    Strings are encoded in the order the fields are written, so the first string that cannot
    be encoded is the one reported.
    """
    outputs = sorted([(k.encode(*enc), v) for k, v in drv.outputs.items()], key=_FIRST)
    input_drvs = sorted([(k.encode(*enc), v) for k, v in input_derivations.items()], key=_FIRST)
    env = sorted([(k.encode(*enc), v) for k, v in drv.environment.items()], key=_FIRST)
    output_terms = []
    for name, output in outputs:
        algo, digest = ca_hash_fields(output.ca_hash)
        output_terms.append(
            b'("'
            + name
            + b'","'
            + output.path.encode(*enc)
            + b'","'
            + algo.encode()
            + b'","'
            + digest.encode()
            + b'")'
        )
    input_drv_terms = [
        b'("' + path + b'",' + _list(sorted([n.encode(*enc) for n in names])) + b")"
        for path, names in input_drvs
    ]
    sources = _list(sorted([s.encode(*enc) for s in drv.input_sources]))
    system = drv.system.encode(*enc)
    builder = drv.builder.encode(*enc)
    arguments = [a.encode(*enc) for a in drv.arguments]
    keys = [k for k, _ in env]
    values = [v for _, v in env]
    # one scan over everything that is escaped finds the usual case of nothing to escape
    if _NEEDS_ESCAPE.search(b"".join([builder, *arguments, *keys, *values])) is not None:
        builder = escape_bytes(builder)
        arguments = [escape_bytes(a) for a in arguments]
        keys = [escape_bytes(k) for k in keys]
        values = [escape_bytes(v) for v in values]
    if env:
        env_term = (
            b'[("'
            + b'"),("'.join([k + b'","' + v for k, v in zip(keys, values, strict=True)])
            + b'")]'
        )
    else:
        env_term = b"[]"
    return b"".join(
        [
            b"Derive([",
            b",".join(output_terms),
            b"],[",
            b",".join(input_drv_terms),
            b"],",
            sources,
            b',"',
            system,
            b'","',
            builder,
            b'",',
            _list(arguments),
            b",",
            env_term,
            b")",
        ]
    )
