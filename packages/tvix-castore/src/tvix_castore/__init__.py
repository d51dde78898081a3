"""A content-addressed store of blobs and directories (a blake3 Merkle DAG).

Backends: memory, lmdb and gRPC.

Blobs are byte strings stored by their blake3 digest; directories are
``Directory`` protobuf messages stored by the blake3 digest of their canonical
encoding, referring to blobs and to other directories. Services are opened by
URL::

    from tvix_castore import blob_service_from_url, directory_service_from_url, import_path

    blobs = blob_service_from_url("lmdb:///var/lib/castore")
    directories = directory_service_from_url("lmdb:///var/lib/castore")
    root = import_path("/some/tree", blobs, directories)

Importing this package does not load grpc or lmdb; the backends do when used.
The gRPC server pieces (``start_daemon``, ``build_server``, the servicers)
are importable from here too and load grpc on first access.
"""

from typing import Any

from tvix_castore.blobservice.base import CHUNK_SIZE, BlobReader, BlobService, BlobStat, BlobWriter
from tvix_castore.digests import B3_LEN, EMPTY_BLOB_DIGEST, B3Digest
from tvix_castore.directory import (
    ChildNode,
    Directory,
    DirectoryNode,
    FileNode,
    Node,
    SymlinkNode,
    decode_directory,
    directory_digest,
    directory_size,
    encode_directory,
    find_child,
    iter_nodes,
    node_from_proto,
    node_kind,
    node_to_proto,
    rename_node,
    validate_directory,
    validate_node,
    validate_node_name,
)
from tvix_castore.directoryservice.base import DirectoryPutter, DirectoryService
from tvix_castore.directoryservice.traverse import descend_to, traverse_breadth_first, walk
from tvix_castore.errors import (
    CastoreError,
    DirectoryValidationError,
    DuplicateNameError,
    IngestError,
    InvalidDigestLengthError,
    InvalidNameError,
    InvalidRequestError,
    InvalidSymlinkTargetError,
    InvalidUrlError,
    NotFoundError,
    StorageError,
    WrongSortingError,
)
from tvix_castore.importer import ImportProgress, import_path
from tvix_castore.registry import (
    ServiceUrl,
    blob_service_from_url,
    directory_service_from_url,
    parse_service_url,
)

__all__ = [
    "B3_LEN",
    "CHUNK_SIZE",
    "EMPTY_BLOB_DIGEST",
    "B3Digest",
    "BlobReader",
    "BlobService",
    "BlobStat",
    "BlobWriter",
    "CastoreError",
    "ChildNode",
    "Directory",
    "DirectoryNode",
    "DirectoryPutter",
    "DirectoryService",
    "DirectoryValidationError",
    "DuplicateNameError",
    "FileNode",
    "ImportProgress",
    "IngestError",
    "InvalidDigestLengthError",
    "InvalidNameError",
    "InvalidRequestError",
    "InvalidSymlinkTargetError",
    "InvalidUrlError",
    "Node",
    "NotFoundError",
    "ServiceUrl",
    "StorageError",
    "SymlinkNode",
    "WrongSortingError",
    "blob_service_from_url",
    "decode_directory",
    "descend_to",
    "directory_digest",
    "directory_service_from_url",
    "directory_size",
    "encode_directory",
    "find_child",
    "import_path",
    "iter_nodes",
    "node_from_proto",
    "node_kind",
    "node_to_proto",
    "parse_service_url",
    "rename_node",
    "traverse_breadth_first",
    "validate_directory",
    "validate_node",
    "validate_node_name",
    "walk",
]

_SERVER_NAMES = {
    "BlobServiceServicer",
    "Daemon",
    "DirectoryServiceServicer",
    "add_blob_service_to_server",
    "build_server",
    "parse_listen_address",
    "start_daemon",
}


def __getattr__(name: str) -> Any:
    """Load the gRPC server pieces lazily, so that importing the package stays light."""
    if name in _SERVER_NAMES:
        from tvix_castore import server

        return getattr(server, name)
    raise AttributeError(f"module 'tvix_castore' has no attribute {name!r}")
