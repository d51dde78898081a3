"""The binary cache as an ASGI application (Starlette), over tvix-store's three services.

Routes: ``/nix-cache-info``; ``/<hash>.narinfo`` (GET, HEAD, PUT);
``/nar/<name>`` (GET, HEAD, PUT). Lookups and ingest run on worker threads
(the services block); NARs are rendered from castore per request. Every
refusal is a plain-text ``error: …`` line with a 4xx status; store failures
are 500.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from tvix_castore.blobservice.base import BlobService
from tvix_castore.directory import ChildNode
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import CastoreError, InvalidRequestError, NotFoundError

from tvix_store.http.body import BodyReader, UploadError
from tvix_store.http.compressed_files import CompressedFile, CompressedFiles
from tvix_store.http.compression import Compression
from tvix_store.http.config import CacheConfig
from tvix_store.http.names import BadNameError, NarName, parse_nar_name, parse_narinfo_name
from tvix_store.http.nar_stream import (
    CompressedStreamMismatchError,
    RangeNotSatisfiableError,
    checked_chunks,
    compressed_chunks,
    measure_compressed,
    parse_range,
    sliced,
)
from tvix_store.http.narinfo_render import MissingNarInfoError, narinfo_for
from tvix_store.http.pending import PendingUploads
from tvix_store.http.upload_index import UploadIndex
from tvix_store.http.uploads import receive_nar, register_narinfo
from tvix_store.pathinfo import NARInfo, PathInfo, path_info_root_node, summarize
from tvix_store.pathinfoservice.base import PathInfoService

__all__ = ["create_app"]

log = logging.getLogger("tvix_store.http")

NARINFO_TYPE = "text/x-nix-narinfo"
NAR_TYPE = "application/x-nix-nar"
CACHE_INFO_TYPE = "text/x-nix-cache-info"
MAX_NARINFO_SIZE = 1 << 20
MAX_HEAD_SIZE = 64 << 10
"""The largest request head (all header lines) accepted."""
_NARINFO_UPLOAD_TYPES = frozenset({NARINFO_TYPE, "text/plain", "application/octet-stream"})
_NAR_UPLOAD_TYPES = frozenset({NAR_TYPE, "application/octet-stream"})


def _error(status: int, message: str, close: bool = False) -> Response:
    """A plain-text error; ``close`` ends the connection (the request body may be unread)."""
    headers = {"connection": "close"} if close else None
    return Response(
        f"error: {message}\n", status, headers=headers, media_type="text/plain; charset=utf-8"
    )


def _head_of(response: Response) -> Response:
    """The same response without a body, for HEAD (with the Content-Length of the GET)."""
    return Response(b"", response.status_code, headers=dict(response.headers))


def _check_content_type(request: Request, allowed: frozenset[str]) -> None:
    content_type = request.headers.get("content-type")
    if content_type is None:
        return
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime not in allowed:
        raise UploadError(
            415, f"unsupported Content-Type {mime!r} (expected one of {', '.join(sorted(allowed))})"
        )


def _check_declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise UploadError(413, f"upload of {declared} bytes exceeds the limit of {limit} bytes")


@dataclass(frozen=True)
class _FoundNar:
    """The stored tree a NAR request names, and the size and sha256 of its NAR."""

    root: ChildNode
    nar_size: int
    nar_sha256: bytes


@dataclass
class _Cache:
    """The state the handlers share.

    NARs are found by the names this cache serves (which carry the store path
    digest), by the names of uploads awaiting their narinfo, and by the names
    registered uploads were made under (which clients remember). The sizes
    and hashes of compressed NARs are remembered once learnt (``compressed``).
    """

    blobs: BlobService
    directories: DirectoryService
    path_infos: PathInfoService
    config: CacheConfig
    pending: PendingUploads
    uploaded: UploadIndex
    compressed: CompressedFiles
    _upload_limiter: anyio.CapacityLimiter | None = None

    @property
    def upload_limiter(self) -> anyio.CapacityLimiter:
        """Bounds the worker threads uploads hold, so slow uploads cannot starve downloads."""
        if self._upload_limiter is None:
            self._upload_limiter = anyio.CapacityLimiter(self.config.max_concurrent_uploads)
        return self._upload_limiter

    def _complete(self, info: PathInfo) -> PathInfo:
        """Add NAR size and sha256 to a PathInfo stored without them (computed by rendering)."""
        if info.HasField("narinfo") and info.narinfo.nar_size and info.narinfo.nar_sha256:
            return info
        if len(info.references):
            raise MissingNarInfoError("the PathInfo has references but no reference names")
        size, sha256 = self.path_infos.calculate_nar(path_info_root_node(info))
        completed = PathInfo()
        completed.CopyFrom(info)
        completed.narinfo.CopyFrom(NARInfo(nar_size=size, nar_sha256=sha256))
        return completed

    def lookup(self, digest: bytes) -> PathInfo | None:
        """The (completed) PathInfo of a store path digest, or None; runs on a worker thread."""
        info = self.path_infos.get(digest)
        return None if info is None else self._complete(info)

    async def cache_info(self, request: Request) -> Response:
        body = (
            f"StoreDir: {self.config.store_dir}\nWantMassQuery: 1\n"
            f"Priority: {self.config.priority}\n"
        )
        response = Response(body, headers={"content-type": CACHE_INFO_TYPE})
        return _head_of(response) if request.method == "HEAD" else response

    async def narinfo(self, request: Request) -> Response:
        if not request.path_params["name"].endswith(".narinfo"):
            return await _not_found(request)
        digest = parse_narinfo_name(request.path_params["name"])
        if request.method == "PUT":
            return await self._put_narinfo(request, digest)
        info = await anyio.to_thread.run_sync(self.lookup, digest)
        if info is None:
            return _error(404, f"{request.path_params['name']} not found")
        compression = self.config.compression
        file = None
        if compression is not Compression.NONE:
            file = self.compressed.peek(bytes(info.narinfo.nar_sha256), compression)
        text = narinfo_for(info, compression, self.config.sign_key, file).render()
        response = Response(text, headers={"content-type": NARINFO_TYPE})
        return _head_of(response) if request.method == "HEAD" else response

    async def _put_narinfo(self, request: Request, digest: bytes) -> Response:
        self._check_writable()
        _check_content_type(request, _NARINFO_UPLOAD_TYPES)
        _check_declared_length(request, MAX_NARINFO_SIZE)
        body = BodyReader(
            request.receive,
            limit=MAX_NARINFO_SIZE,
            idle_timeout=self.config.upload_idle_timeout,
            total_timeout=self.config.upload_timeout,
        )
        text = await body.read_all()
        info, narinfo = await anyio.to_thread.run_sync(
            register_narinfo, text, digest, self.pending, self.path_infos
        )
        await anyio.to_thread.run_sync(self.uploaded.put, narinfo.url, digest)
        log.info("registered %s", summarize(info).store_path.to_absolute_path())
        return Response(b"", 200)

    def _check_writable(self) -> None:
        if self.config.read_only:
            raise UploadError(403, "this binary cache is read-only")

    def _find_nar(self, name: NarName, file_name: str) -> _FoundNar | None:
        """The root, NAR size and NAR sha256 of the NAR a name stands for (on a worker thread)."""
        if name.out_digest is None:
            upload = self.pending.get(file_name)
            if upload is not None:
                return _FoundNar(upload.root, upload.nar_size, upload.nar_sha256)
            digest = self.uploaded.get(file_name)
            info = None if digest is None else self.lookup(digest)
        else:
            info = self.lookup(name.out_digest)
            if info is not None and bytes(info.narinfo.nar_sha256) != name.sha256:
                info = None
        if info is None:
            return None
        return _FoundNar(
            path_info_root_node(info), int(info.narinfo.nar_size), bytes(info.narinfo.nar_sha256)
        )

    def compressed_file(self, found: _FoundNar, compression: Compression) -> CompressedFile:
        """The size and sha256 of a NAR compressed this way: remembered, or learnt by
        compressing it once (on a worker thread)."""
        return self.compressed.get(
            found.nar_sha256,
            compression,
            lambda: measure_compressed(found.root, self.blobs, self.directories, compression),
        )

    async def nar(self, request: Request) -> Response:
        file_name = "nar/" + request.path_params["name"]
        name = parse_nar_name(request.path_params["name"])
        if request.method == "PUT":
            return await self._put_nar(request, name, file_name)
        found = await anyio.to_thread.run_sync(self._find_nar, name, file_name)
        if found is None:
            return _error(404, f"{file_name} not found")
        compression = name.compression
        expected: CompressedFile | None = None
        if compression is Compression.NONE:
            size = found.nar_size
        else:
            expected = await anyio.to_thread.run_sync(self.compressed_file, found, compression)
            size = expected.size
        headers = {"content-type": NAR_TYPE, "accept-ranges": "bytes"}
        try:
            byte_range = parse_range(request.headers.get("range"), size)
        except RangeNotSatisfiableError:
            return Response(b"", 416, headers={"content-range": f"bytes */{size}", **headers})
        status = 200
        if byte_range is not None:
            status = 206
            headers["content-range"] = byte_range.content_range()
            headers["content-length"] = str(byte_range.length)
        else:
            headers["content-length"] = str(size)
        if request.method == "HEAD":
            return _head_of(Response(b"", status, headers=headers))
        chunks = compressed_chunks(found.root, self.blobs, self.directories, compression)
        if expected is not None:

            def mismatch(message: str) -> None:
                log.error("%s: %s; forgetting its size", file_name, message)
                self.compressed.forget(found.nar_sha256, compression)

            chunks = checked_chunks(chunks, expected, mismatch)
        body = sliced(chunks, byte_range)
        # Render the first chunk before answering, so a broken tree is a clean 500.
        first = await anyio.to_thread.run_sync(next, body, b"")
        return StreamingResponse(_prepend(first, body), status, headers=headers)

    async def _put_nar(self, request: Request, name: NarName, file_name: str) -> Response:
        self._check_writable()
        if name.out_digest is not None:
            raise UploadError(
                400, "NAR uploads are named nar/<nix32 sha256 of the file>.nar[.xz|.bz2|.zst]"
            )
        _check_content_type(request, _NAR_UPLOAD_TYPES)
        limit = self.config.max_upload_size
        _check_declared_length(request, limit)

        def receive() -> None:
            body = BodyReader(
                request.receive,
                limit=limit,
                idle_timeout=self.config.upload_idle_timeout,
                total_timeout=self.config.upload_timeout,
            )
            upload = receive_nar(body, name, self.blobs, self.directories, limit)
            self.pending.add(file_name, upload)

        await anyio.to_thread.run_sync(receive, limiter=self.upload_limiter)
        log.info("received %s", file_name)
        return Response(b"", 200)


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


Handler = Callable[[Request], Awaitable[Response]]


def _guarded(handler: Handler) -> Handler:
    """Turn the errors a request can cause into plain-text answers."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except UploadError as e:
            log.warning("%s %s: %s", request.method, request.url.path, e.message)
            return _error(e.status, e.message, close=True)
        except BadNameError as e:
            return _error(400, str(e))
        except MissingNarInfoError as e:
            return _error(404, str(e))
        except InvalidRequestError as e:
            return _error(400, str(e))
        except NotFoundError as e:
            return _error(404, str(e))
        except CastoreError as e:
            log.error("%s %s: %s", request.method, request.url.path, e)
            return _error(500, str(e))
        except CompressedStreamMismatchError as e:
            return _error(500, str(e))

    return run


