"""Serving: nix-cache-info, narinfos (exact text, signatures) and NARs (compression, ranges)."""

from __future__ import annotations

import bz2
import hashlib
import io
import lzma
import os
import tracemalloc
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import zstandard
from nix_compat import nixbase32
from nix_compat.narinfo import parse_narinfo
from nix_compat.nixhash import HashAlgo, NarHash, NixHash
from nix_compat.signing import SecretKey
from nix_compat.store_path import StorePath
from nix_compat.store_path.build import build_nar_based_store_path
from tvix_castore.directory import rename_node
from tvix_castore.importer import import_path
from tvix_store.http.compression import Compression
from tvix_store.http.server import RunningServer
from tvix_store.nar import ingest_nar, write_nar
from tvix_store.pathinfo import PathInfo, build_path_info

from ..conftest import Store
from ..fixtures import NAR_CONTENTS_COMPLICATED, NAR_CONTENTS_HELLOWORLD
from .conftest import DECOMPRESSORS, Serve, nix32_sha256, raw_request

REF = StorePath.from_basename("00000000000000000000000000000000-dep")
DRV = StorePath.from_basename("11111111111111111111111111111111-tree.drv")


def add_path(store: Store, nar: bytes, name: str = "tree", **extra: object) -> StorePath:
    """Ingest ``nar`` as the content-addressed path it would be, and register it."""
    sha = hashlib.sha256(nar).digest()
    path = build_nar_based_store_path(sha, name)
    result = ingest_nar(io.BytesIO(nar), store.blobs, store.directories)
    info: PathInfo = build_path_info(
        rename_node(result.root, str(path).encode()),
        len(nar),
        sha,
        ca=NarHash(NixHash(HashAlgo.SHA256, sha)),
        **extra,  # type: ignore[arg-type]
    )
    store.path_infos.put(info)
    return path


def test_cache_info(client: httpx.Client) -> None:
    for method in ("GET", "HEAD"):
        response = client.request(method, "/nix-cache-info")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/x-nix-cache-info"
        assert response.headers["content-length"] == "51"
    assert client.get("/nix-cache-info").text == (
        "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n"
    )


def test_priority_is_configurable(serve: Serve) -> None:
    cache = serve(priority=41)
    assert httpx.get(f"{cache.url}/nix-cache-info").text.endswith("Priority: 41\n")


def test_narinfo(store: Store, client: httpx.Client) -> None:
    path = add_path(store, NAR_CONTENTS_COMPLICATED, references=[REF], deriver=DRV)
    sha = nixbase32.encode(hashlib.sha256(NAR_CONTENTS_COMPLICATED).digest())
    size = len(NAR_CONTENTS_COMPLICATED)
    response = client.get(f"/{path.hash_part}.narinfo")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/x-nix-narinfo"
    assert response.text == (
        f"StorePath: {path.to_absolute_path()}\n"
        f"URL: nar/{path.hash_part}-{sha}.nar\n"
        "Compression: none\n"
        f"FileHash: sha256:{sha}\n"
        f"FileSize: {size}\n"
        f"NarHash: sha256:{sha}\n"
        f"NarSize: {size}\n"
        f"References: {REF}\n"
        f"Deriver: {DRV}\n"
        f"CA: fixed:r:sha256:{sha}\n"
    )
    head = client.head(f"/{path.hash_part}.narinfo")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == response.headers["content-length"]


def test_unknown_narinfo_is_404(client: httpx.Client) -> None:
    for method in ("GET", "HEAD"):
        response = client.request(method, f"/{REF.hash_part}.narinfo")
        assert response.status_code == 404
    assert client.get(f"/{REF.hash_part}.narinfo").text == (
        f"error: {REF.hash_part}.narinfo not found\n"
    )


