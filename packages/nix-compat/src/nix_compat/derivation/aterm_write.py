"""Serialise a derivation to the ATerm form C++ Nix writes to ``.drv`` files.

C++ Nix escapes only the builder, the arguments and the environment (keys and values); output
names, store paths, hash fields and the system are written verbatim. We do the same, so the
bytes (and hence the drv path) match Nix's even for unusual strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence, Set
from operator import itemgetter
from typing import TYPE_CHECKING

from nix_compat.derivation.errors import DerivationError
from nix_compat.derivation.output_hash import ca_hash_fields

if TYPE_CHECKING:
    from nix_compat.derivation.model import Derivation

_NEEDS_ESCAPE = re.compile(rb'[\\"\n\r\t]')
#: the same bytes, for ``bytes.translate`` (much faster than the regular expression on long data)
_ESCAPED = b'\\"\n\r\t'


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


def write_aterm(drv: Derivation, input_derivations: Mapping[str, Set[str]] | None = None) -> bytes:
    """The ``Derive(...)`` bytes of ``drv``: maps and sets sorted by their bytes.

    ``input_derivations`` stands in for the derivation's own (``hashDerivationModulo`` writes
    the input derivations' hashes there), so no modified copy of ``drv`` is needed.
    """
    if input_derivations is None:
        input_derivations = drv.input_derivations
    return write_aterms(drv, [input_derivations])[0]


def write_aterms(
    drv: Derivation, input_derivations: Sequence[Mapping[str, Set[str]]]
) -> list[bytes]:
    """:func:`write_aterm` of ``drv`` once for each of several input derivation maps.

    The other fields are written once for all: a new derivation's ``.drv`` file and its
    ``hashDerivationModulo`` differ only in the input derivations.
    """
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
    drv: Derivation, input_derivations: Sequence[Mapping[str, Set[str]]], enc: tuple[str, ...]
) -> list[bytes]:
    """:func:`write_aterms` with strings encoded by ``str.encode(*enc)``.

    Strings are encoded in the order the fields are written (the input derivations of every
    map in their place), so the first string that cannot be encoded is the one reported.
    """
    outputs = sorted([(k.encode(*enc), v) for k, v in drv.outputs.items()], key=_FIRST)
    inputs = [
        sorted([(k.encode(*enc), v) for k, v in m.items()], key=_FIRST) for m in input_derivations
    ]
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
    input_sections = [_input_derivations(sorted_inputs, enc) for sorted_inputs in inputs]
    sources = _list(sorted([s.encode(*enc) for s in drv.input_sources]))
    system = drv.system.encode(*enc)
    builder = drv.builder.encode(*enc)
    arguments = [a.encode(*enc) for a in drv.arguments]
    keys = [k for k, _ in env]
    values = [v for _, v in env]
    # one scan over everything that is escaped finds the usual case of nothing to escape
    blob = b"".join([builder, *arguments, *keys, *values])
    if len(blob.translate(None, _ESCAPED)) != len(blob):
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
    head = b"Derive([" + b",".join(output_terms) + b"],["
    tail = b"".join(
        [
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
    return [head + section + tail for section in input_sections]


def _input_derivations(inputs: list[tuple[bytes, Set[str]]], enc: tuple[str, ...]) -> bytes:
    """The terms of the (sorted) input derivations, without the brackets."""
    terms = []
    for path, names in inputs:
        if len(names) == 1 and "out" in names:
            # the usual case, without encoding and sorting a list of one
            terms.append(b'("' + path + b'",["out"])')
        else:
            names_term = _list(sorted([n.encode(*enc) for n in names]))
            terms.append(b'("' + path + b'",' + names_term + b")")
    return b",".join(terms)
