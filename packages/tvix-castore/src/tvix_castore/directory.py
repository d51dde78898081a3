"""Typed helpers around the castore protobuf messages: digests, sizes, validation, iteration.

A Directory is identified by the blake3 digest of its canonical protobuf
encoding (fields in number order, default values left out, no unknown
fields). Its ``size`` is recursive: the number of files and symlinks plus,
for every child directory, one plus that child's own size.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator
from typing import TypeAlias

import blake3
from google.protobuf.message import DecodeError

from tvix_castore.digests import B3_LEN, B3Digest
from tvix_castore.errors import (
    DirectoryValidationError,
    DuplicateNameError,
    InvalidDigestLengthError,
    InvalidNameError,
    InvalidRequestError,
    InvalidSymlinkTargetError,
    WrongSortingError,
)
from tvix_castore.proto.castore_pb2 import Directory, DirectoryNode, FileNode, Node, SymlinkNode

__all__ = [
    "ChildNode",
    "Directory",
    "DirectoryNode",
    "FileNode",
    "Node",
    "SymlinkNode",
    "decode_directory",
    "directory_digest",
    "directory_size",
    "encode_directory",
    "find_child",
    "iter_nodes",
    "node_from_proto",
    "node_kind",
    "node_to_proto",
    "rename_node",
    "validate_directory",
    "validate_node",
    "validate_node_name",
]

ChildNode: TypeAlias = DirectoryNode | FileNode | SymlinkNode
"""One entry of a Directory (or a root node): a directory, a regular file or a symlink."""

MAX_U32 = (1 << 32) - 1


def encode_directory(directory: Directory) -> bytes:
    """The canonical protobuf encoding of ``directory``, the input to its digest."""
    return directory.SerializeToString(deterministic=True)


def directory_digest(directory: Directory) -> B3Digest:
    """blake3 of the canonical encoding of ``directory``."""
    return B3Digest(blake3.blake3(encode_directory(directory)).digest())


def decode_directory(data: bytes) -> Directory:
    """Parse a Directory from bytes, dropping unknown fields (they are not part of the digest)."""
    directory = Directory()
    try:
        directory.ParseFromString(data)
    except DecodeError as e:
        raise InvalidRequestError(f"malformed Directory message: {e}") from None
    directory.DiscardUnknownFields()
    return directory


def directory_size(directory: Directory) -> int:
    """#files + #symlinks + Σ (1 + child.size) over child directories."""
    return (
        len(directory.files)
        + len(directory.symlinks)
        + sum(1 + child.size for child in directory.directories)
    )


def validate_node_name(name: bytes) -> None:
    """Reject names that are empty, ``.``, ``..``, or contain ``/`` or NUL."""
    if not name or name in (b".", b"..") or b"/" in name or b"\x00" in name:
        raise InvalidNameError(name)


def _check_digest(digest: bytes) -> None:
    if len(digest) != B3_LEN:
        raise InvalidDigestLengthError(len(digest))


def validate_directory(directory: Directory) -> None:
    """Check every castore rule on ``directory``; raise a DirectoryValidationError naming the entry.

    Names must be valid (see :func:`validate_node_name`), sorted within each of
    the three lists and unique across all of them; digests must be 32 bytes;
    symlink targets non-empty without NUL; the recursive size must fit in
    a uint32. The order of checks follows the reference, so that e.g. two equal
    neighbouring names report a duplicate rather than a sorting error.
    """
    seen: set[bytes] = set()
    for nodes in (directory.directories, directory.files, directory.symlinks):
        previous = b""
        for node in nodes:
            name = node.name
            validate_node_name(name)
            if isinstance(node, SymlinkNode):
                if not node.target or b"\x00" in node.target:
                    raise InvalidSymlinkTargetError(name, node.target)
            else:
                _check_digest(node.digest)
            if name < previous:
                raise WrongSortingError(name)
            previous = name
            if name in seen:
                raise DuplicateNameError(name)
            seen.add(name)
    if directory_size(directory) > MAX_U32:
        raise DirectoryValidationError("directory size overflows uint32")


def validate_node(node: ChildNode, *, check_name: bool = True) -> None:
    """Validate a single node as it arrives on its own (e.g. a root node)."""
    if check_name:
        validate_node_name(node.name)
    if isinstance(node, SymlinkNode):
        if not node.target or b"\x00" in node.target:
            raise InvalidSymlinkTargetError(node.name, node.target)
    else:
        _check_digest(node.digest)


def iter_nodes(directory: Directory) -> Iterator[ChildNode]:
    """All entries of ``directory`` merged into one sequence ordered by name."""
    lists: tuple[Iterator[ChildNode], ...] = (
        iter(directory.directories),
        iter(directory.files),
        iter(directory.symlinks),
    )
    return heapq.merge(*lists, key=_name_of)


def _name_of(node: ChildNode) -> bytes:
    return node.name


def find_child(directory: Directory, name: bytes) -> ChildNode | None:
    """The entry called ``name`` in a (valid, hence sorted) directory, or None."""
    lists: tuple[list[ChildNode], ...] = (
        list(directory.directories),
        list(directory.files),
        list(directory.symlinks),
    )
    for nodes in lists:
        i = bisect.bisect_left(nodes, name, key=_name_of)
        if i < len(nodes) and nodes[i].name == name:
            return nodes[i]
    return None


def node_kind(node: ChildNode) -> str:
    """``"directory"``, ``"file"`` or ``"symlink"``."""
    if isinstance(node, DirectoryNode):
        return "directory"
    if isinstance(node, FileNode):
        return "file"
    return "symlink"


def rename_node(node: ChildNode, name: bytes) -> ChildNode:
    """A copy of ``node`` with a new name."""
    renamed: ChildNode = type(node)()
    renamed.MergeFromString(node.SerializeToString())
    renamed.name = name
    return renamed


def node_to_proto(node: ChildNode) -> Node:
    """Wrap a child node into the ``Node`` oneof message."""
    if isinstance(node, DirectoryNode):
        return Node(directory=node)
    if isinstance(node, FileNode):
        return Node(file=node)
    return Node(symlink=node)


def node_from_proto(node: Node) -> ChildNode:
    """Unwrap a ``Node`` oneof message; an unset oneof is an invalid request."""
    which = node.WhichOneof("node")
    if which == "directory":
        return node.directory
    if which == "file":
        return node.file
    if which == "symlink":
        return node.symlink
    raise InvalidRequestError("node is not set (expected directory, file or symlink)")
