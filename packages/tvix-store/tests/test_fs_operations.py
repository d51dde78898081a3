"""The FUSE operations object, exercised without mounting."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from tvix_castore.directory import (
    DirectoryNode,
    FileNode,
    SymlinkNode,
    directory_digest,
    directory_size,
)
from tvix_store.fs import ROOT_INO, StoreFs
from tvix_store.importer import import_path
from tvix_store.pathinfo import build_path_info

from .conftest import Store
from .fixtures import (
    DIRECTORY_COMPLICATED,
    DIRECTORY_WITH_KEEP,
    HELLOWORLD_BLOB_CONTENTS,
    HELLOWORLD_BLOB_DIGEST,
)

FILE_NAME = "00000000000000000000000000000000-file"
DIR_NAME = "11111111111111111111111111111111-dir"
LINK_NAME = "22222222222222222222222222222222-link"
DIR2_NAME = "33333333333333333333333333333333-dir2"


@pytest.fixture
def fs(memory_store: Store) -> StoreFs:
    s = memory_store
    s.blobs.put(b"")
    s.blobs.put(HELLOWORLD_BLOB_CONTENTS)
    s.directories.put(DIRECTORY_WITH_KEEP)
    s.directories.put(DIRECTORY_COMPLICATED)
    digest, size = directory_digest(DIRECTORY_COMPLICATED), directory_size(DIRECTORY_COMPLICATED)
    for node in (
        FileNode(name=FILE_NAME.encode(), digest=HELLOWORLD_BLOB_DIGEST, size=12, executable=True),
        DirectoryNode(name=DIR_NAME.encode(), digest=digest, size=size),
        DirectoryNode(name=DIR2_NAME.encode(), digest=digest, size=size),
        SymlinkNode(name=LINK_NAME.encode(), target=b"/nix/store/somewhereelse"),
    ):
        s.path_infos.put(build_path_info(node, 0, bytes(32)))
    return StoreFs(s.blobs, s.directories, s.path_infos)


def _errno(call: object, *args: object) -> int:
    with pytest.raises(OSError) as e:
        call(*args)  # type: ignore[operator]
    assert e.value.errno is not None
    return e.value.errno


def test_root_attrs(fs: StoreFs) -> None:
    attrs = fs.getattr("/")
    assert attrs["st_ino"] == ROOT_INO
    assert attrs["st_mode"] == stat.S_IFDIR | 0o555


def test_root_listing_disabled_and_enabled(fs: StoreFs) -> None:
    assert _errno(fs.readdir, "/", 0) == errno.EPERM
    fs.list_root = True
    names = [e if isinstance(e, str) else e[0] for e in fs.readdir("/", 0)]
    assert names[:2] == [".", ".."]
    assert sorted(names[2:]) == sorted([FILE_NAME, DIR_NAME, LINK_NAME, DIR2_NAME])


def test_lookup_unlisted_root_names(fs: StoreFs) -> None:
    """Without --list-root, store paths are still reachable by name."""
    attrs = fs.getattr("/" + FILE_NAME)
    assert attrs["st_mode"] == stat.S_IFREG | 0o555
    assert attrs["st_size"] == 12


@pytest.mark.parametrize(
    "name",
    [
        "not-a-store-path",
        "00000000000000000000000000000000-other",  # right digest, wrong name
        "44444444444444444444444444444444-missing",
        "..",
    ],
)
def test_wrong_root_names(fs: StoreFs, name: str) -> None:
    assert _errno(fs.getattr, "/" + name) == errno.ENOENT


def test_file_read_at_offsets(fs: StoreFs) -> None:
    fh = fs.open("/" + FILE_NAME, os.O_RDONLY)
    assert fs.read(None, 5, 0, fh) == b"Hello"
    assert fs.read(None, 100, 6, fh) == b"World!"
    assert fs.read(None, 3, 1, fh) == b"ell"  # backwards
    assert fs.read(None, 10, 12, fh) == b""
    fs.release(None, fh)
    assert _errno(fs.read, None, 1, 0, fh) == errno.EBADF


def test_directory_tree(fs: StoreFs) -> None:
    base = "/" + DIR_NAME
    entries = fs.readdir(base, 0)
    named = {e[0]: e[1] for e in entries if not isinstance(e, str)}
    assert list(named) == [".keep", "aa", "keep"]
    assert named["keep"]["st_mode"] == stat.S_IFDIR | 0o555
    assert named["aa"]["st_mode"] == stat.S_IFLNK | 0o777
    assert named[".keep"]["st_mode"] == stat.S_IFREG | 0o444
    assert fs.getattr(base + "/keep/.keep")["st_size"] == 0
    assert fs.readlink(base + "/aa") == "/nix/store/somewhereelse"
    assert fs.getattr(base)["st_size"] == directory_size(DIRECTORY_COMPLICATED)


def test_inodes_shared_by_content(fs: StoreFs) -> None:
    a = fs.getattr(f"/{DIR_NAME}/keep/.keep")["st_ino"]
    b = fs.getattr(f"/{DIR2_NAME}/.keep")["st_ino"]
    assert a == b
    assert fs.getattr("/" + DIR_NAME)["st_ino"] == fs.getattr("/" + DIR2_NAME)["st_ino"]
    assert fs.getattr(f"/{DIR_NAME}/keep")["st_ino"] != fs.getattr("/" + DIR_NAME)["st_ino"]
    # Stable: asking again gives the same numbers.
    assert fs.getattr(f"/{DIR_NAME}/keep/.keep")["st_ino"] == a


def test_errnos(fs: StoreFs) -> None:
    assert _errno(fs.open, "/" + DIR_NAME, os.O_RDONLY) == errno.EISDIR
    assert _errno(fs.open, "/", os.O_RDONLY) == errno.EISDIR
    assert _errno(fs.open, "/" + FILE_NAME, os.O_WRONLY) == errno.EROFS
    assert _errno(fs.getattr, f"/{FILE_NAME}/x") == errno.ENOTDIR
    assert _errno(fs.readdir, "/" + FILE_NAME, 0) == errno.ENOTDIR
    assert _errno(fs.readlink, "/" + FILE_NAME) == errno.EINVAL
    assert _errno(fs.getattr, f"/{DIR_NAME}/missing") == errno.ENOENT
    assert fs.readlink("/" + LINK_NAME) == "/nix/store/somewhereelse"


def test_missing_directory_and_blob_are_eio(memory_store: Store) -> None:
    s = memory_store
    node = DirectoryNode(
        name=DIR_NAME.encode(), digest=directory_digest(DIRECTORY_COMPLICATED), size=3
    )
    s.path_infos.put(build_path_info(node, 0, bytes(32)))
    s.path_infos.put(
        build_path_info(
            FileNode(name=FILE_NAME.encode(), digest=HELLOWORLD_BLOB_DIGEST, size=12), 0, bytes(32)
        )
    )
    fs = StoreFs(s.blobs, s.directories, s.path_infos)
    assert fs.getattr("/" + DIR_NAME)["st_mode"] & stat.S_IFDIR
    assert _errno(fs.readdir, "/" + DIR_NAME, 0) == errno.EIO
    assert _errno(fs.getattr, f"/{DIR_NAME}/x") == errno.EIO
    assert _errno(fs.open, "/" + FILE_NAME, os.O_RDONLY) == errno.EIO


def test_blob_vanishing_after_open_is_eio(memory_store: Store, tmp_path: Path) -> None:
    class FailingReader:
        def tell(self) -> int:
            return 0

        def seek(self, offset: int) -> int:
            raise OSError("gone")

        def read(self, n: int) -> bytes:
            raise OSError("gone")

        def close(self) -> None:
            pass

    s = memory_store
    s.blobs.put(HELLOWORLD_BLOB_CONTENTS)
    s.path_infos.put(
        build_path_info(
            FileNode(name=FILE_NAME.encode(), digest=HELLOWORLD_BLOB_DIGEST, size=12), 0, bytes(32)
        )
    )
    fs = StoreFs(s.blobs, s.directories, s.path_infos)
    fh = fs.open("/" + FILE_NAME, os.O_RDONLY)
    fs._handles[fh].reader = FailingReader()  # type: ignore[assignment]
    assert _errno(fs.read, None, 4, 0, fh) == errno.EIO


def test_imported_tree(memory_store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "d" / "f").write_bytes(b"data" * 1000)
    store_path, _ = import_path(
        src, memory_store.blobs, memory_store.directories, memory_store.path_infos
    )
    fs = StoreFs(memory_store.blobs, memory_store.directories, memory_store.path_infos)
    fh = fs.open(f"/{store_path}/d/f", os.O_RDONLY)
    assert fs.read(None, 8192, 0, fh) == b"data" * 1000


def test_deep_paths_resolve_without_recursion(memory_store: Store) -> None:
    from tvix_castore.directory import Directory

    s = memory_store
    directory = Directory(symlinks=[SymlinkNode(name=b"l", target=b"t")])
    s.directories.put(directory)
    depth = 1500
    for _ in range(depth):
        node = DirectoryNode(
            name=b"d", digest=directory_digest(directory), size=directory_size(directory)
        )
        directory = Directory(directories=[node])
        s.directories.put(directory)
    root = DirectoryNode(
        name=DIR_NAME.encode(), digest=directory_digest(directory), size=directory_size(directory)
    )
    s.path_infos.put(build_path_info(root, 0, bytes(32)))
    fs = StoreFs(s.blobs, s.directories, s.path_infos)
    assert fs.readlink(f"/{DIR_NAME}" + "/d" * depth + "/l") == "t"


def test_fuse_thread_options_only_for_libfuse3() -> None:
    """libfuse 3 gets a bound on idle threads (its default makes it complain on stderr)."""
    from types import SimpleNamespace

    from tvix_store.fs.mount import MAX_IDLE_THREADS, _thread_options

    libfuse3, libfuse2 = (
        SimpleNamespace(fuse_version_major=3),
        SimpleNamespace(fuse_version_major=2),
    )
    assert _thread_options(libfuse3, threads=True) == {"max_idle_threads": MAX_IDLE_THREADS}
    assert _thread_options(libfuse3, threads=False) == {}
    assert _thread_options(libfuse2, threads=True) == {}
    assert _thread_options(SimpleNamespace(), threads=True) == {}
