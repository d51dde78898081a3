"""Importing from the filesystem: the reference's import tests on every backend, plus edge cases."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from castore_fixtures import (
    DIRECTORY_COMPLICATED,
    DIRECTORY_WITH_KEEP,
    EMPTY_BLOB_DIGEST,
    HELLOWORLD_BLOB_CONTENTS,
    HELLOWORLD_BLOB_DIGEST,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tvix_castore import (
    B3Digest,
    BlobService,
    DirectoryNode,
    DirectoryService,
    FileNode,
    IngestError,
    SymlinkNode,
    blob_service_from_url,
    directory_digest,
    directory_service_from_url,
    directory_size,
    import_path,
    walk,
)
from tvix_castore.server import Daemon


def test_symlink(tmp_path: Path, services: tuple[BlobService, DirectoryService]) -> None:
    (tmp_path / "doesntmatter").symlink_to("/nix/store/somewhereelse")
    node = import_path(tmp_path / "doesntmatter", *services)
    assert node == SymlinkNode(name=b"doesntmatter", target=b"/nix/store/somewhereelse")


def test_single_file(tmp_path: Path, services: tuple[BlobService, DirectoryService]) -> None:
    (tmp_path / "root").write_bytes(HELLOWORLD_BLOB_CONTENTS)
    node = import_path(tmp_path / "root", *services)
    assert node == FileNode(
        name=b"root",
        digest=HELLOWORLD_BLOB_DIGEST,
        size=len(HELLOWORLD_BLOB_CONTENTS),
        executable=False,
    )
    assert services[0].has(HELLOWORLD_BLOB_DIGEST)


def make_complicated(root: Path) -> None:
    root.mkdir(exist_ok=True)
    (root / ".keep").write_bytes(b"")
    (root / "aa").symlink_to("/nix/store/somewhereelse")
    (root / "keep").mkdir()
    (root / "keep" / ".keep").write_bytes(b"")


@pytest.mark.parametrize("workers", [0, 4])
def test_complicated(
    tmp_path: Path, services: tuple[BlobService, DirectoryService], workers: int
) -> None:
    blobs, directories = services
    make_complicated(tmp_path / "tree")
    node = import_path(tmp_path / "tree", blobs, directories, workers=workers)
    assert node == DirectoryNode(
        name=b"tree",
        digest=directory_digest(DIRECTORY_COMPLICATED),
        size=directory_size(DIRECTORY_COMPLICATED),
    )
    assert directories.get(directory_digest(DIRECTORY_WITH_KEEP)) == DIRECTORY_WITH_KEEP
    assert directories.get(directory_digest(DIRECTORY_COMPLICATED)) == DIRECTORY_COMPLICATED
    assert blobs.has(EMPTY_BLOB_DIGEST)


def test_executable_bit_and_sorting(
    tmp_path: Path, services: tuple[BlobService, DirectoryService]
) -> None:
    blobs, directories = services
    root = tmp_path / "t"
    root.mkdir()
    for name in ("b", "a", "C", "é", "a.txt"):
        (root / name).write_bytes(name.encode())
    os.chmod(root / "b", 0o755)
    os.chmod(root / "a", 0o644)
    (root / "sub").mkdir()
    big = os.urandom((17 << 20) + 3)  # above the whole-file limit: hashed, then streamed
    (root / "sub" / "big").write_bytes(big)
    node = import_path(root, blobs, directories)
    assert isinstance(node, DirectoryNode)
    listing = [
        (path, type(n).__name__, getattr(n, "executable", None))
        for path, n in walk(directories, node)
    ]
    assert listing == [
        (b"", "DirectoryNode", None),
        (b"C", "FileNode", False),
        (b"a", "FileNode", False),
        (b"a.txt", "FileNode", False),
        (b"b", "FileNode", True),
        (b"sub", "DirectoryNode", None),
        (b"sub/big", "FileNode", False),
        ("é".encode(), "FileNode", False),
    ]
    assert blobs.read_all(B3Digest.of(big)) == big


def test_reimport_is_stable(tmp_path: Path, services: tuple[BlobService, DirectoryService]) -> None:
    make_complicated(tmp_path / "tree")
    (tmp_path / "tree" / "big").write_bytes(os.urandom(3 << 20))
    first = import_path(tmp_path / "tree", *services)
    assert import_path(tmp_path / "tree", *services) == first


def test_reimport_over_grpc_skips_uploads(tmp_path: Path, daemon: Daemon) -> None:
    blobs = blob_service_from_url(daemon.url)
    directories = directory_service_from_url(daemon.url)
    make_complicated(tmp_path / "tree")
    (tmp_path / "tree" / "data").write_bytes(b"some data")
    first = import_path(tmp_path / "tree", blobs, directories)
    uploads: list[int] = []
    original_open_write = blobs.open_write

    def counting_open_write():  # type: ignore[no-untyped-def]
        uploads.append(1)
        return original_open_write()

    blobs.open_write = counting_open_write  # type: ignore[method-assign]
    assert import_path(tmp_path / "tree", blobs, directories) == first
    assert uploads == [], "blobs the store already has are not uploaded again"
    blobs.close()
    directories.close()


def test_non_utf8_names(tmp_path: Path, services: tuple[BlobService, DirectoryService]) -> None:
    root = os.path.join(os.fsencode(tmp_path), b"t")
    os.mkdir(root)
    with open(os.path.join(root, b"\xff\xfe"), "wb") as f:
        f.write(b"x")
    node = import_path(root, *services)
    assert isinstance(node, DirectoryNode)
    directory = services[1].get(B3Digest(node.digest))
    assert directory is not None
    assert directory.files[0].name == b"\xff\xfe"


def test_progress_is_reported(
    tmp_path: Path, services: tuple[BlobService, DirectoryService]
) -> None:
    make_complicated(tmp_path / "tree")
    (tmp_path / "tree" / "data").write_bytes(b"12345")

    class Recorder:
        def __init__(self) -> None:
            self.found = 0
            self.done = 0

        def discovered(self, nbytes: int) -> None:
            self.found += nbytes

        def advanced(self, nbytes: int) -> None:
            self.done += nbytes

    recorder = Recorder()
    import_path(tmp_path / "tree", *services, progress=recorder)
    assert (recorder.found, recorder.done) == (5, 5)


def test_unsupported_file_type(
    tmp_path: Path, services: tuple[BlobService, DirectoryService]
) -> None:
    root = tmp_path / "t"
    root.mkdir()
    os.mkfifo(root / "pipe")
    with pytest.raises(IngestError, match=r"pipe is a named pipe, which castore cannot store"):
        import_path(root, *services)
    sock = socket.socket(socket.AF_UNIX)
    try:
        os.unlink(root / "pipe")
        sock.bind(str(root / "s"))
        with pytest.raises(IngestError, match="is a socket"):
            import_path(root / "s", *services)
    finally:
        sock.close()


def test_missing_and_unreadable(
    tmp_path: Path, services: tuple[BlobService, DirectoryService], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(IngestError, match=r"unable to stat .*nope: No such file or directory"):
        import_path(tmp_path / "nope", *services)
    root = tmp_path / "t"
    root.mkdir()
    (root / "secret").write_bytes(b"x")

    def refuse(path: bytes, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", path)

    import tvix_castore.importer

    monkeypatch.setattr(tvix_castore.importer, "open", refuse, raising=False)
    with pytest.raises(IngestError, match=r"unable to read .*secret: Permission denied"):
        import_path(root, *services)
    assert services[1].get(B3Digest.of(b"")) is None, "no directory of a failed import is stored"


tree_names = st.text(
    alphabet=st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=8,
).filter(lambda n: n not in (".", ".."))


def _trees(depth: int) -> st.SearchStrategy[dict[str, object]]:
    leaf = st.one_of(
        st.tuples(st.just("file"), st.binary(max_size=300), st.booleans()),
        st.tuples(st.just("symlink"), tree_names),
    )
    if depth == 0:
        return st.dictionaries(tree_names, leaf, max_size=4)
    return st.dictionaries(tree_names, st.one_of(leaf, _trees(depth - 1)), max_size=4)


def _materialize(root: Path, tree: dict[str, object]) -> None:
    root.mkdir()
    for name, entry in tree.items():
        path = root / name
        if isinstance(entry, dict):
            _materialize(path, entry)
        elif entry[0] == "file":  # type: ignore[index]
            _, data, executable = entry  # type: ignore[misc]
            path.write_bytes(data)
            os.chmod(path, 0o755 if executable else 0o644)
        else:
            path.symlink_to(entry[1])  # type: ignore[index]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=_trees(2))
def test_import_then_walk_reproduces_the_tree(
    tmp_path_factory: pytest.TempPathFactory, tree: dict[str, object]
) -> None:
    from tvix_castore import blob_service_from_url as blobs_at
    from tvix_castore import directory_service_from_url as directories_at

    root = tmp_path_factory.mktemp("tree") / "root"
    _materialize(root, tree)
    blobs, directories = blobs_at("memory://"), directories_at("memory://")
    node = import_path(root, blobs, directories)
    seen: dict[str, object] = {}
    for path, entry in walk(directories, node):
        if not path:
            continue
        key = os.fsdecode(path)
        if isinstance(entry, FileNode):
            data = blobs.read_all(B3Digest(entry.digest))
            seen[key] = ("file", data, entry.executable)
            assert entry.size == len(data or b"")
        elif isinstance(entry, SymlinkNode):
            seen[key] = ("symlink", os.fsdecode(entry.target))
        else:
            seen[key] = "dir"

    expected: dict[str, object] = {}

    def flatten(prefix: str, subtree: dict[str, object]) -> None:
        for name, entry in subtree.items():
            key = f"{prefix}{name}"
            if isinstance(entry, dict):
                expected[key] = "dir"
                flatten(key + "/", entry)
            else:
                expected[key] = entry

    flatten("", tree)
    assert seen == expected
    # a second store computes the same root
    assert import_path(root, blobs_at("memory://"), directories_at("memory://")) == node
