"""NAR, the Nix archive format: a streaming writer, a canonical-only reader, dump and restore."""

from nix_compat.nar.dump import HashingSink, dump_path, nar_hash_path
from nix_compat.nar.errors import NarError
from nix_compat.nar.reader import (
    NarDirectory,
    NarDirectoryEnd,
    NarEvent,
    NarFile,
    NarFileReader,
    NarReader,
    NarSymlink,
    read_nar,
)
from nix_compat.nar.restore import restore
from nix_compat.nar.wire import BinaryReader, BinarySink
from nix_compat.nar.writer import DirectoryWriter, NodeWriter, open_nar_writer

__all__ = [
    "BinaryReader",
    "BinarySink",
    "DirectoryWriter",
    "HashingSink",
    "NarDirectory",
    "NarDirectoryEnd",
    "NarError",
    "NarEvent",
    "NarFile",
    "NarFileReader",
    "NarReader",
    "NarSymlink",
    "NodeWriter",
    "dump_path",
    "nar_hash_path",
    "open_nar_writer",
    "read_nar",
    "restore",
]
