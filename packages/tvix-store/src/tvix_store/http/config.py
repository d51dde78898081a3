"""What a binary cache server is told: priority, compression, signing, limits, timeouts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tvix_store.http.compression import Compression

if TYPE_CHECKING:
    from nix_compat.signing import SecretKey

__all__ = ["CacheConfig"]


@dataclass(frozen=True)
class CacheConfig:
    """Settings of :func:`tvix_store.http.create_app`.

    ``compression`` is what served narinfos announce (the NAR is compressed on
    the fly). ``max_upload_size`` bounds both the bytes of one upload and the
    size of the NAR it decompresses to. An upload that sends nothing for
    ``upload_idle_timeout`` seconds, or takes longer than ``upload_timeout``
    in all, is answered 408 and discarded. ``upload_index`` is the SQLite
    file remembering the names NARs were uploaded under (None: in memory).
    At most ``max_concurrent_uploads`` NARs are ingested at once (each holds
    a worker thread); more wait their turn. A compressed NAR is sent with
    its exact ``Content-Length``, learnt by compressing it once before the
    first answer; the sizes and hashes of ``compressed_size_entries`` NARs
    (about 100 bytes each) are remembered, in memory. Uploads are held
    ``pending_upload_ttl`` seconds (at most ``max_pending_uploads`` of them)
    waiting for the narinfo that registers them.
    """

    priority: int = 30
    compression: Compression = Compression.NONE
    sign_key: SecretKey | None = None
    read_only: bool = False
    max_upload_size: int = 4 << 30
    upload_idle_timeout: float = 30.0
    upload_timeout: float = 3600.0
    pending_upload_ttl: float = 3600.0
    max_pending_uploads: int = 10_000
    store_dir: str = "/nix/store"
    upload_index: str | None = None
    max_concurrent_uploads: int = 8
    compressed_size_entries: int = 100_000
