"""Hypothesis round trips: generated derivations through ATerm and JSON and back."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st
from nix_compat.derivation import (
    Derivation,
    Output,
    parse_aterm,
    parse_show_derivation_json,
    show_derivation_json,
)
from nix_compat.nixhash import CAHash, FlatHash, HashAlgo, NarHash, NixHash, TextHash

# Any byte string, carried in a str field as Nix's bytes are (non-UTF-8 as lone surrogates).
any_text = st.binary(max_size=20).map(lambda b: b.decode("utf-8", "surrogateescape"))
# Fields C++ Nix writes without escaping cannot contain a quote or a backslash.
verbatim_text = any_text.filter(lambda s: '"' not in s and "\\" not in s)
names = st.text("abcdefghijklmnopqrstuvwxyz0123456789+-._?=", min_size=1, max_size=12)


@st.composite
def ca_hashes(draw: st.DrawFn) -> CAHash:
    algo = draw(st.sampled_from(list(HashAlgo)))
    digest = hashlib.new(algo.value, draw(st.binary(max_size=8))).digest()
    kind = draw(st.sampled_from(["flat", "nar", "text"]))
    if kind == "text":
        return TextHash(hashlib.sha256(digest).digest())
    nix_hash = NixHash(algo, digest)
    return FlatHash(nix_hash) if kind == "flat" else NarHash(nix_hash)


outputs = st.dictionaries(
    names, st.builds(Output, verbatim_text, st.none() | ca_hashes()), max_size=4
)
derivations = st.builds(
    Derivation,
    outputs=outputs,
    input_derivations=st.dictionaries(
        verbatim_text, st.sets(verbatim_text, max_size=3), max_size=3
    ),
    input_sources=st.sets(verbatim_text, max_size=3),
    system=verbatim_text,
    builder=any_text,
    arguments=st.lists(any_text, max_size=4),
    environment=st.dictionaries(any_text, st.binary(max_size=30), max_size=6),
)


@settings(max_examples=100, deadline=None)
@given(derivations)
def test_aterm_round_trip(drv: Derivation) -> None:
    data = drv.to_aterm_bytes()
    parsed = parse_aterm(data)
    assert parsed == drv
    assert parsed.to_aterm_bytes() == data


@settings(max_examples=100, deadline=None)
@given(derivations)
def test_json_round_trip(drv: Derivation) -> None:
    assert Derivation.from_json(drv.to_json()) == drv
    as_bytes = drv.to_json().encode("utf-8", "surrogateescape")
    assert Derivation.from_json(as_bytes) == drv


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(verbatim_text, derivations, max_size=3))
def test_show_derivation_json_round_trip(drvs: dict[str, Derivation]) -> None:
    assert parse_show_derivation_json(show_derivation_json(drvs)) == drvs
