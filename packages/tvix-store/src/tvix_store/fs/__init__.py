"""A read-only FUSE view of the store as ``/nix/store``."""

from tvix_store.fs.inodes import ROOT_INO, InodeTracker
from tvix_store.fs.mount import FuseUnavailableError, fuse_unavailable_reason, mount_store
from tvix_store.fs.operations import StoreFs

__all__ = [
    "ROOT_INO",
    "FuseUnavailableError",
    "InodeTracker",
    "StoreFs",
    "fuse_unavailable_reason",
    "mount_store",
]
