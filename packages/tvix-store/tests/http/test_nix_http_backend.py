"""The ``nix+http://`` / ``nix+file://`` PathInfoService: substituting from a binary cache."""

from __future__ import annotations

import hashlib
import io
import lzma
from collections.abc import Iterator
from pathlib import Path

import pytest
from nix_compat import nixbase32
from nix_compat.narinfo import NarInfo
from nix_compat.nixhash import HashAlgo, NixHash
from nix_compat.signing import SecretKey
from tvix_castore.errors import InvalidRequestError, InvalidUrlError, StorageError
from tvix_castore.registry import blob_service_from_url, directory_service_from_url
from tvix_store.http import Compression
from tvix_store.nar import write_nar
from tvix_store.pathinfo import PathInfo, path_info_root_node, summarize
from tvix_store.pathinfoservice import PathInfoService, path_info_service_from_url

from ..conftest import Store
from .conftest import Serve, put_nar
from .test_uploads import NAR, NAR_SHA, PATH, REF, narinfo_text, put_narinfo

KEY = SecretKey.generate("cache-1")


@pytest.fixture
def local() -> Iterator[Store]:
    """The castore a client substitutes into."""
    blobs = blob_service_from_url("memory://")
    directories = directory_service_from_url("memory://")
    yield Store(blobs, directories, path_info_service_from_url("memory://", blobs, directories))


def open_backend(url: str, local: Store) -> PathInfoService:
    return path_info_service_from_url(url, local.blobs, local.directories)


def upload(serve: Serve, compression: Compression = Compression.NONE) -> str:
    import httpx

    cache = serve(compression=compression, sign_key=KEY)
    with httpx.Client(base_url=cache.url) as client:
        url, _ = put_nar(client, NAR)
        assert put_narinfo(client, narinfo_text(url, references=(REF,))).status_code == 200
    return cache.url.replace("http://", "nix+http://")


def rendered(local: Store, backend: PathInfoService) -> bytes:
    info = backend.get(PATH.digest)
    assert info is not None
    out = io.BytesIO()
    write_nar(out, path_info_root_node(info), local.blobs, local.directories)
    return out.getvalue()


@pytest.mark.parametrize("compression", list(Compression))
def test_substitutes_from_our_server(serve: Serve, local: Store, compression: Compression) -> None:
    base = upload(serve, compression)
    with open_backend(f"{base}?trusted-public-keys={KEY.public_key()}", local) as backend:
        info = backend.get(PATH.digest)
        assert info is not None
        summary = summarize(info)
        assert (summary.store_path, summary.references, summary.nar_size) == (
            PATH,
            (REF,),
            len(NAR),
        )
        assert rendered(local, backend) == NAR
        assert backend.get(REF.digest) is None


def test_untrusted_signature_is_refused(serve: Serve, local: Store) -> None:
    base = upload(serve)
    other = SecretKey.generate("cache-1").public_key()
    with (
        open_backend(f"{base}?trusted-public-keys={other}", local) as backend,
        pytest.raises(StorageError) as e,
    ):
        backend.get(PATH.digest)
    assert str(e.value) == (
        f"{PATH.to_absolute_path()} from {base} lacks a valid signature by a trusted key"
    )


def write_file_cache(root: Path, nar: bytes, *, claimed_sha: bytes, compression: str) -> None:
    data = lzma.compress(nar) if compression == "xz" else nar
    name = f"nar/{nixbase32.encode(hashlib.sha256(data).digest())}.nar" + (
        ".xz" if compression == "xz" else ""
    )
    (root / "nar").mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(data)
    text = NarInfo(
        store_path=PATH,
        url=name,
        nar_hash=NixHash(HashAlgo.SHA256, claimed_sha),
        nar_size=len(nar),
        compression=compression,
    ).render()
    (root / f"{PATH.hash_part}.narinfo").write_text(text)


def test_file_cache(tmp_path: Path, local: Store) -> None:
    write_file_cache(tmp_path, NAR, claimed_sha=NAR_SHA, compression="xz")
    with open_backend(f"nix+file://{tmp_path}", local) as backend:
        assert rendered(local, backend) == NAR


def test_wrong_nar_hash_is_refused(tmp_path: Path, local: Store) -> None:
    write_file_cache(tmp_path, NAR, claimed_sha=bytes(32), compression="none")
    with open_backend(f"nix+file://{tmp_path}", local) as backend, pytest.raises(StorageError) as e:
        backend.get(PATH.digest)
    assert str(e.value) == (
        f"NAR of {PATH} from nix+file://{tmp_path}: NAR hash mismatch: expected sha256 "
        f"{bytes(32).hex()}, got {NAR_SHA.hex()}"
    )


def test_narinfo_of_another_path(tmp_path: Path, local: Store) -> None:
    write_file_cache(tmp_path, NAR, claimed_sha=NAR_SHA, compression="none")
    (tmp_path / f"{PATH.hash_part}.narinfo").rename(tmp_path / f"{REF.hash_part}.narinfo")
    with open_backend(f"nix+file://{tmp_path}", local) as backend, pytest.raises(StorageError) as e:
        backend.get(REF.digest)
    assert str(e.value) == (
        f"nix+file://{tmp_path}/{REF.hash_part}.narinfo describes another path, {PATH}"
    )


def test_traversal_in_narinfo_url(tmp_path: Path, local: Store) -> None:
    write_file_cache(tmp_path, NAR, claimed_sha=NAR_SHA, compression="none")
    info = tmp_path / f"{PATH.hash_part}.narinfo"
    info.write_text(info.read_text().replace("URL: nar/", "URL: ../nar/"))
    with (
        open_backend(f"nix+file://{tmp_path}", local) as backend,
        pytest.raises(StorageError, match=r"^refusing to fetch '\.\./nar/"),
    ):
        backend.get(PATH.digest)


def test_read_only(local: Store, tmp_path: Path) -> None:
    with (
        open_backend(f"nix+file://{tmp_path}", local) as backend,
        pytest.raises(InvalidRequestError) as e,
    ):
        backend.put(PathInfo())
        assert str(e.value) == f"nix+file://{tmp_path} is a read-only binary cache"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nix+http:///nohost", "invalid url 'nix+http:///nohost': a host is required"),
        ("nix+file://host/x", "invalid url 'nix+file://host/x': expected nix+file:///abs/dir"),
        (
            "nix+http://h/?trusted-public-keys=bad",
            "invalid url 'nix+http://h/?trusted-public-keys=bad': public key 'bad' lacks the "
            "':' between name and base64 data",
        ),
        ("nix+http://h/?x=1", "invalid url 'nix+http://h/?x=1': unknown parameter(s) x"),
    ],
)
def test_bad_urls(local: Store, url: str, message: str) -> None:
    with pytest.raises(InvalidUrlError) as e:
        open_backend(url, local)
    assert str(e.value) == message
