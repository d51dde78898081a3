"""Fetchers over ``file://`` and a loopback HTTP server; store paths as C++ Nix computes them."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from nix_compat.nixhash import FlatHash, HashAlgo, NixHash
from nix_compat.store_path import build_ca_path

Tvix = Callable[..., Any]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A directory served over HTTP on 127.0.0.1; yields (base URL, directory)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def _flat_path(data: bytes, name: str) -> str:
    ca = FlatHash(NixHash(HashAlgo.SHA256, hashlib.sha256(data).digest()))
    return build_ca_path(name, ca).to_absolute_path()


def _tarball(path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("top/a")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hi\n"))
    path.write_bytes(buf.getvalue())


def test_fetchurl_over_http(tvix: Tvix, served: tuple[str, Path]) -> None:
    base, root = served
    (root / "f.txt").write_bytes(b"content\n")
    r = tvix("eval", "--strict", "-E", f'builtins.fetchurl "{base}/f.txt"')
    assert r.code == 0, r.err
    expected = _flat_path(b"content\n", "f.txt")
    assert r.out == f'"{expected}"\n'
    r = tvix("eval", "--raw", "-E", f'builtins.readFile (builtins.fetchurl "{base}/f.txt")')
    assert r.out == "content\n"


def test_fetchurl_hash_mismatch_and_404(tvix: Tvix, served: tuple[str, Path]) -> None:
    base, root = served
    (root / "f.txt").write_bytes(b"content\n")
    wrong = "0" * 52
    r = tvix("eval", "-E", f'builtins.fetchurl {{ url = "{base}/f.txt"; sha256 = "{wrong}"; }}')
    assert r.code == 1
    assert "hash mismatch in file downloaded from" in r.err
    r = tvix("eval", "-E", f'builtins.fetchurl "{base}/missing"')
    assert r.code == 1
    assert "unable to download" in r.err
    assert "Traceback" not in r.err


def test_fetch_tarball_over_http(tvix: Tvix, served: tuple[str, Path]) -> None:
    base, root = served
    _tarball(root / "t.tar.gz")
    r = tvix(
        "eval", "--strict", "-E", f'builtins.readDir (builtins.fetchTarball "{base}/t.tar.gz")'
    )
    assert (r.code, r.out) == (0, '{ a = "regular"; }\n'), r.err


@pytest.mark.nix
def test_file_fetchers_match_nix(tvix: Tvix, nix: Tvix, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"content\n")
    _tarball(tmp_path / "t.tar.gz")
    for expr in (
        f'builtins.fetchurl "file://{tmp_path}/f.txt"',
        f'builtins.fetchTarball "file://{tmp_path}/t.tar.gz"',
        f'builtins.fetchTarball {{ url = "file://{tmp_path}/t.tar.gz"; name = "x"; }}',
        f'(import <nix/fetchurl.nix> {{ url = "file://{tmp_path}/f.txt"; '
        f'sha256 = builtins.hashFile "sha256" {tmp_path}/f.txt; }}).drvPath',
    ):
        theirs = nix("--eval", "--strict", "-E", expr)
        assert theirs.code == 0, theirs.err
        assert tvix("instantiate", "--eval", "--strict", "-E", expr).out == theirs.out
