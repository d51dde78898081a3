"""splitVersion, compareVersions and parseDrvName."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tvix_eval.builtins.versions import compare_versions, parse_drv_name, split_version

from .conftest import Run, batch, nix_string

versions = st.text(alphabet="0123456789.-abpre_+", max_size=12).map(str.encode)


@pytest.mark.parametrize(
    ("version", "parts"),
    [
        (b"1.2.0_pre23", [b"1", b"2", b"0", b"_pre", b"23"]),
        (b"0.pre+date=2021-11-30", [b"0", b"pre+date=", b"2021", b"11", b"30"]),
        (b"", []),
        (b"..1--a", [b"1", b"a"]),
        (b"2.3a", [b"2", b"3", b"a"]),
    ],
)
def test_split_version(version: bytes, parts: list[bytes]) -> None:
    assert split_version(version) == parts


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        (b"2.3", b"2.3pre", 1),
        (b"2.3", b"2.3.0pre", -1),
        (b"1.0", b"1.0a", -1),
        (b"2.3a", b"2.3.1", -1),
        (b"1.10", b"1.9", 1),
        (b"pre", b"", -1),
        (b"1", b"1", 0),
        (b"99999999999", b"1", -1),
        (b"99999999999", b"a", -1),
    ],
)
def test_compare_versions(a: bytes, b: bytes, want: int) -> None:
    assert compare_versions(a, b) == want
    assert compare_versions(b, a) == -want


@given(versions, versions)
def test_compare_versions_antisymmetric(a: bytes, b: bytes) -> None:
    assert compare_versions(a, b) == -compare_versions(b, a)


@given(versions)
def test_compare_versions_reflexive(a: bytes) -> None:
    assert compare_versions(a, a) == 0


@pytest.mark.parametrize(
    ("name", "want"),
    [
        (b"nix-0.12pre12876", (b"nix", b"0.12pre12876")),
        (b"foo-bar-1.2-baz", (b"foo-bar", b"1.2-baz")),
        (b"foo-bar", (b"foo-bar", b"")),
        (b"foo-", (b"foo-", b"")),
        (b"a-\xc3\xa9", (b"a", b"\xc3\xa9")),
    ],
)
def test_parse_drv_name(name: bytes, want: tuple[bytes, bytes]) -> None:
    assert parse_drv_name(name) == want


@pytest.mark.nix
@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(versions, versions), min_size=1, max_size=25))
def test_versions_match_nix(tvix: Run, nix: Run, pairs: list[tuple[bytes, bytes]]) -> None:
    exprs = []
    for a, b in pairs:
        sa, sb = nix_string(a.decode()), nix_string(b.decode())
        exprs.append(f"builtins.compareVersions {sa} {sb}")
        exprs.append(f"builtins.splitVersion {sa}")
        exprs.append(f"builtins.parseDrvName {sa}")
    src = batch(exprs)
    assert tvix(src) == nix(src)


@pytest.mark.nix
@pytest.mark.parametrize(
    "src",
    [
        'builtins.compareVersions "1" 2',
        "builtins.splitVersion 1",
        "builtins.parseDrvName 1",
        'builtins.parseDrvName "${builtins.toFile "x" "y"}-1"',
    ],
)
def test_version_errors_match_nix(tvix: Run, nix: Run, src: str) -> None:
    assert tvix(src) == nix(src)
