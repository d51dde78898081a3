"""The reference's derivation fixtures: parse, write, JSON, validate, drv and output paths."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from nix_compat.derivation import (
    Derivation,
    Output,
    parse_aterm,
    parse_show_derivation_json,
    show_derivation_json,
)
from nix_compat.nixhash import HashAlgo, NarHash, NixHash
from nix_compat.store_path import StorePath

FIXTURES = Path(__file__).parent / "data" / "derivation_tests"
DRV_FILES = sorted(FIXTURES.glob("*.drv"))
# Nix 2.8 printed these two with raw (non-UTF-8) bytes, wrapped in {drvPath: ...}.
WRAPPED_JSON = {
    "m1vfixn8iprlf0v9abmlrz7mjw1xj8kp-cp1252.drv",
    "x6p0hg79i3wg0kkv7699935f7rrj9jf3-latin1.drv",
}


def _drv_name(basename: str) -> str:
    return basename[33 : -len(".drv")]


def _load_json(basename: str) -> Derivation:
    data = (FIXTURES / f"{basename}.json").read_bytes()
    if basename in WRAPPED_JSON:
        return parse_show_derivation_json(data)[f"/nix/store/{basename}"]
    return Derivation.from_json(data)


def _fixture(basename: str) -> Derivation:
    return parse_aterm((FIXTURES / basename).read_bytes())


def test_fixtures_are_present() -> None:
    assert len(DRV_FILES) == 10


@pytest.mark.parametrize("path", DRV_FILES, ids=lambda p: p.name)
def test_aterm_round_trip(path: Path) -> None:
    data = path.read_bytes()
    assert parse_aterm(data).to_aterm_bytes() == data


@pytest.mark.parametrize("path", DRV_FILES, ids=lambda p: p.name)
def test_json_matches_aterm(path: Path) -> None:
    from_json = _load_json(path.name)
    assert from_json == parse_aterm(path.read_bytes())
    assert from_json.to_aterm_bytes() == path.read_bytes()


@pytest.mark.parametrize("basename", sorted(WRAPPED_JSON))
def test_show_derivation_json_is_byte_identical(basename: str) -> None:
    drv = _fixture(basename)
    rendered = show_derivation_json({f"/nix/store/{basename}": drv})
    assert (
        rendered.encode("utf-8", "surrogateescape") == (FIXTURES / f"{basename}.json").read_bytes()
    )


def test_single_object_json_is_byte_identical() -> None:
    basename = "52a9id8hx688hvlnz4d1n25ml1jdykz0-unicode.drv"
    expected = (FIXTURES / f"{basename}.json").read_text(encoding="utf-8")
    assert _fixture(basename).to_json() + "\n" == expected


@pytest.mark.parametrize("path", DRV_FILES, ids=lambda p: p.name)
def test_validate(path: Path) -> None:
    parse_aterm(path.read_bytes()).validate(True)


@pytest.mark.parametrize("path", DRV_FILES, ids=lambda p: p.name)
def test_derivation_path(path: Path) -> None:
    drv = parse_aterm(path.read_bytes())
    assert drv.calculate_derivation_path(_drv_name(path.name)) == StorePath.from_basename(path.name)


@pytest.mark.parametrize(
    ("basename", "expected"),
    [
        (
            "0hm2f1psjpcwg8fijsmr4wwxrx59s092-bar.drv",
            "sha256:724f3e3634fce4cbbbd3483287b8798588e80280660b9a63fd13a1bc90485b33",
        ),
        (
            "ss2p4wmxijn652haqyd7dckxwl4c7hxx-bar.drv",
            "sha256:c79aebd0ce3269393d4a1fde2cbd1d975d879b40f0bf40a48f550edc107fd5df",
        ),
    ],
)
def test_fixed_output_hash(basename: str, expected: str) -> None:
    def no_lookup(path: str) -> NixHash:
        raise AssertionError(f"a fixed-output derivation must not look up {path}")

    assert _fixture(basename).derivation_or_fod_hash(no_lookup).to_hex_string() == expected


def _lookup_fixture_hash(drv_path: str) -> NixHash:
    """The modulo hash of a fixture input derivation (both `bar`s are fixed-output)."""

    def no_lookup(path: str) -> NixHash:
        raise AssertionError(f"unexpected lookup of {path}")

    return _fixture(str(StorePath.from_absolute_path(drv_path))).derivation_or_fod_hash(no_lookup)


@pytest.mark.parametrize("path", DRV_FILES, ids=lambda p: p.name)
def test_output_paths(path: Path) -> None:
    expected = parse_aterm(path.read_bytes())
    drv = parse_aterm(path.read_bytes())
    drv.prepare_for_output_path_calculation()
    assert all(out.path == "" for out in drv.outputs.values())
    assert all(drv.environment[name] == b"" for name in drv.outputs)

    drv.calculate_output_paths(
        _drv_name(path.name), drv.derivation_or_fod_hash(_lookup_fixture_hash)
    )

    assert drv == expected


def test_multiple_outputs_are_named_with_suffix() -> None:
    drv = _fixture("h32dahq0bx5rp1krcdx3a53asj21jvhk-has-multi-out.drv")
    assert (
        drv.outputs["lib"].path == "/nix/store/2vixb94v0hy2xc6p7mbnxxcyc095yyia-has-multi-out-lib"
    )
    assert drv.outputs["out"].path == "/nix/store/55lwldka5nyxa08wnvlizyqw02ihy8ic-has-multi-out"


def test_output_path_construction_bar_then_foo() -> None:
    """Build `bar` (fixed-output, recursive) and then `foo` depending on it, as derivationStrict."""
    digest = bytes.fromhex("08813cbee9903c62be4c5027726a418a300da4500b2d369d3af9286f4815ceba")
    bar = Derivation(
        builder=":",
        system=":",
        environment={
            "builder": b":",
            "name": b"bar",
            "out": b"",
            "outputHash": digest.hex().encode(),
            "outputHashAlgo": b"sha256",
            "outputHashMode": b"recursive",
            "system": b":",
        },
        outputs={"out": Output("", NarHash(NixHash(HashAlgo.SHA256, digest)))},
    )

    def no_lookup(path: str) -> NixHash:
        raise AssertionError(f"unexpected lookup of {path}")

    bar.calculate_output_paths("bar", bar.derivation_or_fod_hash(no_lookup))
    assert bar == _load_json("0hm2f1psjpcwg8fijsmr4wwxrx59s092-bar.drv")

    bar_hash = bar.derivation_or_fod_hash(no_lookup)
    bar_drv_path = bar.calculate_derivation_path("bar").to_absolute_path()
    assert bar_drv_path == "/nix/store/0hm2f1psjpcwg8fijsmr4wwxrx59s092-bar.drv"

    foo = Derivation(
        builder=":",
        system=":",
        environment={
            "bar": bar.outputs["out"].path.encode(),
            "builder": b":",
            "name": b"foo",
            "out": b"",
            "system": b":",
        },
        outputs={"out": Output()},
        input_derivations={bar_drv_path: {"out"}},
    )
    lookups: list[str] = []

    def lookup(path: str) -> NixHash:
        lookups.append(path)
        return bar_hash

    foo.calculate_output_paths("foo", foo.derivation_or_fod_hash(lookup))
    assert lookups == [bar_drv_path]
    assert foo == _load_json("4wvvbi4jwn0prsdxb7vs673qa5h9gr7x-foo.drv")
    assert str(foo.calculate_derivation_path("foo")) == "4wvvbi4jwn0prsdxb7vs673qa5h9gr7x-foo.drv"


@pytest.mark.parametrize(
    ("name", "output_path", "drv_basename"),
    [
        (
            "cp1252",
            "/nix/store/drr2mjp9fp9vvzsf5f9p0a80j33dxy7m-cp1252",
            "m1vfixn8iprlf0v9abmlrz7mjw1xj8kp-cp1252.drv",
        ),
        (
            "latin1",
            "/nix/store/x1f6jfq9qgb6i8jrmpifkn9c64fg4hcm-latin1",
            "x6p0hg79i3wg0kkv7699935f7rrj9jf3-latin1.drv",
        ),
    ],
)
def test_non_unicode_environment(name: str, output_path: str, drv_basename: str) -> None:
    """ÅÄÖ in a single-byte encoding: bytes that are not UTF-8 hash and serialise unchanged."""
    drv = Derivation(
        builder=":",
        system=":",
        outputs={"out": Output(output_path)},
        environment={
            "builder": b":",
            "chars": b"\xc5\xc4\xd6",
            "name": name.encode(),
            "out": output_path.encode(),
            "system": b":",
        },
    )
    assert str(drv.calculate_derivation_path(name)) == drv_basename
    assert drv.to_aterm_bytes() == (FIXTURES / drv_basename).read_bytes()

    blank = replace(drv, outputs=dict(drv.outputs), environment=dict(drv.environment))
    blank.prepare_for_output_path_calculation()
    blank.calculate_output_paths(name, blank.derivation_or_fod_hash(_lookup_fixture_hash))
    assert blank.outputs["out"].path == output_path
    assert blank == drv
