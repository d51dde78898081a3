"""hashString, hashFile and convertHash."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Run, batch

CASES = [
    'builtins.hashString "md5" "abc"',
    'builtins.hashString "sha1" "abc"',
    'builtins.hashString "sha256" "héllo"',
    'builtins.hashString "sha512" ""',
    'builtins.hashString "sha256" "${builtins.toFile "x" "y"}"',
]


@pytest.mark.nix
def test_hash_string_matches_nix(tvix: Run, nix: Run) -> None:
    src = batch(CASES)
    assert tvix(src) == nix(src)


@pytest.mark.nix
def test_hash_file_matches_nix(tvix: Run, nix: Run, tmp_path: Path) -> None:
    f = tmp_path / "data"
    f.write_bytes(b"\x00\xffbinary")
    exprs = [f'builtins.hashFile "{a}" {f}' for a in ("md5", "sha1", "sha256", "sha512")]
    exprs.append(f'builtins.hashFile "sha256" "{f}"')
    src = batch(exprs)
    assert tvix(src) == nix(src)


@pytest.mark.nix
@pytest.mark.parametrize(
    "src",
    [
        'builtins.hashString "foo" "abc"',
        'builtins.hashString "sha256" 1',
        'builtins.hashFile "sha256" /nonexistent/file',
        'builtins.hashFile "sha256" "relative"',
    ],
)
def test_hash_errors_match_nix(tvix: Run, nix: Run, src: str) -> None:
    assert tvix(src) == nix(src)


SHA256_HEX = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
SRI = "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="


@pytest.mark.parametrize(
    ("fmt", "want"),
    [
        ("base16", SHA256_HEX),
        ("nix32", "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"),
        ("base32", "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"),
        ("base64", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="),
        ("sri", "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="),
    ],
)
def test_convert_hash(tvix: Run, fmt: str, want: str) -> None:
    src = f'{{ hash = "{SHA256_HEX}"; hashAlgo = "sha256"; toHashFormat = "{fmt}"; }}'
    assert tvix(f"builtins.convertHash {src}") == f'"{want}"'
    sri = f'{{ hash = "{SRI}"; toHashFormat = "{fmt}"; }}'
    assert tvix(f"builtins.convertHash {sri}") == f'"{want}"'


def test_convert_hash_errors(tvix: Run) -> None:
    assert tvix(f'builtins.convertHash {{ hash = "{SHA256_HEX}"; toHashFormat = "hex"; }}') == (
        "error: unknown hash format 'hex', expect 'base16', 'base32', 'nix32', 'base64', or 'sri'"
    )
    assert tvix('builtins.convertHash { toHashFormat = "sri"; }') == (
        "error: attribute 'hash' missing"
    )
    assert tvix(
        f'builtins.convertHash {{ hash = "{SHA256_HEX}"; toHashFormat = "sri"; }}'
    ).startswith("error: hash ")