def test_signed_narinfo(store: Store, serve: Serve) -> None:
    key = SecretKey.generate("cache.example.org-1")
    cache = serve(sign_key=key)
    path = add_path(store, NAR_CONTENTS_HELLOWORLD, references=[REF])
    narinfo = parse_narinfo(httpx.get(f"{cache.url}/{path.hash_part}.narinfo").content)
    assert len(narinfo.signatures) == 1
    assert narinfo.signatures[0].startswith("cache.example.org-1:")
    assert narinfo.verify([key.public_key()]) == 1
    assert narinfo.verify([SecretKey.generate("cache.example.org-1").public_key()]) == 0


def _same_headers(get: httpx.Response, head: httpx.Response) -> None:
    """HEAD answered exactly as GET, without the body."""
    assert head.status_code == get.status_code
    assert head.content == b""
    assert {k: v for k, v in head.headers.items() if k != "date"} == {
        k: v for k, v in get.headers.items() if k != "date"
    }


@pytest.mark.parametrize("compression", ["none", "xz", "bzip2", "zstd"])
@pytest.mark.parametrize("head_first", [False, True])
def test_nar_in_every_compression(
    store: Store, serve: Serve, compression: str, head_first: bool
) -> None:
    cache = serve(compression=Compression(compression))
    path = add_path(store, NAR_CONTENTS_COMPLICATED)
    narinfo = parse_narinfo(httpx.get(f"{cache.url}/{path.hash_part}.narinfo").content)
    assert narinfo.compression == compression
    ext = {"none": "", "xz": ".xz", "bzip2": ".bz2", "zstd": ".zst"}[compression]
    assert narinfo.url.endswith(f".nar{ext}")
    if compression != "none":
        # Not compressed yet: its size and hash are not known, so not announced.
        assert (narinfo.file_size, narinfo.file_hash) == (None, None)
    head = httpx.head(f"{cache.url}/{narinfo.url}") if head_first else None
    response = httpx.get(f"{cache.url}/{narinfo.url}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-nix-nar"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(response.content))
    assert "transfer-encoding" not in response.headers
    assert DECOMPRESSORS[compression](response.content) == NAR_CONTENTS_COMPLICATED
    _same_headers(response, head or httpx.head(f"{cache.url}/{narinfo.url}"))
    # Once compressed, the narinfo announces the exact file size and hash.
    text = httpx.get(f"{cache.url}/{path.hash_part}.narinfo")
    narinfo = parse_narinfo(text.content)
    assert narinfo.file_size == len(response.content)
    assert narinfo.file_hash is not None
    assert narinfo.file_hash.to_nix_string() == nix32_sha256(response.content)
    _same_headers(text, httpx.head(f"{cache.url}/{path.hash_part}.narinfo"))
    # Sent again (and by a fresh server, which compresses anew): the same bytes.
    assert httpx.get(f"{cache.url}/{narinfo.url}").content == response.content
    fresh = serve(compression=Compression(compression))
    assert httpx.get(f"{fresh.url}/{narinfo.url}").content == response.content


