"""Uploads as ``nix copy --to`` makes them, and every way an upload is refused."""

from __future__ import annotations

import contextlib
import hashlib
import lzma
import socket
import time

import httpx
import pytest
from nix_compat import nixbase32
from nix_compat.narinfo import NarInfo, parse_narinfo
from nix_compat.nixhash import HashAlgo, NarHash, NixHash
from nix_compat.signing import SecretKey
from nix_compat.store_path import StorePath
from nix_compat.store_path.build import build_nar_based_store_path
from tvix_store.http.server import RunningServer
from tvix_store.pathinfo import summarize

from ..conftest import Store
from ..fixtures import NAR_CONTENTS_COMPLICATED, NAR_CONTENTS_HELLOWORLD
from .conftest import COMPRESSORS, Serve, put_nar, raw_request, upload_name

NAR = NAR_CONTENTS_COMPLICATED
NAR_SHA = hashlib.sha256(NAR).digest()
PATH = StorePath.from_basename("7ds1k4v7n6qlzlkbz2c3f0z1rpfpjxx3-tree")
REF = StorePath.from_basename("00000000000000000000000000000000-dep")
DRV = StorePath.from_basename("11111111111111111111111111111111-tree.drv")


def narinfo_text(url: str, compression: str = "none", **fields: object) -> str:
    values: dict[str, object] = {
        "store_path": PATH,
        "url": url,
        "nar_hash": NixHash(HashAlgo.SHA256, NAR_SHA),
        "nar_size": len(NAR),
        "compression": compression,
        **fields,
    }
    return NarInfo(**values).render()  # type: ignore[arg-type]


def put_narinfo(client: httpx.Client, text: str, path: StorePath = PATH) -> httpx.Response:
    return client.put(
        f"/{path.hash_part}.narinfo",
        content=text.encode(),
        headers={"content-type": "text/x-nix-narinfo"},
    )


@pytest.mark.parametrize("compression", ["none", "xz", "bzip2", "zstd"])
def test_upload_then_serve(store: Store, client: httpx.Client, compression: str) -> None:
    key = SecretKey.generate("upload-1")
    signature = key.sign(
        f"1;{PATH.to_absolute_path()};sha256:{nixbase32.encode(NAR_SHA)};{len(NAR)};"
        f"{REF.to_absolute_path()}"
    ).to_nix_string()
    assert (
        client.head(upload_name(COMPRESSORS[compression][1](NAR), compression)).status_code == 404
    )
    url, data = put_nar(client, NAR, compression)
    assert client.head(url).status_code == 200
    text = narinfo_text(
        url,
        compression,
        references=(REF,),
        deriver=DRV,
        signatures=(signature,),
        file_hash=NixHash(HashAlgo.SHA256, hashlib.sha256(data).digest()),
        file_size=len(data),
    )
    response = put_narinfo(client, text)
    assert (response.status_code, response.text) == (200, "")
    info = store.path_infos.get(PATH.digest)
    assert info is not None
    summary = summarize(info)
    assert (summary.store_path, summary.nar_size, summary.references) == (PATH, len(NAR), (REF,))
    assert summary.deriver == DRV
    assert [s.to_nix_string() for s in summary.signatures] == [signature]
    served = parse_narinfo(client.get(f"/{PATH.hash_part}.narinfo").content)
    assert served.verify([key.public_key()]) == 1
    assert client.get(f"/{served.url}").content == NAR
    # The name it was uploaded under stays servable: Nix remembers the narinfo it wrote.
    fetched = client.get(url)
    assert fetched.status_code == 200
    assert {"none": NAR}.get(compression, NAR) == _decompress(compression, fetched.content)


def _decompress(compression: str, data: bytes) -> bytes:
    from .conftest import DECOMPRESSORS

    return DECOMPRESSORS[compression](data)


def test_wrong_hash_in_url(client: httpx.Client) -> None:
    wrong = f"nar/{nixbase32.encode(bytes(32))}.nar"
    response = client.put(wrong, content=NAR)
    assert response.status_code == 400
    assert response.text == (
        "error: received bytes don't match the hash in the URL: the URL names sha256:"
        f"{nixbase32.encode(bytes(32))}, the upload has sha256:{nixbase32.encode(NAR_SHA)}\n"
    )
    assert client.head(wrong).status_code == 404
    assert put_narinfo(client, narinfo_text(wrong)).text == (
        f"error: unable to find referred NAR: {wrong} was not uploaded\n"
    )


def test_narinfo_without_nar(store: Store, client: httpx.Client) -> None:
    url = upload_name(NAR)
    response = put_narinfo(client, narinfo_text(url))
    assert (response.status_code, response.text) == (
        400,
        f"error: unable to find referred NAR: {url} was not uploaded\n",
    )
    assert store.path_infos.get(PATH.digest) is None


