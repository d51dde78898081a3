"""Differential tests: derivations written by C++ Nix's nix-instantiate, read and recomputed."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from nix_compat.derivation import Derivation, Output, parse_aterm, show_derivation_json
from nix_compat.nixhash import NixHash
from nix_compat.store_path import StorePath

pytestmark = [
    pytest.mark.nix,
    pytest.mark.skipif(
        shutil.which("nix-instantiate") is None, reason="C++ Nix (nix-instantiate) is not installed"
    ),
]

EXPRESSIONS = rb"""
rec {
  simple = derivation {
    name = "simple"; builder = "/bin/sh"; system = "x86_64-linux";
    args = [ "-c" "echo \"hi\" > $out\n\ttab\rreturn\\backslash" ];
  };
  recursive = derivation {
    name = "recursive"; builder = "/bin/sh"; system = "x86_64-linux";
    outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    outputHashMode = "recursive";
  };
  flat = derivation {
    name = "flat"; builder = "/bin/sh"; system = "x86_64-linux";
    outputHash = "2jmj7l5rSw0yVb/vlWAYkK/YBwk="; outputHashAlgo = "sha1";
  };
  flat512 = derivation {
    name = "flat512"; builder = "/bin/sh"; system = "x86_64-linux";
    outputHashAlgo = ""; outputHashMode = "flat";
    outputHash = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XY"
      + "XysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==";
  };
  multi = derivation {
    name = "multi"; builder = "/bin/sh"; system = "x86_64-linux";
    outputs = [ "out" "dev" "lib" ];
    ctl = builtins.fromJSON "\"a\\u0001\\b\\f\\u007f\"";
    "key\"with\\quote" = "value";
  };
  latin1 = derivation {
    name = "latin1"; builder = ":"; system = ":"; chars = "\xc5\xc4\xd6";
  };
  dependent = derivation {
    name = "dependent"; builder = "/bin/sh"; system = "x86_64-linux";
    args = [ "${multi.dev}" "${multi.lib}" recursive flat ];
    src = builtins.toFile "source.txt" "contents";
  };
  # Two equivalent fixed-output derivations (same name and hash, different builders) make the
  # twins' modulo hashes equal; `united` then depends on the same modulo hash twice.
  fetchA = derivation {
    name = "fetched"; builder = "/bin/a"; system = "x86_64-linux";
    outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    outputHashMode = "recursive";
  };
  fetchB = derivation {
    name = "fetched"; builder = "/bin/b"; system = "x86_64-linux";
    outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    outputHashMode = "recursive";
  };
  twinA = derivation {
    name = "twin"; builder = "/bin/sh"; system = "x86_64-linux"; src = fetchA;
    outputs = [ "out" "dev" "lib" ];
  };
  twinB = derivation {
    name = "twin"; builder = "/bin/sh"; system = "x86_64-linux"; src = fetchB;
    outputs = [ "out" "dev" "lib" ];
  };
  united = derivation {
    name = "united"; builder = "/bin/sh"; system = "x86_64-linux";
    dev = twinA.dev; lib = twinB.lib;
  };
  chain = derivation {
    name = "chain"; builder = "/bin/sh"; system = "x86_64-linux";
    inherit dependent simple;
    outputs = [ "bin" "out" ];
  };
}
"""
ATTRIBUTES = [
    "simple",
    "recursive",
    "flat",
    "flat512",
    "multi",
    "latin1",
    "dependent",
    "chain",
    "fetchA",
    "fetchB",
    "twinA",
    "twinB",
    "united",
]


def _run(*args: str) -> bytes:
    result = subprocess.run(args, capture_output=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{args} failed: {result.stderr.decode(errors='replace')}")
    return result.stdout


@pytest.fixture(scope="module")
def nix_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A throwaway store with every expression instantiated: (store root, {attr: drv path})."""
    root = tmp_path_factory.mktemp("nix-root")
    source = root / "derivations.nix"
    source.write_bytes(EXPRESSIONS)
    drv_paths = {}
    for attr in ATTRIBUTES:
        output = _run("nix-instantiate", "--store", str(root), str(source), "-A", attr)
        # For a derivation whose first output is not `out`, Nix prints `<drv path>!<output>`.
        drv_paths[attr] = output.decode().strip().partition("!")[0]
    return root, drv_paths


def _read(root: Path, drv_path: str) -> bytes:
    return (root / drv_path.lstrip("/")).read_bytes()


