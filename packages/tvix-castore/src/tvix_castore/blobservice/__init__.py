"""BlobService: the interface and its backends (memory, lmdb, gRPC)."""

from tvix_castore.blobservice.base import CHUNK_SIZE, BlobReader, BlobService, BlobStat, BlobWriter

__all__ = ["CHUNK_SIZE", "BlobReader", "BlobService", "BlobStat", "BlobWriter"]
