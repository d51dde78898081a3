"""``nix+http://host/path``, ``nix+https://…``, ``nix+file:///dir``: a Nix binary cache.

The cache serves as a PathInfoService.

:meth:`NixHttpPathInfoService.get` fetches ``<hash>.narinfo``, checks it (and
its signatures, when ``trusted-public-keys`` are given in the URL's query, as
a space-separated (``%20``) list like Nix's setting), downloads the NAR, decompresses it
(none, xz, bzip2, zstd), ingests it into castore while checking NarHash and
NarSize, and returns the PathInfo. Results are remembered, so a path is
fetched once per service. The cache is read-only through this service.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, Self
from urllib.parse import unquote, urljoin

from nix_compat import nixbase32
from nix_compat.errors import NixCompatError
from nix_compat.narinfo import NarInfo, parse_narinfo
from nix_compat.nixhash import HashAlgo
from nix_compat.signing import PublicKey, Signature
from tvix_castore.blobservice.base import BlobService
from tvix_castore.directory import ChildNode, rename_node
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import InvalidRequestError, InvalidUrlError, StorageError
from tvix_castore.registry import ServiceUrl, require_no_query

from tvix_store.errors import NarIngestError
from tvix_store.http.compression import Compression, CompressionError, DecompressingReader
from tvix_store.nar import calculate_size_and_sha256, ingest_nar
from tvix_store.pathinfo import PathInfo, build_path_info
from tvix_store.pathinfoservice.base import PathInfoService
from tvix_store.pathinfoservice.local import check_output_digest

__all__ = ["NixHttpPathInfoService"]

CACHE_SIZE = 4096
"""How many fetched PathInfos are remembered."""

TIMEOUT = 60.0
"""Seconds an HTTP request may stall."""

MAX_NARINFO_SIZE = 1 << 20
"""A narinfo larger than this is refused."""


class _Reader(Protocol):
    def read(self, size: int, /) -> bytes: ...


class _Fetcher(Protocol):
    """Where a binary cache's files come from."""

    def fetch(self, name: str) -> AbstractContextManager[_Reader | None]:
        """A reader of the file ``name`` (relative to the cache), or None if it does not exist."""

    def close(self) -> None: ...