@pytest.mark.parametrize("attr", ATTRIBUTES)
def test_nix_written_drv_round_trips(nix_store: tuple[Path, dict[str, str]], attr: str) -> None:
    root, drv_paths = nix_store
    data = _read(root, drv_paths[attr])
    drv = parse_aterm(data)
    assert drv.to_aterm_bytes() == data
    drv.validate()


@pytest.mark.parametrize("attr", ATTRIBUTES)
def test_paths_match_nix(nix_store: tuple[Path, dict[str, str]], attr: str) -> None:
    root, drv_paths = nix_store

    @cache
    def modulo_hash(drv_path: str) -> NixHash:
        return parse_aterm(_read(root, drv_path)).derivation_or_fod_hash(modulo_hash)

    drv_path = StorePath.from_absolute_path(drv_paths[attr])
    name = drv_path.name.removesuffix(".drv")
    expected = parse_aterm(_read(root, drv_paths[attr]))
    assert expected.calculate_derivation_path(name) == drv_path

    drv = replace(expected, outputs=dict(expected.outputs), environment=dict(expected.environment))
    drv.prepare_for_output_path_calculation()
    drv.calculate_output_paths(name, drv.derivation_or_fod_hash(modulo_hash))
    assert drv == expected


def test_dependent_has_inputs(nix_store: tuple[Path, dict[str, str]]) -> None:
    root, drv_paths = nix_store
    drv = parse_aterm(_read(root, drv_paths["dependent"]))
    assert drv.input_derivations == {
        drv_paths["multi"]: {"dev", "lib"},
        drv_paths["recursive"]: {"out"},
        drv_paths["flat"]: {"out"},
    }
    assert len(drv.input_sources) == 1


def test_inputs_with_equal_modulo_hashes_unite_output_names(
    nix_store: tuple[Path, dict[str, str]],
) -> None:
    root, drv_paths = nix_store

    @cache
    def modulo_hash(drv_path: str) -> NixHash:
        return parse_aterm(_read(root, drv_path)).derivation_or_fod_hash(modulo_hash)

    assert modulo_hash(drv_paths["twinA"]) == modulo_hash(drv_paths["twinB"])
    assert drv_paths["twinA"] != drv_paths["twinB"]


def test_show_derivation_json_matches_nix(nix_store: tuple[Path, dict[str, str]]) -> None:
    if shutil.which("nix") is None:
        pytest.skip("the nix command is not installed")
    root, drv_paths = nix_store
    nix_json = _run(
        "nix",
        "--extra-experimental-features",
        "nix-command",
        "show-derivation",
        "--store",
        str(root),
        "--recursive",
        drv_paths["chain"],
        drv_paths["latin1"],
    )
    closure = _closure(root, drv_paths["chain"]) | {drv_paths["latin1"]}
    ours = show_derivation_json({path: parse_aterm(_read(root, path)) for path in closure})
    assert len(closure) == 7
    assert ours.encode("utf-8", "surrogateescape") == nix_json


def _closure(root: Path, drv_path: str) -> set[str]:
    result = {drv_path}
    for input_drv in parse_aterm(_read(root, drv_path)).input_derivations:
        result |= _closure(root, input_drv)
    return result


def test_unescaped_fields_are_written_as_nix_does(tmp_path: Path) -> None:
    """Nix writes the system verbatim, and escapes environment keys.

    A quote in the system makes the .drv unreadable, even to Nix: nix-instantiate writes it and
    then fails to read it back. We write the same bytes, so the drv path agrees.
    """
    expression = (
        'derivation { name = "odd"; builder = "/bin/sh"; system = "a\\"b\\\\c"; '
        '"k\\"ey" = "v\\tw"; args = [ "x\\ny" ]; }'
    )
    result = subprocess.run(
        ["nix-instantiate", "--store", str(tmp_path), "-E", expression],
        capture_output=True,
        check=False,
    )
    assert b"error parsing derivation" in result.stderr
    [written] = (tmp_path / "nix" / "store").glob("*-odd.drv")

    drv = Derivation(
        outputs={"out": Output()},
        system='a"b\\c',
        builder="/bin/sh",
        arguments=["x\ny"],
        environment={
            "builder": b"/bin/sh",
            'k"ey': b"v\tw",
            "name": b"odd",
            "out": b"",
            "system": b'a"b\\c',
        },
    )
    drv.calculate_output_paths("odd", drv.derivation_or_fod_hash(pytest.fail))
    assert drv.to_aterm_bytes() == written.read_bytes()
    assert str(drv.calculate_derivation_path("odd")) == written.name
