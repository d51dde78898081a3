"""narinfo parsing, rendering, fingerprints and signatures."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nix_compat.narinfo import NarInfo, NarInfoError, fingerprint, parse_narinfo
from nix_compat.nixhash import HashAlgo, NarHash, NixHash, TextHash, parse_ca
from nix_compat.signing import PublicKey, SecretKey, SignatureError
from nix_compat.store_path import StorePath

# Written by `nix copy --to file://…` (Nix 2.8) after `nix store sign` of a path made by
# `nix-store --add`.
NIX_NARINFO = (
    "StorePath: /nix/store/yx6zyqqwqi4vzssch0gpw20pmycsy9s8-src\n"
    "URL: nar/0ilvq37lyv4pbwj6vchv945qwbqpzpp6x0qbiahwm42xfxvhmj1j.nar.xz\n"
    "Compression: xz\n"
    "FileHash: sha256:0ilvq37lyv4pbwj6vchv945qwbqpzpp6x0qbiahwm42xfxvhmj1j\n"
    "FileSize: 168\n"
    "NarHash: sha256:18l2zj8v9v7ywhnxhbvn50dldj0h6nzfi1nii2xd79nkj6ivx2cm\n"
    "NarSize: 288\n"
    "References: \n"
    "Sig: test1:CnqvAryLIZdGola8yajNB0OY1bINc/Q94a2ROqvS+kovvzUFmUt3dtuc/eBxTT4YRXqnYFbTL9Gbs"
    "XzmElPJCA==\n"
    "CA: fixed:r:sha256:18l2zj8v9v7ywhnxhbvn50dldj0h6nzfi1nii2xd79nkj6ivx2cm\n"
)
NIX_PUBLIC = "test1:asPCnVWoZo7ulvL5X84F5VZrB4SYifwmLn48QjCActE="

# A narinfo with every field, as `nix store sign` rewrote it (references sorted).
FULL_NARINFO = """\
StorePath: /nix/store/0rh4n3d0rifs2i1a2d7v60wh8pplb7z0-a
URL: nar/x.nar
Compression: none
FileHash: sha256:10a83a91g1r50bdw8g4hn47m7j7m6angpabwc80l9c16nx11cw9d
FileSize: 123
NarHash: sha256:10a83a91g1r50bdw8g4hn47m7j7m6angpabwc80l9c16nx11cw9d
NarSize: 123
References: 0rh4n3d0rifs2i1a2d7v60wh8pplb7z0-a 9q75lf31v635dz20kkf65d3jbshh6gjk-bb \
m6ff11y9pzdij1mazx6h7fl2g074bw02-c
Deriver: g2p53h7yrc1qn7f3jcs4b669g3p4m4l1-a.drv
System: x86_64-linux
Sig: k1:TACk/w8Bqv70IKu5SoSJD7mtVauYVLXxzIC335tSSr9btQzb/LyNTSDtd42Q6kD384L7V0qVmcvZQdr21aOPAw==
"""
FULL_FINGERPRINT = (
    "1;/nix/store/0rh4n3d0rifs2i1a2d7v60wh8pplb7z0-a;"
    "sha256:10a83a91g1r50bdw8g4hn47m7j7m6angpabwc80l9c16nx11cw9d;123;"
    "/nix/store/0rh4n3d0rifs2i1a2d7v60wh8pplb7z0-a,"
    "/nix/store/9q75lf31v635dz20kkf65d3jbshh6gjk-bb,"
    "/nix/store/m6ff11y9pzdij1mazx6h7fl2g074bw02-c"
)


def test_parse_nix_written_narinfo() -> None:
    info = parse_narinfo(NIX_NARINFO)
    assert info.store_path == StorePath.from_basename("yx6zyqqwqi4vzssch0gpw20pmycsy9s8-src")
    assert info.url == "nar/0ilvq37lyv4pbwj6vchv945qwbqpzpp6x0qbiahwm42xfxvhmj1j.nar.xz"
    assert info.compression == "xz"
    assert info.file_size == 168
    assert info.nar_size == 288
    assert info.nar_hash.nix32() == "18l2zj8v9v7ywhnxhbvn50dldj0h6nzfi1nii2xd79nkj6ivx2cm"
    assert info.references == ()
    assert info.deriver is None
    assert info.system is None
    assert info.ca == NarHash(info.nar_hash)
    assert info.render() == NIX_NARINFO
    assert str(info) == NIX_NARINFO
    assert parse_narinfo(NIX_NARINFO.encode()) == info


def test_fingerprint_and_nix_signature() -> None:
    info = parse_narinfo(NIX_NARINFO)
    assert info.fingerprint() == (
        "1;/nix/store/yx6zyqqwqi4vzssch0gpw20pmycsy9s8-src;"
        "sha256:18l2zj8v9v7ywhnxhbvn50dldj0h6nzfi1nii2xd79nkj6ivx2cm;288;"
    )
    assert info.verify([PublicKey.parse(NIX_PUBLIC)]) == 1
    assert info.verify([PublicKey("test2", PublicKey.parse(NIX_PUBLIC).key)]) == 0
    tampered = dataclasses.replace(info, nar_size=289)
    assert tampered.verify([PublicKey.parse(NIX_PUBLIC)]) == 0


def test_full_narinfo_round_trip_and_fingerprint() -> None:
    info = parse_narinfo(FULL_NARINFO)
    assert [str(r) for r in info.references] == [
        "0rh4n3d0rifs2i1a2d7v60wh8pplb7z0-a",
        "9q75lf31v635dz20kkf65d3jbshh6gjk-bb",
        "m6ff11y9pzdij1mazx6h7fl2g074bw02-c",
    ]
    assert str(info.deriver) == "g2p53h7yrc1qn7f3jcs4b669g3p4m4l1-a.drv"
    assert info.system == "x86_64-linux"
    assert info.render() == FULL_NARINFO
    assert info.fingerprint() == FULL_FINGERPRINT


def test_fingerprint_sorts_references() -> None:
    info = parse_narinfo(FULL_NARINFO)
    shuffled = dataclasses.replace(info, references=tuple(reversed(info.references)))
    assert shuffled.fingerprint() == FULL_FINGERPRINT
    assert (
        fingerprint(info.store_path, info.nar_hash, info.nar_size, info.references)
        == FULL_FINGERPRINT
    )


def test_sign_and_verify() -> None:
    key = SecretKey.generate("cache-1")
    info = parse_narinfo(FULL_NARINFO)
    signed = info.sign(key)
    assert signed.signatures[:-1] == info.signatures
    assert signed.signatures[-1].startswith("cache-1:")
    assert signed.verify([key.public_key()]) == 1
    assert signed.sign(key) is signed
    assert parse_narinfo(signed.render()) == signed


def test_malformed_signature_in_verify() -> None:
    info = dataclasses.replace(parse_narinfo(FULL_NARINFO), signatures=("nonsense",))
    with pytest.raises(SignatureError, match="lacks the ':'"):
        info.verify([])


def test_defaults_and_tolerance() -> None:
    text = (
        "StorePath: /nix/store/0rh4n3d0rifs2i1a2d7v60wh8pplb7z0-a\n"
        "URL: nar/x.nar\n"
        "NarHash: sha256-LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE=\n"
        "NarSize: 5\n"
        "Unknown: whatever: with colons\n"
        "Deriver: unknown-deriver\n"
        "Sig: a:b\n"
        "Sig: a:b\n"
        "References:\n"
    )
    info = parse_narinfo(text)
    assert info.compression == "bzip2"
    assert info.deriver is None
    assert info.signatures == ("a:b",)
    assert info.file_hash is None and info.file_size is None
    assert info.render() == (
        "StorePath: /nix/store/0rh4n3d0rifs2i1a2d7v60wh8pplb7z0-a\n"
        "URL: nar/x.nar\n"
        "Compression: bzip2\n"
        "NarHash: sha256:10a83a91g1r50bdw8g4hn47m7j7m6angpabwc80l9c16nx11cw9d\n"
        "NarSize: 5\n"
        "References: \n"
        "Sig: a:b\n"
    )


def test_later_fields_override_earlier_ones() -> None:
    info = parse_narinfo(FULL_NARINFO + "System: aarch64-linux\nURL: nar/y.nar\n")
    assert info.system == "aarch64-linux"
    assert info.url == "nar/y.nar"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (FULL_NARINFO.rstrip("\n"), "does not end with a newline"),
        (FULL_NARINFO + "garbage\n", r"line 12: 'garbage' is not 'Key: value'"),
        (FULL_NARINFO + "System:x\n", "line 12: no space after ':'"),
        (
            FULL_NARINFO.replace("NarSize: 123", "NarSize: -1"),
            "line 7, field NarSize: '-1' is not an unsigned 64-bit decimal integer",
        ),
        (
            FULL_NARINFO.replace("FileSize: 123", "FileSize: 18446744073709551616"),
            "line 5, field FileSize: '18446744073709551616' is not an unsigned 64-bit",
        ),
        (FULL_NARINFO.replace("NarSize: 123", "NarSize: 0"), "lacks required field.*NarSize"),
        (
            FULL_NARINFO.replace("NarHash: sha256:", "NarHash: "),
            "line 6, field NarHash: hash '10a8.*' lacks its algorithm prefix",
        ),
        (FULL_NARINFO.replace("NarHash: sha256:1", "NarHash: sha256:e"), "line 6, field NarHash"),
        (FULL_NARINFO.replace("FileHash: sha256:", "FileHash: md6:"), "line 4, field FileHash"),
        (
            FULL_NARINFO.replace("StorePath: /nix/store/", "StorePath: /nix/stor/"),
            "line 1, field StorePath: path '/nix/stor/.*' is not in the Nix store",
        ),
        (FULL_NARINFO.replace("-bb", "-b/b"), "line 8, field References"),
        (FULL_NARINFO + "References: 0rh4n3d0rifs2i1a2d7v60wh8pplb7z0-a\n", "References given"),
        (FULL_NARINFO.replace("-a.drv", ""), "line 9, field Deriver"),
        (FULL_NARINFO + "CA: fixed:nope\n", "line 12, field CA"),
        (NIX_NARINFO + NIX_NARINFO.splitlines(keepends=True)[-1], "line 11, field CA: CA given"),
        (FULL_NARINFO.replace("URL: nar/x.nar\n", ""), r"lacks required field\(s\): URL"),
        ("", r"lacks required field\(s\): StorePath, URL, NarHash, NarSize"),
        (b"StorePath: \xff\n", "not UTF-8: invalid byte at offset 11"),
    ],
)
def test_malformed_narinfo(text: str | bytes, message: str) -> None:
    with pytest.raises(NarInfoError, match=message):
        parse_narinfo(text)


def test_fingerprint_needs_a_size() -> None:
    info = parse_narinfo(FULL_NARINFO)
    with pytest.raises(NarInfoError, match="NarSize unknown"):
        dataclasses.replace(info, nar_size=0).fingerprint()


def _path(name: str) -> StorePath:
    return StorePath(hashlib.sha1(name.encode()).digest(), name)


store_paths = st.from_regex(r"[a-z][a-z0-9+._?=-]{0,20}", fullmatch=True).map(_path)
sha256 = st.binary(min_size=32, max_size=32).map(lambda d: NixHash(HashAlgo.SHA256, d))
line_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\n\r"), max_size=30
)
KEYS = [SecretKey.generate(name) for name in ("cache.example.org-1", "k", "a.b-2")]
signatures = st.builds(
    lambda key, message: key.sign(message).to_nix_string(),
    st.sampled_from(KEYS),
    st.binary(max_size=8),
)
narinfos = st.builds(
    NarInfo,
    store_path=store_paths,
    url=line_text.filter(bool),
    nar_hash=sha256,
    nar_size=st.integers(1, 2**64 - 1),
    references=st.lists(store_paths, max_size=4, unique=True).map(tuple),
    compression=st.sampled_from(["xz", "bzip2", "none", "zstd", "br"]),
    file_hash=st.none() | sha256,
    file_size=st.none() | st.integers(0, 2**64 - 1),
    deriver=st.none() | store_paths,
    system=st.none() | line_text,
    signatures=st.lists(signatures, max_size=3, unique=True).map(tuple),
    ca=st.none() | sha256.map(NarHash) | sha256.map(lambda h: TextHash(h.digest)),
)


@settings(max_examples=100, deadline=None)
@given(narinfos)
def test_render_then_parse_round_trips(info: NarInfo) -> None:
    text = info.render()
    assert parse_narinfo(text) == info
    assert parse_narinfo(text).render() == text


def test_ca_field_forms() -> None:
    for ca in (
        "fixed:r:sha256:18l2zj8v9v7ywhnxhbvn50dldj0h6nzfi1nii2xd79nkj6ivx2cm",
        "fixed:sha1:0000000000000000000000000000000a",
        "text:sha256:18l2zj8v9v7ywhnxhbvn50dldj0h6nzfi1nii2xd79nkj6ivx2cm",
    ):
        info = parse_narinfo(FULL_NARINFO + f"CA: {ca}\n")
        assert info.ca == parse_ca(ca)
        assert info.render().endswith(f"CA: {ca}\n")


def test_fields_that_cannot_be_rendered_are_rejected() -> None:
    info = parse_narinfo(FULL_NARINFO)
    with pytest.raises(NarInfoError, match="field URL may not contain a newline"):
        dataclasses.replace(info, url="a\nb")
    with pytest.raises(NarInfoError, match="field Sig may not contain a newline"):
        dataclasses.replace(info, signatures=("k:x\n",))
    with pytest.raises(NarInfoError, match="field FileSize must be an unsigned 64-bit integer"):
        dataclasses.replace(info, file_size=-1)
