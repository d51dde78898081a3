"""Adding filesystem paths and NAR streams as store paths.

:func:`import_path` does what ``nix-store --add`` does: the path becomes a
"source" store path named after its basename, addressed by the sha256 of its
NAR serialisation (computed by the PathInfoService from the castore tree, as
the reference does). :func:`import_nar` registers a NAR stream under a known
store path, checking its hash. Either way the PathInfo is written last, in one
step: an import that fails or is interrupted registers nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from nix_compat.errors import NixCompatError
from nix_compat.nar.wire import BinaryReader
from nix_compat.nixhash import CAHash, HashAlgo, NarHash, NixHash
from nix_compat.signing import Signature
from nix_compat.store_path import StorePath, build_nar_based_store_path, validate_name
from tvix_castore.blobservice.base import BlobService
from tvix_castore.directory import rename_node
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import InvalidRequestError
from tvix_castore.importer import ImportProgress
from tvix_castore.importer import import_path as castore_import_path

from tvix_store.nar.ingest import ingest_nar
from tvix_store.pathinfo import PathInfo, build_path_info
from tvix_store.pathinfoservice.base import PathInfoService

__all__ = ["import_nar", "import_path", "store_path_name_for"]


def store_path_name_for(path: str | os.PathLike[str]) -> str:
    """The store path name ``nix-store --add`` gives ``path``: its basename, validated."""
    name = os.path.basename(os.path.abspath(os.fspath(path)))
    try:
        return validate_name(name)
    except NixCompatError as e:
        raise InvalidRequestError(f"cannot add {os.fspath(path)!r} to the store: {e}") from None


def import_path(
    path: str | os.PathLike[str],
    blob_service: BlobService,
    directory_service: DirectoryService,
    path_info_service: PathInfoService,
    *,
    progress: ImportProgress | None = None,
) -> tuple[StorePath, PathInfo]:
    """Add the file, symlink or directory at ``path`` as a source store path."""
    name = store_path_name_for(path)
    root = castore_import_path(path, blob_service, directory_service, progress=progress)
    nar_size, nar_sha256 = path_info_service.calculate_nar(root)
    store_path = build_nar_based_store_path(nar_sha256, name)
    info = build_path_info(
        rename_node(root, str(store_path).encode()),
        nar_size,
        nar_sha256,
        ca=NarHash(NixHash(HashAlgo.SHA256, nar_sha256)),
    )
    return store_path, path_info_service.put(info)


def import_nar(
    stream: BinaryReader,
    store_path: StorePath,
    blob_service: BlobService,
    directory_service: DirectoryService,
    path_info_service: PathInfoService,
    *,
    nar_sha256: bytes | None = None,
    nar_size: int | None = None,
    references: Iterable[StorePath] = (),
    signatures: Iterable[Signature] = (),
    deriver: StorePath | None = None,
    ca: CAHash | None = None,
) -> PathInfo:
    """Ingest a NAR stream as ``store_path``; a given hash or size must match the content."""
    result = ingest_nar(
        stream,
        blob_service,
        directory_service,
        str(store_path).encode(),
        expected_sha256=nar_sha256,
        expected_size=nar_size,
    )
    info = build_path_info(
        result.root,
        result.nar_size,
        result.nar_sha256,
        references=references,
        signatures=signatures,
        deriver=deriver,
        ca=ca,
    )
    return path_info_service.put(info)
