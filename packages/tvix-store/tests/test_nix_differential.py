"""Differential tests against C++ Nix (nix-store, nix-instantiate) in throwaway chroot stores."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from nix_compat.store_path import StorePath
from tvix_store.cli import app
from tvix_store.nar import ingest_nar, write_nar
from typer.testing import CliRunner

from .conftest import Store

pytestmark = [
    pytest.mark.nix,
    pytest.mark.skipif(
        shutil.which("nix-store") is None, reason="C++ Nix (nix-store) is not installed"
    ),
]


def _nix(*args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(list(args), input=stdin, capture_output=True, check=True)
    return done.stdout


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Every NAR feature: nesting, empty dirs and files, executables, symlinks, odd names."""
    root = tmp_path / "tree"
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "empty-dir").mkdir()
    (root / "empty").write_bytes(b"")
    (root / "a" / "b" / "c" / "deep").write_bytes(b"deep\n" * 1000)
    (root / "big.bin").write_bytes(os.urandom(3 << 20))
    (root / "tool").write_bytes(b"#!/bin/sh\n")
    (root / "tool").chmod(0o755)
    (root / "ünïcödé name").write_bytes(b"x")
    (root / "Zupper").write_bytes(b"y")
    os.symlink("/nix/store/somewhereelse", root / "abs-link")
    os.symlink("a/b", root / "rel-link")
    return root


def test_export_identical_to_nix_store_dump(memory_store: Store, tree: Path) -> None:
    from tvix_castore.importer import import_path

    node = import_path(tree, memory_store.blobs, memory_store.directories)
    out = io.BytesIO()
    write_nar(out, node, memory_store.blobs, memory_store.directories)
    assert out.getvalue() == _nix("nix-store", "--dump", str(tree))


def test_ingest_of_nix_dump_restores_identically(
    memory_store: Store, tree: Path, tmp_path: Path
) -> None:
    nar = _nix("nix-store", "--dump", str(tree))
    result = ingest_nar(io.BytesIO(nar), memory_store.blobs, memory_store.directories, b"t")
    assert result.nar_sha256 == hashlib.sha256(nar).digest()
    out = io.BytesIO()
    write_nar(out, result.root, memory_store.blobs, memory_store.directories)
    restored = tmp_path / "restored"
    _nix("nix-store", "--restore", str(restored), stdin=out.getvalue())
    assert _nix("nix-store", "--dump", str(restored)) == nar
    assert (
        _nix("nix-hash", "--type", "sha256", str(restored)).decode().strip()
        == hashlib.sha256(nar).hexdigest()
    )


def _cli(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    store = f"lmdb://{tmp_path / 'tvix'}"
    env = {
        "BLOB_SERVICE_ADDR": store,
        "DIRECTORY_SERVICE_ADDR": store,
        "PATH_INFO_SERVICE_ADDR": store,
    }
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_import_store_paths_identical_to_nix_store_add(tree: Path, tmp_path: Path) -> None:
    sources = [tree, tree / "tool", tree / "abs-link", tree / "empty-dir", tree / "a"]
    nix_root = tmp_path / "nixroot"
    expected = [
        _nix("nix-store", "--store", str(nix_root), "--add", str(p)).decode().strip()
        for p in sources
    ]
    code, out, err = _cli(tmp_path, "import", *map(str, sources))
    assert (code, err) == (0, "")
    assert out.splitlines() == expected


def test_copy_from_nix_with_closure(tmp_path: Path) -> None:
    nix_root = tmp_path / "nixroot"
    src = tmp_path / "src"
    src.mkdir()
    (src / "file").write_text("content")
    expr = (
        'derivation { name = "x"; system = "x86_64-linux"; '
        f'builder = builtins.toFile "b" "hello"; src = {src}; }}'
    )
    drv = _nix("nix-instantiate", "--store", str(nix_root), "-E", expr).decode().strip()
    closure = (
        _nix("nix-store", "--store", str(nix_root), "-q", "--requisites", drv).decode().split()
    )
    assert len(closure) == 3

    code, out, err = _cli(tmp_path, "copy-from-nix", "--nix-root", str(nix_root), drv)
    assert code == 0, err
    assert out == drv + "\n"
    code, out, _ = _cli(tmp_path, "list")
    assert out.splitlines() == sorted(closure)

    code, out, _ = _cli(tmp_path, "info", drv)
    refs = sorted(
        StorePath.from_absolute_path(p)
        for p in _nix("nix-store", "--store", str(nix_root), "-q", "--references", drv)
        .decode()
        .split()
    )
    nar_hash = _nix("nix-store", "--store", str(nix_root), "-q", "--hash", drv).decode().strip()
    assert f"NarHash: {nar_hash}\n" in out
    assert "References: " + " ".join(map(str, refs)) + "\n" in out
    # Content addresses are recovered from the names: the drv and toFile are text, src is source.
    code, out, _ = _cli(tmp_path, "info", "--json", *closure)
    kinds = {
        obj["path"].rsplit("-", 1)[1]: obj.get("ca", "").split(":")[0:2] for obj in json.loads(out)
    }
    assert kinds == {"x.drv": ["text", "sha256"], "b": ["text", "sha256"], "src": ["fixed", "r"]}
    for path in closure:
        code, nar, _ = _export(tmp_path, path)
        assert nar == _nix("nix-store", "--dump", str(nix_root) + path)
    # Copying again skips what is present.
    code, out, err = _cli(tmp_path, "copy-from-nix", "--nix-root", str(nix_root), drv)
    assert (code, err) == (0, "")


def _export(tmp_path: Path, path: str) -> tuple[int, bytes, str]:
    store = f"lmdb://{tmp_path / 'tvix'}"
    env = {
        "BLOB_SERVICE_ADDR": store,
        "DIRECTORY_SERVICE_ADDR": store,
        "PATH_INFO_SERVICE_ADDR": store,
    }
    result = CliRunner().invoke(app, ["export", path], env=env)
    return result.exit_code, result.stdout_bytes, result.stderr


def test_copy_from_nix_unknown_path(tmp_path: Path) -> None:
    code, out, err = _cli(
        tmp_path,
        "copy-from-nix",
        "--nix-root",
        str(tmp_path / "nixroot"),
        "/nix/store/00000000000000000000000000000000-missing",
    )
    assert code == 1
    assert out == ""
    assert err.startswith("error: nix-store --query failed:")
