"""Uploads from ``nix copy --to``: a NAR into castore, then its narinfo into the PathInfoService.

Both steps check everything they can before anything is registered: the NAR
must decompress and parse, end where the archive ends and hash to the name it
was uploaded under; the narinfo must name its own URL, a NAR uploaded here,
with that NAR's size and sha256, and (for content-addressed paths) a store
path that matches its content address. Every refusal is an
:class:`~tvix_store.http.body.UploadError` with a 4xx status and a message.
"""

from __future__ import annotations

from nix_compat import nixbase32
from nix_compat.errors import NixCompatError
from nix_compat.narinfo import NarInfo, NarInfoError, parse_narinfo
from nix_compat.nixhash import HashAlgo, NarHash
from nix_compat.signing import Signature
from nix_compat.store_path import StorePath
from nix_compat.store_path.build import build_ca_path
from tvix_castore.blobservice.base import BlobService
from tvix_castore.directory import rename_node
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import InvalidRequestError

from tvix_store.errors import NarIngestError
from tvix_store.http.body import BodyReader, UploadError
from tvix_store.http.compression import Compression, CompressionError, DecompressingReader
from tvix_store.http.names import NarName
from tvix_store.http.pending import PendingUpload, PendingUploads
from tvix_store.nar import ingest_nar
from tvix_store.pathinfo import PathInfo, build_path_info
from tvix_store.pathinfoservice.base import PathInfoService

__all__ = ["receive_nar", "register_narinfo"]


class _LimitedReader:
    """Refuses to hand out more than ``limit`` decompressed bytes (413)."""

    def __init__(self, reader: DecompressingReader, limit: int) -> None:
        self._reader = reader
        self._limit = limit
        self._count = 0

    def read(self, size: int, /) -> bytes:
        data = self._reader.read(size)
        self._count += len(data)
        if self._count > self._limit:
            raise UploadError(413, f"the NAR exceeds the upload limit of {self._limit} bytes")
        return data


def receive_nar(
    body: BodyReader,
    name: NarName,
    blob_service: BlobService,
    directory_service: DirectoryService,
    limit: int,
) -> PendingUpload:
    """Ingest an uploaded (compressed) NAR into castore; runs on a worker thread."""
    reader = DecompressingReader(body, name.compression)
    try:
        result = ingest_nar(_LimitedReader(reader, limit), blob_service, directory_service)
        if reader.read(1):
            raise UploadError(400, "unexpected data after the end of the NAR")
    except NarIngestError as e:
        raise UploadError(400, str(e)) from None
    except CompressionError as e:
        raise UploadError(400, str(e)) from None
    if not body.at_end():
        raise UploadError(
            400, f"unexpected data after the end of the {name.compression.value} stream"
        )
    file_sha256 = body.hasher.digest()
    if file_sha256 != name.sha256:
        named, got = nixbase32.encode(name.sha256), nixbase32.encode(file_sha256)
        raise UploadError(
            400,
            f"received bytes don't match the hash in the URL: the URL names sha256:{named}, "
            f"the upload has sha256:{got}",
        )
    return PendingUpload(
        root=result.root,
        nar_size=result.nar_size,
        nar_sha256=result.nar_sha256,
        file_size=body.size,
        file_sha256=file_sha256,
        compression=name.compression,
    )


def _check_against_upload(narinfo: NarInfo, upload: PendingUpload) -> None:
    try:
        compression = Compression.from_name(narinfo.compression)
    except CompressionError as e:
        raise UploadError(400, str(e)) from None
    if compression is not upload.compression:
        raise UploadError(
            400,
            f"Compression is {compression.value}, but {narinfo.url} was uploaded as "
            f"{upload.compression.value}",
        )
    if narinfo.nar_hash.algo is not HashAlgo.SHA256:
        raise UploadError(400, f"NarHash must be sha256, not {narinfo.nar_hash.algo}")
    if narinfo.nar_hash.digest != upload.nar_sha256:
        raise UploadError(
            400,
            f"NarHash mismatch: the narinfo says {narinfo.nar_hash.to_nix_string()}, the "
            f"uploaded NAR has sha256:{nixbase32.encode(upload.nar_sha256)}",
        )
    if narinfo.nar_size != upload.nar_size:
        raise UploadError(
            400,
            f"NarSize mismatch: the narinfo says {narinfo.nar_size}, the uploaded NAR has "
            f"{upload.nar_size} bytes",
        )
    if narinfo.file_hash is not None and (
        narinfo.file_hash.algo is not HashAlgo.SHA256
        or narinfo.file_hash.digest != upload.file_sha256
    ):
        raise UploadError(
            400,
            f"FileHash mismatch: the narinfo says {narinfo.file_hash.to_nix_string()}, the "
            f"uploaded file has sha256:{nixbase32.encode(upload.file_sha256)}",
        )
    if narinfo.file_size is not None and narinfo.file_size != upload.file_size:
        raise UploadError(
            400,
            f"FileSize mismatch: the narinfo says {narinfo.file_size}, the uploaded file has "
            f"{upload.file_size} bytes",
        )


def _check_content_address(narinfo: NarInfo) -> None:
    """A content-addressed path's name must follow from its CA (and its NAR, if recursive)."""
    ca = narinfo.ca
    if ca is None:
        return
    path = narinfo.store_path
    if isinstance(ca, NarHash) and ca.hash.algo is HashAlgo.SHA256 and ca.hash != narinfo.nar_hash:
        raise UploadError(
            400,
            f"CA {ca.to_nix_string()} does not match NarHash {narinfo.nar_hash.to_nix_string()}",
        )
    others = [ref for ref in narinfo.references if ref != path]
    try:
        expected = build_ca_path(path.name, ca, others, len(others) != len(narinfo.references))
    except NixCompatError as e:
        raise UploadError(400, f"invalid CA for {path}: {e}") from None
    if expected != path:
        raise UploadError(
            400,
            f"store path {path} does not match its content address {ca.to_nix_string()} "
            f"(expected {expected})",
        )


def register_narinfo(
    text: bytes,
    out_digest: bytes,
    pending: PendingUploads,
    path_infos: PathInfoService,
) -> tuple[PathInfo, NarInfo]:
    """Check an uploaded narinfo against its NAR upload; store and return the PathInfo."""
    try:
        narinfo = parse_narinfo(text)
    except NarInfoError as e:
        raise UploadError(400, f"unable to parse narinfo: {e}") from None
    path: StorePath = narinfo.store_path
    if path.digest != out_digest:
        raise UploadError(
            400,
            f"narinfo of {path.to_absolute_path()} uploaded as "
            f"{nixbase32.encode(out_digest)}.narinfo",
        )
    upload = pending.get(narinfo.url)
    if upload is None:
        raise UploadError(400, f"unable to find referred NAR: {narinfo.url} was not uploaded")
    _check_against_upload(narinfo, upload)
    _check_content_address(narinfo)
    try:
        signatures = [Signature.parse(sig) for sig in narinfo.signatures]
    except NixCompatError as e:
        raise UploadError(400, f"invalid Sig: {e}") from None
    info = build_path_info(
        rename_node(upload.root, str(path).encode()),
        upload.nar_size,
        upload.nar_sha256,
        references=narinfo.references,
        signatures=signatures,
        deriver=narinfo.deriver,
        ca=narinfo.ca,
    )
    try:
        return path_infos.put(info), narinfo
    except InvalidRequestError as e:
        raise UploadError(400, f"invalid PathInfo: {e}") from None
