"""Ed25519 keys and signatures in Nix's ``name:base64`` format."""

from __future__ import annotations

import base64

import pytest
from nix_compat.signing import PublicKey, SecretKey, Signature, SignatureError, verify_detached

# A key pair made by `nix-store --generate-binary-cache-key test1 sk pk`.
NIX_SECRET = (
    "test1:Zad/l6uO9ewL7tXl2FGaWyKqMPD1DbHqbgoowDR5gchqw8KdVahmju6W8vlfzgXlVmsHhJiJ/CYufjxCMIBy0Q=="
)
NIX_PUBLIC = "test1:asPCnVWoZo7ulvL5X84F5VZrB4SYifwmLn48QjCActE="
# `nix store sign --key-file sk` on a path with this fingerprint gave NIX_SIGNATURE.
FINGERPRINT = (
    "1;/nix/store/yx6zyqqwqi4vzssch0gpw20pmycsy9s8-src;"
    "sha256:18l2zj8v9v7ywhnxhbvn50dldj0h6nzfi1nii2xd79nkj6ivx2cm;288;"
)
NIX_SIGNATURE = (
    "test1:CnqvAryLIZdGola8yajNB0OY1bINc/Q94a2ROqvS+kovvzUFmUt3dtuc/eBxTT4YRXqnYFbTL9GbsXzmElPJCA=="
)


def test_nix_generated_keys_parse_and_match() -> None:
    secret = SecretKey.parse(NIX_SECRET)
    assert secret.name == "test1"
    assert secret.public_key() == PublicKey.parse(NIX_PUBLIC)
    assert secret.to_nix_string() == NIX_SECRET
    assert PublicKey.parse(NIX_PUBLIC + "\n").to_nix_string() == NIX_PUBLIC


def test_signing_reproduces_nix_signature() -> None:
    # Ed25519 is deterministic: the same key and message give Nix's exact signature.
    assert SecretKey.parse(NIX_SECRET).sign(FINGERPRINT).to_nix_string() == NIX_SIGNATURE


def test_verify_nix_signature() -> None:
    public = PublicKey.parse(NIX_PUBLIC)
    assert public.verify(FINGERPRINT, NIX_SIGNATURE)
    assert public.verify(FINGERPRINT.encode(), Signature.parse(NIX_SIGNATURE))
    assert not public.verify(FINGERPRINT + "x", NIX_SIGNATURE)
    assert verify_detached(FINGERPRINT, NIX_SIGNATURE, [public])


def test_signature_from_another_key_name_does_not_verify() -> None:
    public = PublicKey.parse(NIX_PUBLIC)
    renamed = "other" + NIX_SIGNATURE.removeprefix("test1")
    assert not public.verify(FINGERPRINT, renamed)
    assert not verify_detached(FINGERPRINT, renamed, [public])
    same_bytes_other_name = PublicKey("other", public.key)
    assert verify_detached(FINGERPRINT, renamed, [public, same_bytes_other_name])


def test_generated_key_round_trips() -> None:
    key = SecretKey.generate("cache.example.org-1")
    again = SecretKey.parse(key.to_nix_string())
    assert again == key
    sig = key.sign(b"message")
    assert sig.key_name == "cache.example.org-1"
    assert len(sig.data) == 64
    assert key.public_key().verify(b"message", str(sig))
    assert "seed" not in repr(key)


def test_tampered_signature_fails() -> None:
    sig = Signature.parse(NIX_SIGNATURE)
    bad = Signature(sig.key_name, bytes([sig.data[0] ^ 1]) + sig.data[1:])
    assert not PublicKey.parse(NIX_PUBLIC).verify(FINGERPRINT, bad)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nocolon", "lacks the ':' between name and base64 data"),
        (":" + NIX_PUBLIC.split(":")[1], "has an empty name"),
        ("k:not base64!", "invalid base64 after offset 2"),
        ("k:" + base64.b64encode(bytes(31)).decode(), "holds 31 bytes, expected 32"),
    ],
)
def test_malformed_public_keys(text: str, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        PublicKey.parse(text)


def test_malformed_secret_key_and_signature() -> None:
    with pytest.raises(SignatureError, match="secret key 'k:AAAA' holds 3 bytes, expected 64"):
        SecretKey.parse("k:AAAA")
    with pytest.raises(SignatureError, match="signature 'k:AAAA' holds 3 bytes, expected 64"):
        Signature.parse("k:AAAA")
    with pytest.raises(SignatureError, match="lacks the ':'"):
        PublicKey.parse(NIX_PUBLIC).verify(b"m", "garbage")


def test_inconsistent_secret_key_is_rejected() -> None:
    raw = base64.b64decode(NIX_SECRET.split(":")[1])
    broken = "test1:" + base64.b64encode(raw[:32] + bytes(32)).decode()
    with pytest.raises(SignatureError, match="public half does not match its seed"):
        SecretKey.parse(broken)


def test_invalid_key_names_for_generation() -> None:
    with pytest.raises(SignatureError, match="must be non-empty and contain no ':'"):
        SecretKey.generate("a:b")
    with pytest.raises(SignatureError, match="public key 'x' has 3 bytes, expected 32"):
        PublicKey("x", b"abc")