def test_truncated_nar(store: Store, client: httpx.Client) -> None:
    cut = NAR[:-16]
    response = client.put(upload_name(cut), content=cut)
    assert response.status_code == 400
    assert response.text.startswith("error: invalid NAR: ")
    assert client.head(upload_name(cut)).status_code == 404


def test_data_after_the_nar(client: httpx.Client) -> None:
    data = NAR + b"\0" * 8
    response = client.put(upload_name(data), content=data)
    assert (response.status_code, response.text) == (
        400,
        f"error: invalid NAR: trailing data after the end of the archive (at byte {len(NAR)})\n",
    )


def test_truncated_upload_connection(store: Store, cache: RunningServer) -> None:
    url = upload_name(NAR)
    with socket.create_connection(("127.0.0.1", cache.port)) as sock:
        sock.sendall(
            f"PUT /{url} HTTP/1.1\r\nhost: x\r\ncontent-length: {len(NAR)}\r\n\r\n".encode()
            + NAR[:100]
        )
        time.sleep(0.2)
    time.sleep(0.3)
    assert httpx.head(f"{cache.url}/{url}").status_code == 404


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"nar_hash": NixHash(HashAlgo.SHA256, bytes(32))},
            f"NarHash mismatch: the narinfo says sha256:{nixbase32.encode(bytes(32))}, the "
            f"uploaded NAR has sha256:{nixbase32.encode(NAR_SHA)}",
        ),
        (
            {"nar_size": len(NAR) + 8},
            f"NarSize mismatch: the narinfo says {len(NAR) + 8}, the uploaded NAR has "
            f"{len(NAR)} bytes",
        ),
        (
            {"compression": "xz"},
            "Compression is xz, but {url} was uploaded as none",
        ),
        (
            {"compression": "br"},
            "unknown compression 'br' (known: none, xz, bzip2, zstd)",
        ),
        (
            {"file_size": 1},
            f"FileSize mismatch: the narinfo says 1, the uploaded file has {len(NAR)} bytes",
        ),
        (
            {"store_path": REF},
            f"narinfo of {REF.to_absolute_path()} uploaded as {PATH.hash_part}.narinfo",
        ),
        (
            {"ca": NarHash(NixHash(HashAlgo.SHA256, NAR_SHA))},
            f"store path {PATH} does not match its content address "
            f"fixed:r:sha256:{nixbase32.encode(NAR_SHA)} "
            f"(expected {build_nar_based_store_path(NAR_SHA, 'tree')})",
        ),
    ],
)
def test_narinfo_mismatches(
    store: Store, client: httpx.Client, fields: dict[str, object], message: str
) -> None:
    url, _ = put_nar(client, NAR)
    response = put_narinfo(client, narinfo_text(url, **fields))  # type: ignore[arg-type]
    assert (response.status_code, response.text) == (400, f"error: {message.format(url=url)}\n")
    assert store.path_infos.get(PATH.digest) is None


def test_content_addressed_upload(store: Store, client: httpx.Client) -> None:
    path = build_nar_based_store_path(NAR_SHA, "tree")
    url, _ = put_nar(client, NAR)
    text = narinfo_text(url, store_path=path, ca=NarHash(NixHash(HashAlgo.SHA256, NAR_SHA)))
    assert put_narinfo(client, text, path).status_code == 200
    assert store.path_infos.get(path.digest) is not None


def test_unparsable_narinfo(client: httpx.Client) -> None:
    response = put_narinfo(client, "StorePath: /nix/store/x\n")
    assert response.status_code == 400
    assert response.text.startswith("error: unable to parse narinfo: line 1, field StorePath: ")


def test_unknown_compression_upload(client: httpx.Client) -> None:
    response = client.put(f"nar/{nixbase32.encode(NAR_SHA)}.nar.gz", content=NAR)
    assert (response.status_code, response.text) == (
        400,
        f"error: invalid NAR name '{nixbase32.encode(NAR_SHA)}.nar.gz': unknown compression "
        "extension '.gz'\n",
    )


def test_wrong_compression_in_upload(client: httpx.Client) -> None:
    data = lzma.compress(NAR)
    name = upload_name(data, "zstd")
    response = client.put(name, content=data)
    assert response.status_code == 400
    assert response.text.startswith("error: invalid zstd data: ")


def test_read_only(serve: Serve) -> None:
    cache = serve(read_only=True)
    for url, body in ((upload_name(NAR), NAR), (f"{PATH.hash_part}.narinfo", b"x")):
        response = httpx.put(f"{cache.url}/{url}", content=body)
        assert (response.status_code, response.text) == (
            403,
            "error: this binary cache is read-only\n",
        )


