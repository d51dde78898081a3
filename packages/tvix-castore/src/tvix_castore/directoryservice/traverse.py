"""Walking directory graphs: breadth-first closure, path lookup, recursive listing."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tvix_castore.digests import B3Digest
from tvix_castore.directory import ChildNode, DirectoryNode, find_child, iter_nodes
from tvix_castore.errors import InvalidRequestError, NotFoundError, StorageError

if TYPE_CHECKING:
    from tvix_castore.directory import Directory
    from tvix_castore.directoryservice.base import DirectoryService


def traverse_breadth_first(service: DirectoryService, root: B3Digest) -> Iterator[Directory]:
    """Yield ``root`` and all directories below it breadth-first, each exactly once.

    Children are queued when their parent is yielded, so no directory comes
    before one that refers to it. A missing root is NotFoundError; a missing
    child is StorageError (the store is inconsistent).
    """
    queue: deque[B3Digest] = deque([root])
    queued: set[bytes] = {root}
    while queue:
        digest = queue.popleft()
        directory = service.get(digest)
        if directory is None:
            if digest == root and len(queued) == 1:
                raise NotFoundError(f"directory {digest} not found")
            raise StorageError(f"directory {digest} does not exist (referred to below {root})")
        for child in directory.directories:
            if child.digest not in queued:
                queued.add(child.digest)
                queue.append(B3Digest(child.digest))
        yield directory


def _components(path: str | bytes) -> list[bytes]:
    raw = path.encode() if isinstance(path, str) else path
    return [part for part in raw.split(b"/") if part and part != b"."]


def descend_to(service: DirectoryService, root: ChildNode, path: str | bytes) -> ChildNode | None:
    """The node at ``path`` below ``root`` (a leading ``/`` is ignored), or None if there is none.

    A file or symlink with path left over gives None, as does a missing entry.
    A directory the graph refers to but the store lacks is StorageError.
    """
    parts = _components(path)
    if b".." in parts:
        raise InvalidRequestError(f"path {path!r} may not contain '..'")
    node = root
    for part in parts:
        if not isinstance(node, DirectoryNode):
            return None
        directory = _load(service, node)
        child = find_child(directory, part)
        if child is None:
            return None
        node = child
    return node


def _load(service: DirectoryService, node: DirectoryNode) -> Directory:
    digest = B3Digest(node.digest)
    directory = service.get(digest)
    if directory is None:
        raise StorageError(f"directory {digest} does not exist")
    return directory


def walk(service: DirectoryService, root: ChildNode) -> Iterator[tuple[bytes, ChildNode]]:
    """Every node below ``root`` with its relative path (``b""`` for the root).

    Depth-first, in name order.
    """
    stack: list[tuple[bytes, ChildNode]] = [(b"", root)]
    while stack:
        path, node = stack.pop()
        yield path, node
        if isinstance(node, DirectoryNode):
            children = list(iter_nodes(_load(service, node)))
            prefix = path + b"/" if path else b""
            stack.extend((prefix + child.name, child) for child in reversed(children))
