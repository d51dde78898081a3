"""Inode numbers for the FUSE view: stable for a mount, shared by identical content.

As in the reference, inodes are allocated by content, not by path: every
occurrence of the same directory digest, the same blob (with the same
executable bit) or the same symlink target gets the same number, across all
store paths. The root of the mount is inode 1.
"""

from __future__ import annotations

import threading

from tvix_castore.directory import ChildNode, DirectoryNode, FileNode

ROOT_INO = 1

InodeKey = tuple[str, bytes, bool]


def content_key(node: ChildNode) -> InodeKey:
    """What makes two nodes the same inode: kind and digest (plus the executable bit) or target."""
    if isinstance(node, DirectoryNode):
        return ("d", bytes(node.digest), False)
    if isinstance(node, FileNode):
        return ("f", bytes(node.digest), node.executable)
    return ("l", bytes(node.target), False)


class InodeTracker:
    """Hands out inode numbers by content key, starting after the root's."""

    def __init__(self) -> None:
        self._by_key: dict[InodeKey, int] = {}
        self._next = ROOT_INO + 1
        self._lock = threading.Lock()

    def inode_of(self, node: ChildNode) -> int:
        """The inode number of ``node``'s content, allocating one the first time."""
        key = content_key(node)
        ino = self._by_key.get(key)
        if ino is not None:
            return ino
        with self._lock:
            ino = self._by_key.get(key)
            if ino is None:
                ino = self._next
                self._next += 1
                self._by_key[key] = ino
            return ino