def test_upload_size_limits(serve: Serve) -> None:
    cache = serve(max_upload_size=len(NAR) - 1)
    response = httpx.put(f"{cache.url}/{upload_name(NAR)}", content=NAR)
    assert (response.status_code, response.text) == (
        413,
        f"error: upload of {len(NAR)} bytes exceeds the limit of {len(NAR) - 1} bytes\n",
    )
    bomb = lzma.compress(NAR_CONTENTS_HELLOWORLD[:-8] + b"\0" * 10_000)
    response = httpx.put(f"{cache.url}/{upload_name(bomb, 'xz')}", content=bomb)
    assert (response.status_code, response.text) == (
        413,
        f"error: the NAR exceeds the upload limit of {len(NAR) - 1} bytes\n",
    )


def test_chunked_upload_over_the_limit(serve: Serve) -> None:
    cache = serve(max_upload_size=len(NAR) - 1)
    response = httpx.put(f"{cache.url}/{upload_name(NAR)}", content=iter([NAR[:100], NAR[100:]]))
    assert (response.status_code, response.text) == (
        413,
        f"error: upload exceeds the limit of {len(NAR) - 1} bytes\n",
    )


@pytest.mark.parametrize(
    ("url", "content_type", "expected"),
    [
        (
            upload_name(NAR),
            "application/json",
            "application/octet-stream, application/x-nix-nar",
        ),
        (
            f"{PATH.hash_part}.narinfo",
            "application/x-nix-nar",
            "application/octet-stream, text/plain, text/x-nix-narinfo",
        ),
    ],
)
def test_wrong_content_type(
    client: httpx.Client, url: str, content_type: str, expected: str
) -> None:
    response = client.put(url, content=NAR, headers={"content-type": content_type})
    assert (response.status_code, response.text) == (
        415,
        f"error: unsupported Content-Type {content_type!r} (expected one of {expected})\n",
    )


def test_served_names_cannot_be_uploaded(client: httpx.Client) -> None:
    response = client.put(f"nar/{PATH.hash_part}-{nixbase32.encode(NAR_SHA)}.nar", content=NAR)
    assert (response.status_code, response.text) == (
        400,
        "error: NAR uploads are named nar/<nix32 sha256 of the file>.nar[.xz|.bz2|.zst]\n",
    )


def test_stalled_upload_times_out(serve: Serve) -> None:
    cache = serve(upload_idle_timeout=0.3)
    url = upload_name(NAR)
    answer = raw_request(
        cache.port,
        f"PUT /{url} HTTP/1.1\r\nhost: x\r\ncontent-length: {len(NAR)}\r\n\r\n".encode() + NAR[:64],
    )
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert answer.endswith(b"\r\n\r\nerror: upload stalled: no data for 0.3 s after 64 bytes\n")
    assert httpx.head(f"{cache.url}/{url}").status_code == 404


def test_slow_upload_hits_the_total_timeout(serve: Serve) -> None:
    cache = serve(upload_idle_timeout=5, upload_timeout=0.5)
    url = upload_name(NAR)
    with socket.create_connection(("127.0.0.1", cache.port), timeout=10) as sock:
        sock.sendall(
            f"PUT /{url} HTTP/1.1\r\nhost: x\r\ncontent-length: {len(NAR)}\r\n\r\n".encode()
        )
        with contextlib.suppress(OSError):
            for i in range(0, 8):
                time.sleep(0.1)
                sock.sendall(NAR[i * 8 : (i + 1) * 8])
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert answer.endswith(b"\r\n\r\nerror: upload took longer than 0.5 s\n")


def test_slow_request_head_times_out(serve: Serve) -> None:
    cache = serve(head_timeout=0.3)
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", cache.port), timeout=10) as sock:
        sock.sendall(b"GET /nix-cache-info HTTP/1.1\r\n")
        for _ in range(4):
            time.sleep(0.05)
            sock.sendall(b"x-slow: 1\r\n")
        answer = sock.recv(65536)
    assert time.monotonic() - started < 5
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert answer.endswith(b"\r\n\r\nerror: request head not sent in time\n")


def test_oversized_headers(cache: RunningServer) -> None:
    answer = raw_request(
        cache.port,
        b"GET /nix-cache-info HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 70_000 + b"\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert answer.endswith(b"error: request headers exceed 65536 bytes\n")
    with socket.create_connection(("127.0.0.1", cache.port), timeout=10) as sock:
        sock.sendall(b"GET /nix-cache-info HTTP/1.1\r\nhost: x\r\nx-big: ")
        with contextlib.suppress(OSError):
            for _ in range(20):
                sock.sendall(b"a" * 10_000)
                time.sleep(0.01)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert httpx.get(f"{cache.url}/nix-cache-info").status_code == 200