@pytest.mark.parametrize("compression", ["xz", "bzip2", "zstd"])
def test_compressed_nar_ranges(store: Store, serve: Serve, compression: str) -> None:
    cache = serve(compression=Compression(compression))
    path = add_path(store, NAR_CONTENTS_COMPLICATED)
    narinfo = parse_narinfo(httpx.get(f"{cache.url}/{path.hash_part}.narinfo").content)
    url = f"{cache.url}/{narinfo.url}"
    whole = httpx.get(url).content
    size = len(whole)
    part = httpx.get(url, headers={"range": "bytes=10-99"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 10-99/{size}"
    assert part.headers["content-length"] == "90"
    assert part.content == whole[10:100]
    _same_headers(part, httpx.head(url, headers={"range": "bytes=10-99"}))
    tail = httpx.get(url, headers={"range": "bytes=-7"})
    assert (tail.status_code, tail.content) == (206, whole[-7:])
    rest = httpx.get(url, headers={"range": "bytes=50-"})
    assert (rest.status_code, rest.content) == (206, whole[50:])
    # Ranges it does not serve (several, other units) are ignored: the whole file.
    for ignored in ("bytes=0-1,5-6", "items=0-1"):
        full = httpx.get(url, headers={"range": ignored})
        assert (full.status_code, full.content) == (200, whole)
        assert full.headers["content-length"] == str(size)
    beyond = httpx.get(url, headers={"range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{size}"


def _incremental_decompressor(compression: str) -> Any:
    if compression == "xz":
        return lzma.LZMADecompressor(lzma.FORMAT_XZ)
    if compression == "bzip2":
        return bz2.BZ2Decompressor()
    if compression == "zstd":
        return zstandard.ZstdDecompressor().decompressobj()
    return types.SimpleNamespace(decompress=lambda data: data)


@pytest.mark.parametrize("compression", ["none", "zstd"])
def test_compressed_nar_memory_is_bounded(
    store: Store, serve: Serve, tmp_path: Path, compression: str
) -> None:
    """A 24 MiB NAR is measured, compressed and sent (and received) in bounded memory.

    The streaming path is the same for every compression; zstd stands for them
    here since its native state is not traced (xz's and bzip2's ~10 MiB are,
    and they are slow under tracemalloc).
    """
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(6):  # incompressible: the compressed file is as large as the NAR
        (tree / f"f{i}").write_bytes(os.urandom(4 << 20))
    node = import_path(tree, store.blobs, store.directories)
    out = io.BytesIO()
    write_nar(out, node, store.blobs, store.directories)
    nar = out.getvalue()
    del out
    path = add_path(store, nar, name="big")
    cache = serve(compression=Compression(compression))
    narinfo = parse_narinfo(httpx.get(f"{cache.url}/{path.hash_part}.narinfo").content)
    url = f"{cache.url}/{narinfo.url}"
    tracemalloc.start()
    try:
        size = 0
        digest = hashlib.sha256()
        decompressor = _incremental_decompressor(compression)
        nar_digest = hashlib.sha256()
        with httpx.stream("GET", url, timeout=120) as response:
            length = int(response.headers["content-length"])
            for chunk in response.iter_raw():
                size += len(chunk)
                digest.update(chunk)
                nar_digest.update(decompressor.decompress(chunk))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == length >= len(nar)  # incompressible data grows a little
    assert nar_digest.digest() == narinfo.nar_hash.digest
    assert peak < len(nar) // 3, (peak, len(nar))
    narinfo = parse_narinfo(httpx.get(f"{cache.url}/{path.hash_part}.narinfo").content)
    assert narinfo.file_size == size
    assert narinfo.file_hash is not None and narinfo.file_hash.digest == digest.digest()


def test_nar_with_wrong_hash_is_404(store: Store, client: httpx.Client) -> None:
    path = add_path(store, NAR_CONTENTS_HELLOWORLD)
    wrong = nixbase32.encode(bytes(32))
    response = client.get(f"/nar/{path.hash_part}-{wrong}.nar")
    assert (response.status_code, response.text) == (
        404,
        f"error: nar/{path.hash_part}-{wrong}.nar not found\n",
    )


def test_nar_ranges(store: Store, client: httpx.Client) -> None:
    nar = NAR_CONTENTS_COMPLICATED
    path = add_path(store, nar)
    url = f"/nar/{path.hash_part}-{nix32_sha256(nar).removeprefix('sha256:')}.nar"
    response = client.get(url, headers={"range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 100-199/{len(nar)}"
    assert response.content == nar[100:200]
    tail = client.get(url, headers={"range": "bytes=-8"})
    assert (tail.status_code, tail.content) == (206, nar[-8:])
    beyond = client.get(url, headers={"range": f"bytes={len(nar)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(nar)}"


def test_large_nar_streams(store: Store, client: httpx.Client, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(40):
        (tree / f"f{i:02}").write_bytes(bytes([i]) * 100_000)
    node = import_path(tree, store.blobs, store.directories)
    out = io.BytesIO()
    write_nar(out, node, store.blobs, store.directories)
    nar = out.getvalue()
    add_path(store, nar, name="big")
    path = build_nar_based_store_path(hashlib.sha256(nar).digest(), "big")
    narinfo = parse_narinfo(client.get(f"/{path.hash_part}.narinfo").content)
    with client.stream("GET", f"/{narinfo.url}") as response:
        body = b"".join(response.iter_bytes())
    assert hashlib.sha256(body).digest() == narinfo.nar_hash.digest
    assert len(body) == narinfo.nar_size == int(response.headers["content-length"])


@pytest.mark.parametrize(
    ("target", "status", "body"),
    [
        (b"/nar/../etc/passwd", 400, b"error: invalid path '/nar/../etc/passwd'\n"),
        (b"/../nix-cache-info", 400, b"error: invalid path '/../nix-cache-info'\n"),
        (b"/nar/%2e%2e%2fx.nar", 400, b"error: invalid path '/nar/../x.nar'\n"),
        (b"/somewhere/else", 404, b"error: /somewhere/else not found\n"),
        (b"/abc.ls", 404, b"error: /abc.ls not found\n"),
    ],
)
def test_bad_paths(cache: RunningServer, target: bytes, status: int, body: bytes) -> None:
    answer = raw_request(
        cache.port, b"GET " + target + b" HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    )
    head, _, content = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode())
    assert content.startswith(body)


def test_missing_directory_is_a_clean_error(store: Store, client: httpx.Client) -> None:
    from tvix_castore.directory import DirectoryNode

    path = StorePath.from_basename("00000000000000000000000000000000-broken")
    root = DirectoryNode(name=str(path).encode(), digest=bytes(32), size=1)
    store.path_infos.put(build_path_info(root, 8, bytes(32)))
    narinfo = parse_narinfo(client.get(f"/{path.hash_part}.narinfo").content)
    response = client.get(f"/{narinfo.url}")
    assert response.status_code == 404
    assert response.text == (
        f"error: unable to find directory b3:{'A' * 43}=, referred from {str(path).encode()!r}\n"
    )


def test_path_info_without_narinfo_gets_one(store: Store, client: httpx.Client) -> None:
    from tvix_store.pathinfo import PathInfo as PathInfoProto

    path = add_path(store, NAR_CONTENTS_HELLOWORLD)
    stored = store.path_infos.get(path.digest)
    assert stored is not None
    bare = PathInfoProto(node=stored.node)
    store.path_infos.put(bare)
    narinfo = parse_narinfo(client.get(f"/{path.hash_part}.narinfo").content)
    assert narinfo.nar_size == len(NAR_CONTENTS_HELLOWORLD)
    assert narinfo.nar_hash.digest == hashlib.sha256(NAR_CONTENTS_HELLOWORLD).digest()
    assert client.get(f"/{narinfo.url}").content == NAR_CONTENTS_HELLOWORLD


def test_compressed_nar_that_changed_is_cut_off_and_measured_again(
    store: Store, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the bytes sent differ from the measured ones, the transfer fails (never
    wrong data under a right length) and the next request measures anew."""
    import tvix_store.http.app as app_module
    from tvix_store.http.compressed_files import CompressedFile

    real = app_module.measure_compressed
    wrong: list[Callable[[CompressedFile], CompressedFile]] = [
        lambda right: CompressedFile(right.size + 5, right.sha256),  # too short: cut off
        lambda right: CompressedFile(10, right.sha256),  # overflows the first chunk: 500
    ]

    def measure(*args: Any) -> CompressedFile:
        right = real(*args)
        return wrong.pop()(right) if wrong else right

    monkeypatch.setattr(app_module, "measure_compressed", measure)
    cache = serve(compression=Compression.ZSTD)
    path = add_path(store, NAR_CONTENTS_COMPLICATED)
    narinfo = parse_narinfo(httpx.get(f"{cache.url}/{path.hash_part}.narinfo").content)
    url = f"{cache.url}/{narinfo.url}"
    refused = httpx.get(url)
    assert (refused.status_code, refused.text) == (
        500,
        "error: compressed to more than the 10 bytes announced\n",
    )
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url)
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(response.content))
    assert DECOMPRESSORS["zstd"](response.content) == NAR_CONTENTS_COMPLICATED
