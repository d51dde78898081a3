"""DirectoryService: the interface, its backends (memory, lmdb, gRPC) and graph traversal."""

from tvix_castore.directoryservice.base import DirectoryPutter, DirectoryService
from tvix_castore.directoryservice.traverse import descend_to, traverse_breadth_first, walk

__all__ = ["DirectoryPutter", "DirectoryService", "descend_to", "traverse_breadth_first", "walk"]
