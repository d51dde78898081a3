"""PathInfo → the narinfo text a Nix client reads, with an optional signature of this cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nix_compat.narinfo import NarInfo
from nix_compat.nixhash import HashAlgo, NixHash

from tvix_store.http.compression import Compression
from tvix_store.http.names import nar_file_name
from tvix_store.pathinfo import summarize

if TYPE_CHECKING:
    from nix_compat.signing import SecretKey

    from tvix_store.http.compressed_files import CompressedFile
    from tvix_store.pathinfo import PathInfo

__all__ = ["MissingNarInfoError", "narinfo_for"]


class MissingNarInfoError(ValueError):
    """A PathInfo lacks the NAR size or sha256 a narinfo needs."""


def narinfo_for(
    info: PathInfo,
    compression: Compression,
    sign_key: SecretKey | None = None,
    compressed: CompressedFile | None = None,
) -> NarInfo:
    """The narinfo of a stored path: every field Nix uses, signatures sorted as Nix writes them.

    Without compression FileHash/FileSize equal NarHash/NarSize. Compressed
    NARs are produced on request, so their size and hash are known only once
    the NAR has been compressed (``compressed``, as the cache remembers it);
    until then both are left out, which Nix allows (they are optional, and
    not part of what signatures cover).
    """
    summary = summarize(info)
    if summary.nar_hash is None or not summary.nar_size:
        raise MissingNarInfoError(f"{summary.store_path} has no NAR size or sha256")
    nar_hash: NixHash = summary.nar_hash
    uncompressed = compression is Compression.NONE
    file_hash = None if compressed is None else NixHash(HashAlgo.SHA256, compressed.sha256)
    file_size = None if compressed is None else compressed.size
    signatures = {sig.to_nix_string() for sig in summary.signatures}
    narinfo = NarInfo(
        store_path=summary.store_path,
        url=nar_file_name(summary.store_path.digest, nar_hash.digest, compression),
        nar_hash=nar_hash,
        nar_size=summary.nar_size,
        references=tuple(sorted(summary.references)),
        compression=compression.value,
        file_hash=nar_hash if uncompressed else file_hash,
        file_size=summary.nar_size if uncompressed else file_size,
        deriver=summary.deriver,
        signatures=tuple(sorted(signatures)),
        ca=summary.ca,
    )
    if sign_key is not None:
        narinfo = narinfo.sign(sign_key)
    return narinfo
