"""Test vectors shared by the tvix-store tests (ported from the reference's fixtures).

The castore ones (blobs, directories) are :mod:`tvix_castore.fixtures`, re-exported.
"""

from __future__ import annotations

from tvix_castore.directory import DirectoryNode, node_to_proto
from tvix_castore.fixtures import (
    DIRECTORY_COMPLICATED,
    DIRECTORY_WITH_KEEP,
    DUMMY_DIGEST,
    EMPTY_BLOB_CONTENTS,
    EMPTY_BLOB_DIGEST,
    HELLOWORLD_BLOB_CONTENTS,
    HELLOWORLD_BLOB_DIGEST,
)
from tvix_store.pathinfo import NARInfo, PathInfo

__all__ = [
    "DIRECTORY_COMPLICATED",
    "DIRECTORY_WITH_KEEP",
    "DUMMY_DIGEST",
    "DUMMY_NAME",
    "DUMMY_OUTPUT_HASH",
    "EMPTY_BLOB_CONTENTS",
    "EMPTY_BLOB_DIGEST",
    "HELLOWORLD_BLOB_CONTENTS",
    "HELLOWORLD_BLOB_DIGEST",
    "NAR_CONTENTS_COMPLICATED",
    "NAR_CONTENTS_HELLOWORLD",
    "NAR_CONTENTS_HELLOWORLD_LITERAL",
    "NAR_CONTENTS_SYMLINK",
    "path_info_with_narinfo",
    "path_info_without_narinfo",
]

DUMMY_NAME = "00000000000000000000000000000000-dummy"
DUMMY_OUTPUT_HASH = bytes(20)


def _s(data: bytes) -> bytes:
    """One NAR string: u64 length, data, zero padding (written out for readability)."""
    return len(data).to_bytes(8, "little") + data + bytes(-len(data) % 8)


def _nar(*tokens: bytes) -> bytes:
    return b"".join(_s(t) for t in tokens)


NAR_CONTENTS_SYMLINK = _nar(
    b"nix-archive-1", b"(", b"type", b"symlink", b"target", b"/nix/store/somewhereelse", b")"
)
NAR_CONTENTS_HELLOWORLD = _nar(
    b"nix-archive-1", b"(", b"type", b"regular", b"contents", b"Hello World!", b")"
)
_KEEP_FILE = (b"(", b"type", b"regular", b"contents", b"", b")")
NAR_CONTENTS_COMPLICATED = _nar(
    b"nix-archive-1", b"(", b"type", b"directory",
    b"entry", b"(", b"name", b".keep", b"node", *_KEEP_FILE, b")",
    b"entry", b"(", b"name", b"aa", b"node",
    b"(", b"type", b"symlink", b"target", b"/nix/store/somewhereelse", b")", b")",
    b"entry", b"(", b"name", b"keep", b"node",
    b"(", b"type", b"directory",
    b"entry", b"(", b"name", b".keep", b"node", *_KEEP_FILE, b")",
    b")", b")",
    b")",
)  # fmt: skip

# The reference's vectors, byte for byte, to pin the helper above.
NAR_CONTENTS_HELLOWORLD_LITERAL = bytes(
    [13, 0, 0, 0, 0, 0, 0, 0, *b"nix-archive-1", 0, 0, 0,
     1, 0, 0, 0, 0, 0, 0, 0, *b"(", 0, 0, 0, 0, 0, 0, 0,
     4, 0, 0, 0, 0, 0, 0, 0, *b"type", 0, 0, 0, 0,
     7, 0, 0, 0, 0, 0, 0, 0, *b"regular", 0,
     8, 0, 0, 0, 0, 0, 0, 0, *b"contents",
     12, 0, 0, 0, 0, 0, 0, 0, *b"Hello World!", 0, 0, 0, 0,
     1, 0, 0, 0, 0, 0, 0, 0, *b")", 0, 0, 0, 0, 0, 0, 0]
)  # fmt: skip


def path_info_without_narinfo() -> PathInfo:
    """A PathInfo with a directory root and one reference, no narinfo."""
    return PathInfo(
        node=node_to_proto(DirectoryNode(name=DUMMY_NAME.encode(), digest=DUMMY_DIGEST, size=0)),
        references=[DUMMY_OUTPUT_HASH],
    )


def path_info_with_narinfo() -> PathInfo:
    """As :func:`path_info_without_narinfo`, with a narinfo whose reference names align."""
    info = path_info_without_narinfo()
    info.narinfo.CopyFrom(
        NARInfo(nar_size=0, nar_sha256=DUMMY_DIGEST, reference_names=[DUMMY_NAME])
    )
    return info
