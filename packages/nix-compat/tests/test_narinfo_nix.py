"""narinfo and signatures against C++ Nix: its keys, its signatures, its narinfo files.

Everything writes into throwaway stores: a chroot store ``local?root=<tmp>`` and a
``file://<tmp>`` binary cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from nix_compat.narinfo import NarInfo, fingerprint, parse_narinfo
from nix_compat.nixhash import HashAlgo, NixHash, parse_hash
from nix_compat.signing import PublicKey, SecretKey
from nix_compat.store_path import StorePath, build_nar_based_store_path

NIX = shutil.which("nix")
NIX_STORE = shutil.which("nix-store")

pytestmark = [
    pytest.mark.nix,
    pytest.mark.skipif(
        NIX is None or NIX_STORE is None, reason="C++ Nix (nix, nix-store) not installed"
    ),
]


@dataclasses.dataclass
class NixEnv:
    root: Path
    env: dict[str, str]

    def run(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args], env=self.env, capture_output=True, text=True, check=check
        )

    @property
    def local_store(self) -> str:
        return f"local?root={self.root / 'chroot'}"

    @property
    def cache(self) -> Path:
        return self.root / "cache"


@pytest.fixture(scope="module")
def nix_env(tmp_path_factory: pytest.TempPathFactory) -> NixEnv:
    root = tmp_path_factory.mktemp("nix")
    env = dict(os.environ)
    env["NIX_CONFIG"] = "experimental-features = nix-command"
    env["XDG_CACHE_HOME"] = str(root / "xdg-cache")
    env["HOME"] = str(root)
    nix_env = NixEnv(root, env)
    nix_env.cache.mkdir()
    (nix_env.cache / "nix-cache-info").write_text("StoreDir: /nix/store\n")
    nix_env.run("nix-store", "--generate-binary-cache-key", "nixkey-1", root / "sk", root / "pk")
    return nix_env


def _keys(nix_env: NixEnv) -> tuple[SecretKey, PublicKey]:
    secret = SecretKey.parse((nix_env.root / "sk").read_text())
    public = PublicKey.parse((nix_env.root / "pk").read_text())
    return secret, public


def test_nix_generated_keys(nix_env: NixEnv) -> None:
    secret, public = _keys(nix_env)
    assert secret.name == public.name == "nixkey-1"
    assert secret.public_key() == public
    assert secret.to_nix_string() == (nix_env.root / "sk").read_text()


def _add(nix_env: NixEnv, name: str, content: str) -> str:
    src = nix_env.root / "src" / name
    src.parent.mkdir(exist_ok=True)
    src.write_text(content)
    return nix_env.run("nix-store", "--store", nix_env.local_store, "--add", src).stdout.strip()


def test_nix_signature_verifies_with_ours(nix_env: NixEnv) -> None:
    path = _add(nix_env, "signed-by-nix", "hello\n")
    nix_env.run(
        "nix",
        "store",
        "sign",
        "--store",
        nix_env.local_store,
        "--key-file",
        nix_env.root / "sk",
        path,
    )
    listing = json.loads(
        nix_env.run("nix", "path-info", "--json", "--store", nix_env.local_store, path).stdout
    )
    # Nix up to 2.18 prints a list of objects, later versions an object keyed by path.
    info = listing[0] if isinstance(listing, list) else listing[path]
    text = fingerprint(
        StorePath.from_absolute_path(path),
        parse_hash(info["narHash"]),
        info["narSize"],
        [StorePath.from_absolute_path(r) for r in info["references"]],
    )
    (sig,) = info["signatures"]
    _, public = _keys(nix_env)
    assert public.verify(text, sig)
    secret, _ = _keys(nix_env)
    assert secret.sign(text).to_nix_string() == sig


def test_narinfo_from_nix_copy_round_trips_and_verifies(nix_env: NixEnv) -> None:
    path = _add(nix_env, "copied", "copied content\n")
    nix_env.run(
        "nix",
        "store",
        "sign",
        "--store",
        nix_env.local_store,
        "--key-file",
        nix_env.root / "sk",
        path,
    )
    nix_env.run(
        "nix", "copy", "--store", nix_env.local_store, "--to", f"file://{nix_env.cache}", path
    )
    store_path = StorePath.from_absolute_path(path)
    text = (nix_env.cache / f"{store_path.hash_part}.narinfo").read_text()
    info = parse_narinfo(text)
    assert info.render() == text
    assert info.store_path == store_path
    assert info.ca is not None
    assert info.compression == "xz"
    nar = (nix_env.cache / info.url).read_bytes()
    assert info.file_hash == NixHash(HashAlgo.SHA256, hashlib.sha256(nar).digest())
    assert info.file_size == len(nar)
    assert info.verify([_keys(nix_env)[1]]) == 1


def _write_cache_entry(nix_env: NixEnv, info: NarInfo) -> Path:
    target = nix_env.cache / f"{info.store_path.hash_part}.narinfo"
    target.write_text(info.render())
    return target


def _synthetic(name: str, references: tuple[StorePath, ...]) -> NarInfo:
    """A narinfo that carries no CA field, so Nix trusts it only through signatures."""
    digest = hashlib.sha256(name.encode()).digest()
    store_path = build_nar_based_store_path(digest, name)
    return NarInfo(
        store_path=store_path,
        url=f"nar/{name}.nar",
        compression="none",
        nar_hash=NixHash(HashAlgo.SHA256, digest),
        nar_size=4242,
        references=references,
        file_hash=NixHash(HashAlgo.SHA256, digest),
        file_size=4242,
        deriver=build_nar_based_store_path(digest, f"{name}.drv"),
        system="x86_64-linux",
    )


def _references() -> tuple[StorePath, ...]:
    refs = [
        build_nar_based_store_path(hashlib.sha256(n).digest(), n.decode())
        for n in (b"zlib", b"glibc", b"bash")
    ]
    return tuple(refs)


def test_nix_signs_our_narinfo_with_references(nix_env: NixEnv) -> None:
    info = _synthetic("with-refs", _references())
    target = _write_cache_entry(nix_env, info)
    nix_env.run(
        "nix",
        "store",
        "sign",
        "--store",
        f"file://{nix_env.cache}",
        "--key-file",
        nix_env.root / "sk",
        info.store_path.to_absolute_path(),
    )
    rewritten = target.read_text()
    signed = parse_narinfo(rewritten)
    assert signed.render() == rewritten
    assert signed.references == tuple(sorted(info.references))
    assert dataclasses.replace(signed, signatures=(), references=info.references) == info
    assert signed.verify([_keys(nix_env)[1]]) == 1
    assert signed.signatures == info.sign(_keys(nix_env)[0]).signatures


def _nix_verify(
    nix_env: NixEnv, info: NarInfo, trusted: PublicKey
) -> subprocess.CompletedProcess[str]:
    return nix_env.run(
        "nix",
        "store",
        "verify",
        "--no-contents",
        "--sigs-needed",
        "1",
        "--store",
        f"file://{nix_env.cache}",
        "--trusted-public-keys",
        trusted.to_nix_string(),
        info.store_path.to_absolute_path(),
        check=False,
    )


def test_our_signature_verifies_with_nix(nix_env: NixEnv) -> None:
    secret, public = _keys(nix_env)
    info = _synthetic("signed-by-us", _references()).sign(secret)
    _write_cache_entry(nix_env, info)
    assert _nix_verify(nix_env, info, public).returncode == 0
    impostor = PublicKey("nixkey-1", SecretKey.generate("nixkey-1").public)
    result = _nix_verify(nix_env, info, impostor)
    assert result.returncode != 0
    assert "untrusted" in result.stderr


def test_our_generated_key_works_in_nix(nix_env: NixEnv) -> None:
    ours = SecretKey.generate("ours-1")
    key_file = nix_env.root / "ours.sk"
    key_file.write_text(ours.to_nix_string())
    info = _synthetic("our-key", _references()[:1])
    target = _write_cache_entry(nix_env, info)
    nix_env.run(
        "nix",
        "store",
        "sign",
        "--store",
        f"file://{nix_env.cache}",
        "--key-file",
        key_file,
        info.store_path.to_absolute_path(),
    )
    signed = parse_narinfo(target.read_text())
    assert signed.verify([ours.public_key()]) == 1
    assert _nix_verify(nix_env, signed, ours.public_key()).returncode == 0
