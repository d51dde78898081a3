"""NAR in and out of castore: rendering a tree as a NAR stream, ingesting a NAR stream."""

from tvix_store.nar.ingest import IngestResult, ingest_nar
from tvix_store.nar.render import calculate_size_and_sha256, iter_nar, write_nar

__all__ = ["IngestResult", "calculate_size_and_sha256", "ingest_nar", "iter_nar", "write_nar"]
