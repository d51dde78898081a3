"""The tvix-castore command: import/ls/cat in process, the daemon as a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from castore_fixtures import DIRECTORY_COMPLICATED, HELLOWORLD_BLOB_CONTENTS
from tvix_castore import B3Digest, StorageError, blob_service_from_url, directory_digest
from tvix_castore.cli import app, default_store_url
from typer.testing import CliRunner

runner = CliRunner()


@pytest.fixture
def store_env(short_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"lmdb://{short_tmp}/store"
    monkeypatch.setenv("BLOB_SERVICE_ADDR", url)
    monkeypatch.setenv("DIRECTORY_SERVICE_ADDR", url)
    return url


def make_tree(root: Path) -> Path:
    root.mkdir()
    (root / ".keep").write_bytes(b"")
    (root / "aa").symlink_to("/nix/store/somewhereelse")
    (root / "keep").mkdir()
    (root / "keep" / ".keep").write_bytes(b"")
    return root


def test_import_ls_cat(short_tmp: Path, store_env: str) -> None:
    tree = make_tree(short_tmp / "tree")
    (short_tmp / "hello").write_bytes(HELLOWORLD_BLOB_CONTENTS)
    result = runner.invoke(app, ["import", str(tree), str(short_tmp / "hello"), str(tree / "aa")])
    assert result.exit_code == 0, result.output
    root = directory_digest(DIRECTORY_COMPLICATED)
    hello = B3Digest.of(HELLOWORLD_BLOB_CONTENTS)
    assert result.stdout.splitlines() == [
        f"directory {root} 4 {tree}",
        f"file {hello} 12 {short_tmp / 'hello'}",
        f"symlink -> /nix/store/somewhereelse {tree / 'aa'}",
    ]

    listing = runner.invoke(app, ["ls", str(root)])
    assert listing.exit_code == 0, listing.output
    empty = B3Digest.of(b"")
    keep = directory_digest(DIRECTORY_COMPLICATED).__class__(
        DIRECTORY_COMPLICATED.directories[0].digest
    )
    assert listing.stdout.splitlines() == [
        f"file {empty} 0 .keep",
        "symlink -> /nix/store/somewhereelse aa",
        f"directory {keep} 1 keep",
    ]
    recursive = runner.invoke(app, ["ls", "-R", root.hex()])
    assert recursive.stdout.splitlines()[-1] == f"file {empty} 0 keep/.keep"
    sub = runner.invoke(app, ["ls", str(root), "keep/.keep"])
    assert sub.stdout == f"file {empty} 0 keep/.keep\n"

    cat = runner.invoke(app, ["cat", str(hello)])
    assert cat.exit_code == 0
    assert cat.stdout_bytes == HELLOWORLD_BLOB_CONTENTS


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ls", "nonsense"], "error: not a blake3 digest: 'nonsense'"),
        (["cat", "b3:AAAA"], "error: not a blake3 digest: 'b3:AAAA' (invalid digest length: 3"),
        (
            ["cat", "00" * 32],
            "error: blob b3:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= not found",
        ),
        (
            ["ls", "00" * 32],
            "error: directory b3:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= not found",
        ),
        (
            ["import", "/does/not/exist"],
            "error: unable to stat /does/not/exist: No such file or directory",
        ),
        (["import", "--blob-service-addr", "memory:///x", "/"], "error: invalid url 'memory:///x'"),
        (["import", "--directory-service-addr", "nope://", "/"], "error: unknown scheme: nope"),
    ],
)
def test_user_errors_are_one_line(store_env: str, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.output


def test_ls_path_that_does_not_exist(short_tmp: Path, store_env: str) -> None:
    tree = make_tree(short_tmp / "tree")
    runner.invoke(app, ["import", str(tree)])
    result = runner.invoke(app, ["ls", str(directory_digest(DIRECTORY_COMPLICATED)), "nope"])
    assert result.exit_code == 1
    assert "'nope' does not exist in directory" in result.stderr


def test_default_store_follows_xdg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "/srv/data")
    assert default_store_url() == "lmdb:///srv/data/tvix/castore"


# --- the daemon as a process ---------------------------------------------------------------


def wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(
                f"daemon exited: {process.stderr.read() if process.stderr else ''!r}"
            )
        if time.monotonic() > deadline:
            raise AssertionError("daemon did not start")
        time.sleep(0.05)


@pytest.fixture
def daemon_process(short_tmp: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    socket_path = short_tmp / "daemon.sock"
    env = dict(os.environ)
    env["BLOB_SERVICE_ADDR"] = env["DIRECTORY_SERVICE_ADDR"] = f"lmdb://{short_tmp}/store"
    env["LISTEN_ADDRESS"] = f"unix://{socket_path}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tvix_castore",
            "daemon",
            "--grace-period",
            "1",
            "--log-level",
            "debug",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    wait_for(socket_path, process)
    yield process, f"grpc+unix://{socket_path}", short_tmp
    if process.poll() is None:
        process.kill()
        process.wait()


def test_daemon_serves_and_stops_gracefully_on_sigterm(
    daemon_process: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    process, url, tmp = daemon_process
    client = blob_service_from_url(url)
    digest = client.put(b"persisted")
    in_flight = client.open_write()
    in_flight.write(b"never finished" * 1000)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    with pytest.raises(StorageError):
        in_flight.close()
    client.close()
    stderr = process.stderr.read().decode() if process.stderr else ""
    records = [json.loads(line) for line in stderr.splitlines()]
    messages = [r["msg"] for r in records]
    assert "serving" in messages
    assert "received SIGTERM, shutting down" in messages
    assert messages.index("stopped") > messages.index("received SIGTERM, shutting down")
    assert all({"ts", "level", "logger", "msg"} <= set(r) for r in records)
    assert not (tmp / "daemon.sock").exists()
    store = blob_service_from_url(f"lmdb://{tmp}/store")
    assert store.read_all(digest) == b"persisted"
    assert not store.has(B3Digest.of(b"never finished" * 1000))
    store.close()


def test_daemon_reports_bad_configuration() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tvix_castore", "daemon", "--blob-service-addr", "memory://host"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "error: invalid url 'memory://host': memory does not take a host"
    )


def test_daemon_reports_bad_listen_address(short_tmp: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tvix_castore",
            "daemon",
            "--blob-service-addr",
            "memory://",
            "--directory-service-addr",
            "memory://",
            "--listen-address",
            "nowhere",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "error: invalid listen address 'nowhere'" in result.stderr
    assert "Traceback" not in result.stderr