class _IterReader:
    """``read(size)`` over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def read(self, size: int, /) -> bytes:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buffer = chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def _read_up_to(reader: _Reader, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while size < limit and (chunk := reader.read(limit - size)):
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def _check_relative(name: str) -> str:
    if name.startswith("/") or any(part in {"", ".", ".."} for part in name.split("/")):
        raise StorageError(f"refusing to fetch {name!r}: not a plain path inside the cache")
    return name


class _HttpFetcher:
    def __init__(self, base: str) -> None:
        import httpx

        self._base = base.rstrip("/") + "/"
        self._client = httpx.Client(timeout=TIMEOUT, follow_redirects=True)

    @contextmanager
    def fetch(self, name: str) -> Iterator[_Reader | None]:
        import httpx

        url = (
            name
            if name.startswith(("http://", "https://"))
            else urljoin(self._base, _check_relative(name))
        )
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code in {403, 404}:
                    yield None
                    return
                if response.status_code != 200:
                    raise StorageError(f"GET {url}: HTTP status {response.status_code}")
                yield _IterReader(response.iter_bytes(1 << 16))
        except httpx.HTTPError as e:
            raise StorageError(f"GET {url}: {e}") from None

    def close(self) -> None:
        self._client.close()


class _FileFetcher:
    def __init__(self, root: str) -> None:
        self._root = root

    @contextmanager
    def fetch(self, name: str) -> Iterator[_Reader | None]:
        path = os.path.join(self._root, _check_relative(name))
        try:
            file = open(path, "rb")  # noqa: SIM115 - closed below, after the caller is done
        except FileNotFoundError:
            yield None
            return
        except OSError as e:
            raise StorageError(f"unable to read {path}: {e}") from None
        with file:
            yield file

    def close(self) -> None:
        pass


def _raw_query_value(text: str, key: str) -> str | None:
    """A query parameter with only %-escapes decoded: a ``+`` in base64 keys stays a ``+``."""
    _, _, query = text.partition("?")
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if unquote(name) == key:
            return unquote(value)
    return None


class NixHttpPathInfoService(PathInfoService):
    """PathInfos substituted from a Nix binary cache into castore on first use."""

    def __init__(
        self,
        fetcher: _Fetcher,
        source: str,
        blob_service: BlobService,
        directory_service: DirectoryService,
        public_keys: list[PublicKey] | None = None,
    ) -> None:
        self._fetcher = fetcher
        self._source = source
        self.blob_service = blob_service
        self.directory_service = directory_service
        self.public_keys = public_keys
        self._cache: OrderedDict[bytes, PathInfo] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_url(
        cls, url: ServiceUrl, blob_service: BlobService, directory_service: DirectoryService
    ) -> Self:
        """``nix+http(s)://host[:port]/path[?trusted-public-keys=…]`` or ``nix+file:///dir``."""
        require_no_query(url, frozenset({"trusted-public-keys"}))
        keys_text = _raw_query_value(url.text, "trusted-public-keys")
        try:
            keys = None if keys_text is None else [PublicKey.parse(k) for k in keys_text.split()]
        except NixCompatError as e:
            raise InvalidUrlError(f"invalid url {url.text!r}: {e}") from None
        fetcher: _Fetcher
        if url.scheme == "nix+file":
            if url.has_host or not url.path.startswith("/"):
                raise InvalidUrlError(f"invalid url {url.text!r}: expected nix+file:///abs/dir")
            fetcher = _FileFetcher(url.path)
        elif url.scheme in {"nix+http", "nix+https"}:
            if not url.has_host:
                raise InvalidUrlError(f"invalid url {url.text!r}: a host is required")
            base = url.text.split("?", 1)[0].removeprefix("nix+")
            fetcher = _HttpFetcher(base)
        else:
            raise InvalidUrlError(f"invalid url {url.text!r}: unsupported scheme {url.scheme}")
        return cls(fetcher, url.text.split("?", 1)[0], blob_service, directory_service, keys)

    def get(self, digest: bytes) -> PathInfo | None:
        digest = check_output_digest(digest)
        with self._lock:
            cached = self._cache.get(digest)
            if cached is not None:
                self._cache.move_to_end(digest)
                return cached
        info = self._substitute(digest)
        if info is not None:
            with self._lock:
                self._cache[digest] = info
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return info

    def _narinfo(self, digest: bytes) -> NarInfo | None:
        name = f"{nixbase32.encode(digest)}.narinfo"
        with self._fetcher.fetch(name) as reader:
            if reader is None:
                return None
            text = _read_up_to(reader, MAX_NARINFO_SIZE)
        where = f"{self._source}/{name}"
        if len(text) >= MAX_NARINFO_SIZE:
            raise StorageError(f"{where} is larger than {MAX_NARINFO_SIZE} bytes")
        try:
            narinfo = parse_narinfo(text)
        except NixCompatError as e:
            raise StorageError(f"invalid narinfo {where}: {e}") from None
        if narinfo.store_path.digest != digest:
            raise StorageError(f"{where} describes another path, {narinfo.store_path}")
        if narinfo.nar_hash.algo is not HashAlgo.SHA256:
            raise StorageError(f"{where}: NarHash is not sha256")
        if self.public_keys is not None:
            try:
                valid = narinfo.verify(self.public_keys)
            except NixCompatError as e:
                raise StorageError(f"{where}: {e}") from None
            if not valid:
                raise StorageError(
                    f"{narinfo.store_path.to_absolute_path()} from {self._source} lacks a valid "
                    "signature by a trusted key"
                )
        return narinfo

    def _substitute(self, digest: bytes) -> PathInfo | None:
        narinfo = self._narinfo(digest)
        if narinfo is None:
            return None
        path = narinfo.store_path
        try:
            compression = Compression.from_name(narinfo.compression)
        except CompressionError as e:
            raise StorageError(f"{path}: {e}") from None
        with self._fetcher.fetch(narinfo.url) as reader:
            if reader is None:
                raise StorageError(f"NAR at {narinfo.url} of {path} does not exist")
            try:
                result = ingest_nar(
                    DecompressingReader(reader, compression),
                    self.blob_service,
                    self.directory_service,
                    str(path).encode(),
                    expected_sha256=narinfo.nar_hash.digest,
                    expected_size=narinfo.nar_size,
                )
            except (NarIngestError, CompressionError) as e:
                raise StorageError(f"NAR of {path} from {self._source}: {e}") from None
        try:
            signatures = [Signature.parse(sig) for sig in narinfo.signatures]
        except NixCompatError as e:
            raise StorageError(f"{path}: {e}") from None
        return build_path_info(
            rename_node(result.root, str(path).encode()),
            result.nar_size,
            result.nar_sha256,
            references=narinfo.references,
            signatures=signatures,
            deriver=narinfo.deriver,
            ca=narinfo.ca,
        )

    def put(self, info: PathInfo) -> PathInfo:
        raise InvalidRequestError(f"{self._source} is a read-only binary cache")

    def calculate_nar(self, root: ChildNode) -> tuple[int, bytes]:
        return calculate_size_and_sha256(root, self.blob_service, self.directory_service)

    def list(self) -> Iterator[PathInfo]:
        raise InvalidRequestError(f"{self._source}: a binary cache cannot be listed")

    def close(self) -> None:
        self._fetcher.close()
