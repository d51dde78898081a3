"""NAR round trips over generated trees, dump/restore on disk, and agreement with C++ Nix."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nix_compat import nixbase32
from nix_compat.nar import (
    HashingSink,
    NarDirectory,
    NarError,
    NarFile,
    NarSymlink,
    NodeWriter,
    dump_path,
    nar_hash_path,
    open_nar_writer,
    read_nar,
    restore,
)

TESTDATA = Path(__file__).parent / "data" / "nar"


@dataclass(frozen=True)
class File:
    executable: bool
    contents: bytes


@dataclass(frozen=True)
class Symlink:
    target: bytes


@dataclass(frozen=True)
class Dir:
    entries: dict[bytes, Tree]


Tree = File | Symlink | Dir


def write_tree(tree: Tree) -> bytes:
    """Serialise ``tree`` with the streaming writer (iteratively, entries sorted)."""
    sink = io.BytesIO()
    _write_node(open_nar_writer(sink), tree)
    return sink.getvalue()


def _write_node(node: NodeWriter, tree: Tree) -> None:
    if isinstance(tree, File):
        node.file(tree.executable, len(tree.contents), io.BytesIO(tree.contents))
    elif isinstance(tree, Symlink):
        node.symlink(tree.target)
    else:
        with node.directory() as d:
            for name in sorted(tree.entries):
                _write_node(d.entry(name), tree.entries[name])


def read_tree(data: bytes) -> Tree:
    """Rebuild the tree from the reader's events."""
    dirs: dict[tuple[bytes, ...], dict[bytes, Tree]] = {}
    root: Tree | None = None
    for event in read_nar(io.BytesIO(data)):
        node: Tree
        if isinstance(event, NarFile):
            node = File(event.executable, event.contents.read())
        elif isinstance(event, NarSymlink):
            node = Symlink(event.target)
        elif isinstance(event, NarDirectory):
            dirs[event.path] = {}
            node = Dir(dirs[event.path])
        else:
            continue
        if event.path:
            dirs[event.path[:-1]][event.path[-1]] = node
        else:
            root = node
    assert root is not None
    return root


def materialise(tree: Tree, path: Path) -> None:
    """Create ``tree`` at ``path`` on disk."""
    if isinstance(tree, File):
        path.write_bytes(tree.contents)
        path.chmod(0o755 if tree.executable else 0o644)
    elif isinstance(tree, Symlink):
        os.symlink(tree.target, os.fsencode(path))
    else:
        path.mkdir()
        for name, child in tree.entries.items():
            materialise(child, Path(os.fsdecode(os.path.join(os.fsencode(path), name))))


names = st.binary(min_size=1, max_size=12).filter(
    lambda n: b"/" not in n and b"\0" not in n and n not in (b".", b"..")
) | st.sampled_from([b"a", b"A", b"a.b", b"-", b" x", b"\xff\xfe", "ü ñ".encode(), b"\n"])
targets = st.binary(min_size=1, max_size=40).filter(lambda t: b"\0" not in t)
files = st.builds(File, st.booleans(), st.binary(max_size=200))
leaves: st.SearchStrategy[Tree] = files | st.builds(Symlink, targets)
trees: st.SearchStrategy[Tree] = st.recursive(
    leaves,
    lambda children: st.builds(Dir, st.dictionaries(names, children, max_size=5)),
    max_leaves=12,
)
SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(trees)
def test_write_then_read_gives_the_same_tree(tree: Tree) -> None:
    data = write_tree(tree)
    assert read_tree(data) == tree
    assert write_tree(read_tree(data)) == data


@pytest.mark.parametrize(
    "fixture",
    [
        "symlink.nar",
        "onebyteregular.nar",
        "onebyteexecutable.nar",
        "emptydirectory.nar",
        "popdirectories.nar",
        "nar_1094wph9z4nwlgvsd53abfz8i117ykiv5dwnq9nnhz846s7xqd7d.nar",
    ],
)
def test_fixtures_rewrite_byte_identically(fixture: str, tmp_path: Path) -> None:
    data = (TESTDATA / fixture).read_bytes()
    assert write_tree(read_tree(data)) == data
    restore(io.BytesIO(data), tmp_path / "out")
    out = io.BytesIO()
    dump_path(tmp_path / "out", out)
    assert out.getvalue() == data


