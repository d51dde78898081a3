"""``tvix-store serve-http``: options, errors, and a running server over an lmdb store."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from nix_compat.signing import SecretKey
from tvix_store.cli import app
from typer.testing import CliRunner


def _env(tmp_path: Path) -> dict[str, str]:
    store = f"lmdb://{tmp_path / 'store'}"
    return {
        "BLOB_SERVICE_ADDR": store,
        "DIRECTORY_SERVICE_ADDR": store,
        "PATH_INFO_SERVICE_ADDR": store,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--compression", "gzip"],
            "error: unknown compression 'gzip' (known: none, xz, bzip2, zstd)",
        ),
        (
            ["--listen-address", "nowhere"],
            "error: invalid listen address 'nowhere': expected HOST:PORT",
        ),
        (
            ["--sign-key", "/nonexistent/key"],
            "error: [Errno 2] No such file or directory: '/nonexistent/key'",
        ),
    ],
)
def test_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["serve-http", *args], env=_env(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.strip() == message


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(url: str, proc: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(url)
        except httpx.ConnectError:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)


def test_serves_until_terminated(tmp_path: Path) -> None:
    key = SecretKey.generate("cli-test-1")
    key_file = tmp_path / "secret"
    key_file.write_text(key.to_nix_string())
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tvix_store",
            "serve-http",
            "-l",
            f"127.0.0.1:{port}",
            "--sign-key",
            str(key_file),
            "--priority",
            "50",
            "--upload-index",
            str(tmp_path / "uploads.sqlite"),
        ],
        env={**os.environ, **_env(tmp_path)},
        stderr=subprocess.PIPE,
    )
    try:
        response = _wait_for(f"http://127.0.0.1:{port}/nix-cache-info", proc)
        assert response.text == "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 50\n"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert b"Finished server process" in stderr


def test_uvicorn_factory(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "tvix_store.http:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env={**os.environ, **_env(tmp_path), "XDG_DATA_HOME": str(tmp_path)},
        stderr=subprocess.PIPE,
    )
    try:
        response = _wait_for(f"http://127.0.0.1:{port}/nix-cache-info", proc)
        assert response.text == "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert b"Application shutdown complete." in stderr
