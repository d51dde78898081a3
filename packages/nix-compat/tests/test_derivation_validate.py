"""Derivation.validate: each rule of the reference's validate.rs, and what passes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from nix_compat.derivation import Derivation, DerivationError, Output
from nix_compat.nixhash import HashAlgo, NarHash, NixHash

OUT = "/nix/store/7igbqnhyall0z5iv36i80s5d34dncjmr-x"
DRV = "/nix/store/0hm2f1psjpcwg8fijsmr4wwxrx59s092-bar.drv"
SRC = "/nix/store/479085kqxqi9jkmicmk31wfaz4fcn13p-t.nix"
FIXED = NarHash(NixHash(HashAlgo.SHA256, bytes(32)))


def _valid() -> Derivation:
    return Derivation(
        outputs={"out": Output(OUT)},
        input_derivations={DRV: {"out"}},
        input_sources={SRC},
        system="x86_64-linux",
        builder="/bin/sh",
        environment={"out": OUT.encode()},
    )


def test_valid_derivation_passes() -> None:
    _valid().validate()


def test_blank_output_paths_pass_without_path_validation() -> None:
    drv = replace(_valid(), outputs={"out": Output(""), "dev": Output("")})
    drv.validate(validate_output_paths=False)
    with pytest.raises(DerivationError, match="invalid path of output 'dev' ''"):
        drv.validate()


def test_fixed_output_passes() -> None:
    replace(_valid(), outputs={"out": Output(OUT, FIXED)}).validate()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outputs": {}}, "derivation has no outputs"),
        ({"outputs": {"": Output(OUT)}}, "invalid output name '': empty store path name"),
        ({"outputs": {"drv": Output(OUT)}}, "invalid output name 'drv': 'drv' is reserved"),
        ({"outputs": {"a/b": Output(OUT)}}, "invalid output name 'a/b': .*illegal character '/'"),
        (
            {"outputs": {"out": Output(OUT, FIXED), "dev": Output(OUT)}},
            "output 'out' is fixed-output, but a fixed-output derivation must have exactly one "
            r"output \(it has 2\)",
        ),
        (
            {"outputs": {"lib": Output(OUT, FIXED)}},
            "the output of a fixed-output derivation must be called 'out', not 'lib'",
        ),
        ({"outputs": {"out": Output("/tmp/x")}}, "invalid path of output 'out' '/tmp/x'"),
        ({"input_derivations": {"/nix/store/x.drv": {"out"}}}, "invalid input derivation path"),
        (
            {"input_derivations": {OUT: {"out"}}},
            f"input derivation '{OUT}' does not end with '.drv'",
        ),
        ({"input_derivations": {DRV: set()}}, f"input derivation '{DRV}' lists no output names"),
        (
            {"input_derivations": {DRV: {"drv"}}},
            f"input derivation '{DRV}' has invalid output name 'drv'",
        ),
        (
            {"input_derivations": {DRV: {""}}},
            f"input derivation '{DRV}' has invalid output name ''",
        ),
        ({"input_sources": {"relative"}}, "invalid input source path 'relative'"),
        ({"system": ""}, "the system field is empty"),
        ({"builder": ""}, "the builder field is empty"),
        ({"environment": {"": b"x"}}, "the environment has a variable with an empty name"),
    ],
)
def test_invalid(change: dict[str, object], message: str) -> None:
    drv = replace(_valid(), **change)  # type: ignore[arg-type]
    with pytest.raises(DerivationError, match=message):
        drv.validate()