def test_dump_path_of_a_small_tree(tmp_path: Path) -> None:
    root = tmp_path / "root"
    materialise(
        Dir({b"b": File(True, b"#!x\n"), b"a": Symlink(b"b"), b"c": Dir({})}),
        root,
    )
    sink = io.BytesIO()
    dump_path(root, sink)
    assert read_tree(sink.getvalue()) == Dir(
        {b"a": Symlink(b"b"), b"b": File(True, b"#!x\n"), b"c": Dir({})}
    )
    size, digest = nar_hash_path(root)
    assert size == len(sink.getvalue())
    assert digest == hashlib.sha256(sink.getvalue()).digest()


def test_dump_path_of_a_single_file_and_symlink(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"Hello World!")
    sink = io.BytesIO()
    dump_path(str(tmp_path / "f"), sink)
    assert read_tree(sink.getvalue()) == File(False, b"Hello World!")
    assert len(sink.getvalue()) == 128
    os.symlink("/nix/store/somewhereelse", tmp_path / "l")
    sink = io.BytesIO()
    dump_path(os.fsencode(tmp_path / "l"), sink)
    assert sink.getvalue() == (TESTDATA / "symlink.nar").read_bytes()


def test_only_the_owner_execute_bit_counts(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    (tmp_path / "f").chmod(0o651)
    assert read_tree(_dump(tmp_path / "f")) == File(False, b"x")
    (tmp_path / "f").chmod(0o700)
    assert read_tree(_dump(tmp_path / "f")) == File(True, b"x")


def _dump(path: Path) -> bytes:
    sink = io.BytesIO()
    dump_path(path, sink)
    return sink.getvalue()


def test_fifo_is_unsupported(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "d" / "pipe")
    with pytest.raises(NarError, match="pipe' has an unsupported type"):
        dump_path(tmp_path / "d", io.BytesIO())
    with pytest.raises(NarError, match="has an unsupported type"):
        dump_path(tmp_path / "d" / "pipe", io.BytesIO())


def test_socket_is_unsupported() -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as short:
        path = os.path.join(short, "s")
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(path)
            with pytest.raises(NarError, match="has an unsupported type"):
                dump_path(short, io.BytesIO())


def test_large_file_on_disk_is_dumped_with_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "big"
    size = 48 * 1024 * 1024 + 3
    with open(big, "wb") as f:
        f.truncate(size)
    sink = HashingSink()
    tracemalloc.start()
    try:
        dump_path(big, sink)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024
    assert sink.size == size + 112 + 5
    tracemalloc.start()
    try:
        assert nar_hash_path(big) == (sink.size, sink.digest())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024


@SETTINGS
@given(trees)
def test_restore_then_dump_is_identity(tree: Tree) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "out"
        data = write_tree(tree)
        restore(io.BytesIO(data), target)
        assert _dump(target) == data
        if isinstance(tree, File):
            mode = target.stat().st_mode
            assert bool(mode & stat.S_IXUSR) == tree.executable


def test_restore_refuses_existing_target(tmp_path: Path) -> None:
    with pytest.raises(FileExistsError):
        restore(io.BytesIO((TESTDATA / "emptydirectory.nar").read_bytes()), tmp_path)


NIX_STORE = shutil.which("nix-store")
NIX_HASH = shutil.which("nix-hash")
needs_nix = pytest.mark.skipif(
    NIX_STORE is None or NIX_HASH is None, reason="nix-store/nix-hash (C++ Nix) not installed"
)


@pytest.mark.nix
@needs_nix
@settings(max_examples=20, deadline=None)
@given(st.lists(trees, min_size=1, max_size=6))
def test_dump_equals_nix_store_dump_and_nix_hash(forest: list[Tree]) -> None:
    """Several trees per example keep the number of nix processes (and the run time) low."""
    assert NIX_STORE is not None and NIX_HASH is not None
    with tempfile.TemporaryDirectory() as tmp:
        parent = Path(tmp) / "parent"
        parent.mkdir()
        roots = [parent / f"t{i}" for i in range(len(forest))]
        for tree, root in zip(forest, roots, strict=True):
            materialise(tree, root)
        theirs = subprocess.run([NIX_STORE, "--dump", parent], check=True, capture_output=True)
        ours = _dump(parent)
        assert ours == theirs.stdout
        assert ours == write_tree(
            Dir({os.fsencode(r.name): t for r, t in zip(roots, forest, strict=True)})
        )
        nix_hashes = subprocess.run(
            [NIX_HASH, "--type", "sha256", "--base32", *roots],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        for tree, root, nix_hash in zip(forest, roots, nix_hashes, strict=True):
            size, digest = nar_hash_path(root)
            assert nixbase32.encode(digest) == nix_hash
            assert size == len(write_tree(tree))


@pytest.mark.nix
@needs_nix
@settings(max_examples=20, deadline=None)
@given(trees)
def test_nix_store_restore_reads_our_archives(tree: Tree) -> None:
    assert NIX_STORE is not None
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "out"
        data = write_tree(tree)
        subprocess.run([NIX_STORE, "--restore", target], input=data, check=True)
        assert _dump(target) == data


@pytest.mark.nix
@needs_nix
def test_dump_of_a_real_directory_equals_nix(tmp_path: Path) -> None:
    assert NIX_STORE is not None
    source = Path(__file__).parent / "data"
    theirs = subprocess.run([NIX_STORE, "--dump", source], check=True, capture_output=True).stdout
    assert _dump(source) == theirs
    restore(io.BytesIO(theirs), tmp_path / "copy")
    assert _dump(tmp_path / "copy") == theirs


@pytest.mark.nix
@needs_nix
def test_files_on_the_streaming_path_equal_nix(tmp_path: Path) -> None:
    """Files above the single-read size go through the chunked copy; Nix must agree."""
    assert NIX_STORE is not None and NIX_HASH is not None
    root = tmp_path / "root"
    root.mkdir()
    (root / "big").write_bytes(os.urandom(1024 * 1024 + 5))
    (root / "big").chmod(0o755)
    (root / "exact").write_bytes(os.urandom(1024 * 1024))
    (root / "odd").write_bytes(os.urandom(256 * 1024 + 1))
    theirs = subprocess.run([NIX_STORE, "--dump", root], check=True, capture_output=True).stdout
    assert _dump(root) == theirs
    nix_hash = subprocess.run(
        [NIX_HASH, "--type", "sha256", "--base32", root], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert nixbase32.encode(nar_hash_path(root)[1]) == nix_hash
    assert nar_hash_path(root)[0] == len(theirs)


@pytest.mark.parametrize("spare_core", [True, False])
def test_nar_hash_path_with_and_without_the_hashing_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spare_core: bool
) -> None:
    import nix_compat.nar.dump as dump_module

    monkeypatch.setattr(dump_module, "_has_spare_core", lambda: spare_core)
    monkeypatch.setattr(dump_module, "_INLINE_LIMIT", 1000)
    root = tmp_path / "root"
    root.mkdir()
    for i in range(300):
        (root / f"f{i:03}").write_bytes(os.urandom(i * 97))
    (root / "large").write_bytes(os.urandom(3 * 1024 * 1024 + 1))
    (root / "mid").write_bytes(os.urandom(200_000))
    expected = _dump(root)
    assert nar_hash_path(root) == (len(expected), hashlib.sha256(expected).digest())


def test_file_changing_size_while_dumped_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated by patching the os functions dump_path calls (globally, for this test only)."""
    small = tmp_path / "small"
    small.write_bytes(b"abc")
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: real_read(fd, n) + b"more")
    with pytest.raises(NarError, match=r"small' changed size while being read \(expected 3\)"):
        dump_path(small, io.BytesIO())
    monkeypatch.undo()

    big = tmp_path / "big"
    big.write_bytes(bytes(2 * 1024 * 1024))
    real_lstat = os.lstat

    def lying_lstat(path: object) -> os.stat_result:
        st = real_lstat(path)  # type: ignore[arg-type]
        fields = list(st)
        fields[stat.ST_SIZE] = st.st_size + 10
        return os.stat_result(fields)

    monkeypatch.setattr(os, "lstat", lying_lstat)
    with pytest.raises(NarError, match=r"big': file content ended after 2097152 of the declared"):
        dump_path(big, io.BytesIO())
