"""Test vectors: blobs and directories with known digests (the reference's castore fixtures).

For the tests of castore and of the packages built on it (tvix-store's tests use
them too), the way the reference's ``tvix_castore::fixtures`` serves its store.
Importing it builds and hashes ``BLOB_B``, about 1 MB.
"""

from __future__ import annotations

import blake3

from tvix_castore.digests import B3Digest
from tvix_castore.directory import (
    Directory,
    DirectoryNode,
    FileNode,
    SymlinkNode,
    directory_digest,
    directory_size,
)

__all__ = [
    "BLOB_A",
    "BLOB_A_DIGEST",
    "BLOB_B",
    "BLOB_B_DIGEST",
    "DIRECTORY_A",
    "DIRECTORY_B",
    "DIRECTORY_C",
    "DIRECTORY_COMPLICATED",
    "DIRECTORY_WITH_KEEP",
    "DUMMY_DIGEST",
    "DUMMY_DIGEST_2",
    "EMPTY_BLOB_CONTENTS",
    "EMPTY_BLOB_DIGEST",
    "HELLOWORLD_BLOB_CONTENTS",
    "HELLOWORLD_BLOB_DIGEST",
]

HELLOWORLD_BLOB_CONTENTS = b"Hello World!"
EMPTY_BLOB_CONTENTS = b""
DUMMY_DIGEST = B3Digest(bytes(32))
DUMMY_DIGEST_2 = B3Digest(b"\x10" + bytes(31))
HELLOWORLD_BLOB_DIGEST = B3Digest(blake3.blake3(HELLOWORLD_BLOB_CONTENTS).digest())
EMPTY_BLOB_DIGEST = B3Digest(blake3.blake3(EMPTY_BLOB_CONTENTS).digest())
BLOB_A = bytes([0x00, 0x01])
BLOB_A_DIGEST = B3Digest(blake3.blake3(BLOB_A).digest())
BLOB_B = bytes(range(255)) * (4 * 1024)
BLOB_B_DIGEST = B3Digest(blake3.blake3(BLOB_B).digest())

DIRECTORY_WITH_KEEP = Directory(
    files=[FileNode(name=b".keep", digest=EMPTY_BLOB_DIGEST, size=0, executable=False)]
)
DIRECTORY_COMPLICATED = Directory(
    directories=[
        DirectoryNode(
            name=b"keep",
            digest=directory_digest(DIRECTORY_WITH_KEEP),
            size=directory_size(DIRECTORY_WITH_KEEP),
        )
    ],
    files=[FileNode(name=b".keep", digest=EMPTY_BLOB_DIGEST, size=0, executable=False)],
    symlinks=[SymlinkNode(name=b"aa", target=b"/nix/store/somewhereelse")],
)
DIRECTORY_A = Directory()
DIRECTORY_B = Directory(
    directories=[
        DirectoryNode(
            name=b"a", digest=directory_digest(DIRECTORY_A), size=directory_size(DIRECTORY_A)
        )
    ]
)
DIRECTORY_C = Directory(
    directories=[
        DirectoryNode(
            name=b"a", digest=directory_digest(DIRECTORY_A), size=directory_size(DIRECTORY_A)
        ),
        DirectoryNode(
            name=b"a'", digest=directory_digest(DIRECTORY_A), size=directory_size(DIRECTORY_A)
        ),
    ]
)
