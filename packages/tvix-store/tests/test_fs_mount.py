"""Mounting the store with FUSE and reading it with ordinary tools (needs /dev/fuse)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tvix_store.cli import app
from tvix_store.fs import fuse_unavailable_reason
from typer.testing import CliRunner

_REASON = fuse_unavailable_reason()
pytestmark = [
    pytest.mark.fuse,
    pytest.mark.skipif(_REASON is not None, reason=f"FUSE unavailable: {_REASON}"),
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mount")


@pytest.fixture(scope="module")
def source(workdir: Path) -> Path:
    root = workdir / "source"
    (root / "bin").mkdir(parents=True)
    (root / "share" / "doc" / "empty").mkdir(parents=True)
    (root / "bin" / "tool").write_bytes(b"#!/bin/sh\necho tool\n")
    (root / "bin" / "tool").chmod(0o755)
    (root / "share" / "doc" / "README").write_bytes(b"read me\n" * 100)
    (root / "share" / "big").write_bytes(os.urandom((4 << 20) + 123))
    (root / "share" / "zero").write_bytes(b"")
    os.symlink("../share/doc/README", root / "bin" / "readme-link")
    os.symlink("/nix/store/elsewhere", root / "dangling")
    return root


def _env(tmp_path: Path) -> dict[str, str]:
    store = f"lmdb://{tmp_path / 'store'}"
    return {
        "BLOB_SERVICE_ADDR": store,
        "DIRECTORY_SERVICE_ADDR": store,
        "PATH_INFO_SERVICE_ADDR": store,
    }


@pytest.fixture(scope="module")
def mounted(workdir: Path, source: Path) -> Iterator[tuple[Path, str]]:
    """One mount shared by the tests of this module (mounting costs a process start)."""
    tmp_path = workdir
    env = _env(tmp_path)
    result = CliRunner().invoke(app, ["import", str(source)], env=env)
    assert result.exit_code == 0, result.stderr
    store_path = result.stdout.strip()
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "tvix_store", "mount", "--list-root", str(mountpoint)],
        env={**os.environ, **env},
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while not os.path.ismount(mountpoint):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"mount did not come up: {err.decode()}")
        time.sleep(0.05)
    try:
        yield mountpoint, store_path
    finally:
        subprocess.run(["fusermount3", "-u", str(mountpoint)], check=False)
        try:
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert not os.path.ismount(mountpoint)


def _sh(cwd: Path, command: str) -> str:
    return subprocess.run(
        command, shell=True, cwd=cwd, capture_output=True, check=True, text=True
    ).stdout


def test_mount_matches_source(mounted: tuple[Path, str], source: Path) -> None:
    mountpoint, store_path = mounted
    root = mountpoint / os.path.basename(store_path)
    assert sorted(os.listdir(mountpoint)) == [os.path.basename(store_path)]
    # Same names, types and symlink targets (find), same file sizes and contents (sha256sum).
    listing = "find . -printf '%y %p %l\\n' | sort"
    assert _sh(root, listing) == _sh(source, listing)
    sizes = "find . -type f -printf '%s %p\\n' | sort"
    assert _sh(root, sizes) == _sh(source, sizes)
    sums = "find . -type f -print0 | sort -z | xargs -0 sha256sum"
    assert _sh(root, sums) == _sh(source, sums)
    assert _sh(root, "ls -R") == _sh(source, "ls -R")
    long_listing = _sh(root, "ls -lR")
    assert "-r-xr-xr-x" in long_listing and "lrwxrwxrwx" in long_listing
    assert (root / "bin" / "tool").lstat().st_mtime == 1  # as Nix leaves store paths
    assert _sh(root, "cat share/doc/README") == "read me\n" * 100
    assert (root / "bin" / "readme-link").read_bytes() == b"read me\n" * 100
    assert os.readlink(root / "dangling") == "/nix/store/elsewhere"
    assert os.access(root / "bin" / "tool", os.X_OK)
    assert not os.access(root / "share" / "zero", os.X_OK)


def test_mount_reads_at_offsets(mounted: tuple[Path, str], source: Path) -> None:
    mountpoint, store_path = mounted
    big = mountpoint / os.path.basename(store_path) / "share" / "big"
    expected = (source / "share" / "big").read_bytes()
    with open(big, "rb", buffering=0) as f:
        for offset in (0, 1, 4095, 1 << 20, len(expected) - 10, 12345, len(expected) + 5):
            f.seek(offset)
            assert f.read(70000) == expected[offset : offset + 70000]
    assert hashlib.sha256(big.read_bytes()).digest() == hashlib.sha256(expected).digest()


def test_mount_errors(mounted: tuple[Path, str]) -> None:
    mountpoint, store_path = mounted
    root = mountpoint / os.path.basename(store_path)
    with pytest.raises(FileNotFoundError):
        (mountpoint / "00000000000000000000000000000000-nope").stat()
    with pytest.raises(FileNotFoundError):
        (mountpoint / "not-a-store-path").stat()
    with pytest.raises(IsADirectoryError):
        (root / "bin").read_bytes()
    with pytest.raises(NotADirectoryError):
        (root / "share" / "zero" / "x").stat()
    with pytest.raises(OSError) as e:
        (root / "new").write_bytes(b"x")
    assert e.value.errno == 30  # EROFS
    st1 = (root / "share" / "zero").stat()
    st2 = (root / "share" / "zero").stat()
    assert st1.st_ino == st2.st_ino


@pytest.mark.nix
@pytest.mark.skipif(
    shutil.which("nix-store") is None, reason="C++ Nix (nix-store) is not installed"
)
def test_mount_looks_like_a_real_store_path(
    mounted: tuple[Path, str], source: Path, workdir: Path
) -> None:
    """Modes, times, types and targets equal those of the same path added to a real Nix store."""
    mountpoint, store_path = mounted
    nix_root = workdir / "nixroot"
    added = subprocess.run(
        ["nix-store", "--store", str(nix_root), "--add", str(source)],
        capture_output=True, check=True, text=True,
    ).stdout.strip()  # fmt: skip
    assert added == store_path
    real = Path(str(nix_root) + added)
    ours = mountpoint / os.path.basename(store_path)
    listing = "find . -printf '%y %m %T@ %p %l\\n' | sort"
    assert _sh(ours, listing) == _sh(real, listing)


def test_mount_keeps_stderr_quiet(mounted: tuple[Path, str], workdir: Path) -> None:
    """A mount that serves reads and is unmounted says nothing on stderr (no libfuse noise)."""
    _, store_path = mounted
    mountpoint = workdir / "quiet"
    mountpoint.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "tvix_store", "mount", str(mountpoint)],
        env={**os.environ, **_env(workdir)},
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while not os.path.ismount(mountpoint):
            assert process.poll() is None and time.monotonic() < deadline, "mount failed"
            time.sleep(0.05)
        big = mountpoint / os.path.basename(store_path) / "share" / "big"
        assert len(big.read_bytes()) == (4 << 20) + 123
    finally:
        subprocess.run(["fusermount3", "-u", str(mountpoint)], check=False)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0
    assert err.decode() == ""