async def _root(request: Request) -> Response:
    return Response("tvix-store binary cache\n", media_type="text/plain; charset=utf-8")


async def _not_found(request: Request) -> Response:
    path = request.url.path
    if any(part in {"..", "."} for part in path.split("/")):
        return _error(400, f"invalid path {path!r}")
    return _error(404, f"{path} not found")


class HeadSizeLimit:
    """ASGI middleware answering 431 to requests whose headers exceed ``limit`` bytes.

    h11 bounds a request head only while it is incomplete; one that arrives in
    a single piece is checked here.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_HEAD_SIZE) -> None:
        self._app = app
        self._limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = sum(len(k) + len(v) + 4 for k, v in scope["headers"])
            if size > self._limit:
                response = _error(431, f"request headers exceed {self._limit} bytes", close=True)
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)


def _services_from_environment() -> tuple[BlobService, DirectoryService, PathInfoService]:
    """The services ``BLOB_SERVICE_ADDR`` etc. name (default: the embedded lmdb store)."""
    from tvix_castore.registry import blob_service_from_url, directory_service_from_url

    from tvix_store.cli.common import default_store_url
    from tvix_store.pathinfoservice.registry import path_info_service_from_url

    default = default_store_url()
    blobs = blob_service_from_url(os.environ.get("BLOB_SERVICE_ADDR") or default)
    directories = directory_service_from_url(os.environ.get("DIRECTORY_SERVICE_ADDR") or default)
    path_infos = path_info_service_from_url(
        os.environ.get("PATH_INFO_SERVICE_ADDR") or default, blobs, directories
    )
    return blobs, directories, path_infos


def create_app(
    blob_service: BlobService | None = None,
    directory_service: DirectoryService | None = None,
    path_info_service: PathInfoService | None = None,
    config: CacheConfig | None = None,
) -> Starlette:
    """The binary cache over these services (which the caller opens and closes).

    Without services (as ``uvicorn --factory tvix_store.http:create_app`` calls
    it) the app opens the ones the environment names and closes them on shutdown.
    """
    owned: tuple[BlobService, DirectoryService, PathInfoService] | None = None
    if blob_service is None or directory_service is None or path_info_service is None:
        owned = _services_from_environment()
        blob_service, directory_service, path_info_service = owned
    cfg = config or CacheConfig()
    cache = _Cache(
        blob_service,
        directory_service,
        path_info_service,
        cfg,
        PendingUploads(cfg.max_pending_uploads, cfg.pending_upload_ttl),
        UploadIndex(cfg.upload_index),
        CompressedFiles(cfg.compressed_size_entries),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        cache.uploaded.close()
        for service in reversed(owned or ()):
            service.close()

    methods = ["GET", "HEAD", "PUT"]
    routes = [
        Route("/", _root, methods=["GET", "HEAD"]),
        Route("/nix-cache-info", _guarded(cache.cache_info), methods=["GET", "HEAD"]),
        Route("/nar/{name}", _guarded(cache.nar), methods=methods),
        Route("/{name:str}", _guarded(cache.narinfo), methods=methods),
        Route("/{path:path}", _not_found, methods=[*methods, "POST", "DELETE"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(HeadSizeLimit)])
