"""The DirectoryService contract, run against every backend (memory, lmdb, gRPC)."""

from __future__ import annotations

import threading

import pytest
from castore_fixtures import (
    DIRECTORY_A,
    DIRECTORY_B,
    DIRECTORY_C,
    DIRECTORY_COMPLICATED,
    DIRECTORY_WITH_KEEP,
    DUMMY_DIGEST,
)
from tvix_castore import (
    B3Digest,
    Directory,
    DirectoryNode,
    DirectoryService,
    FileNode,
    InvalidRequestError,
    NotFoundError,
    SymlinkNode,
    descend_to,
    directory_digest,
    directory_size,
    walk,
)


def digest_of(directory: Directory) -> B3Digest:
    return directory_digest(directory)


def test_get_missing(directory_service: DirectoryService) -> None:
    assert directory_service.get(digest_of(DIRECTORY_A)) is None
    assert not directory_service.has(digest_of(DIRECTORY_A))


def test_put_get(directory_service: DirectoryService) -> None:
    assert directory_service.put(DIRECTORY_A) == digest_of(DIRECTORY_A)
    assert directory_service.get(digest_of(DIRECTORY_A)) == DIRECTORY_A
    assert directory_service.has(digest_of(DIRECTORY_A))
    assert directory_service.put(DIRECTORY_WITH_KEEP) == digest_of(DIRECTORY_WITH_KEEP)
    assert directory_service.get(digest_of(DIRECTORY_WITH_KEEP)) == DIRECTORY_WITH_KEEP


def test_put_refuses_missing_children(directory_service: DirectoryService) -> None:
    with pytest.raises(InvalidRequestError, match="not seen yet"):
        directory_service.put(DIRECTORY_B)
    assert directory_service.get(digest_of(DIRECTORY_B)) is None


def test_put_accepts_children_already_stored(directory_service: DirectoryService) -> None:
    directory_service.put(DIRECTORY_A)
    assert directory_service.put(DIRECTORY_B) == digest_of(DIRECTORY_B)


def test_put_refuses_wrong_child_size(directory_service: DirectoryService) -> None:
    broken = Directory(
        directories=[DirectoryNode(name=b"foo", digest=digest_of(DIRECTORY_A), size=42)]
    )
    with (
        pytest.raises(InvalidRequestError, match="wrong size, expected 0, actual 42"),
        directory_service.put_multiple() as putter,
    ):
        putter.put(DIRECTORY_A)
        putter.put(broken)
    assert directory_service.get(digest_of(broken)) is None
    assert directory_service.get(digest_of(DIRECTORY_A)) is None, "a rejected graph stores nothing"


@pytest.mark.parametrize(
    "broken",
    [
        Directory(symlinks=[SymlinkNode(name=b"", target=b"doesntmatter")]),
        Directory(files=[FileNode(name=b"a/b", digest=DUMMY_DIGEST)]),
        Directory(files=[FileNode(name=b"f", digest=b"short")]),
        Directory(
            files=[
                FileNode(name=b"b", digest=DUMMY_DIGEST),
                FileNode(name=b"a", digest=DUMMY_DIGEST),
            ]
        ),
    ],
    ids=["empty-name", "slash", "digest-length", "unsorted"],
)
def test_invalid_directories_rejected(
    directory_service: DirectoryService, broken: Directory
) -> None:
    with pytest.raises(InvalidRequestError, match="failed validation"):
        directory_service.put(broken)
    assert directory_service.get(digest_of(broken)) is None


def test_put_multiple_and_get_recursive(directory_service: DirectoryService) -> None:
    with directory_service.put_multiple() as putter:
        putter.put(DIRECTORY_A)
        putter.put(DIRECTORY_B)
        assert putter.close() == digest_of(DIRECTORY_B)
    assert directory_service.get(digest_of(DIRECTORY_B)) == DIRECTORY_B
    assert list(directory_service.get_recursive(digest_of(DIRECTORY_B))) == [
        DIRECTORY_B,
        DIRECTORY_A,
    ]


def test_put_multiple_out_of_order_fails(directory_service: DirectoryService) -> None:
    putter = directory_service.put_multiple()
    with pytest.raises(InvalidRequestError, match="not seen yet"):
        # a remote putter may only notice at close
        putter.put(DIRECTORY_B)
        putter.put(DIRECTORY_A)
        putter.close()
    putter.abort()
    assert directory_service.get(digest_of(DIRECTORY_B)) is None


def test_put_multiple_empty_fails(directory_service: DirectoryService) -> None:
    putter = directory_service.put_multiple()
    with pytest.raises(InvalidRequestError, match="no directories"):
        putter.close()


def test_putter_closed_twice(directory_service: DirectoryService) -> None:
    putter = directory_service.put_multiple()
    putter.put(DIRECTORY_A)
    putter.close()
    assert putter.is_closed
    with pytest.raises(InvalidRequestError, match="already closed"):
        putter.put(DIRECTORY_A)
    with pytest.raises(InvalidRequestError, match="already closed"):
        putter.close()


def test_aborted_putter_stores_nothing(directory_service: DirectoryService) -> None:
    with pytest.raises(RuntimeError), directory_service.put_multiple() as putter:
        putter.put(DIRECTORY_WITH_KEEP)
        putter.put(DIRECTORY_COMPLICATED)
        raise RuntimeError("caller failed")
    assert directory_service.get(digest_of(DIRECTORY_COMPLICATED)) is None
    assert directory_service.get(digest_of(DIRECTORY_WITH_KEEP)) is None


def test_shared_subtrees_are_sent_once(directory_service: DirectoryService) -> None:
    with directory_service.put_multiple() as putter:
        putter.put(DIRECTORY_A)
        putter.put(DIRECTORY_A)  # a dumb client sending A twice
        putter.put(DIRECTORY_C)
        assert putter.close() == digest_of(DIRECTORY_C)
    assert list(directory_service.get_recursive(digest_of(DIRECTORY_C))) == [
        DIRECTORY_C,
        DIRECTORY_A,
    ]


def test_get_recursive_is_breadth_first_and_deduplicated(
    directory_service: DirectoryService,
) -> None:
    leaf = Directory(files=[FileNode(name=b"f", digest=DUMMY_DIGEST, size=1)])
    leaf_node = DirectoryNode(digest=digest_of(leaf), size=directory_size(leaf))
    middle_1 = Directory(
        directories=[DirectoryNode(name=b"x", digest=leaf_node.digest, size=leaf_node.size)]
    )
    middle_2 = Directory(
        directories=[DirectoryNode(name=b"y", digest=leaf_node.digest, size=leaf_node.size)],
        symlinks=[SymlinkNode(name=b"z", target=b"t")],
    )
    root = Directory(
        directories=[
            DirectoryNode(name=b"m1", digest=digest_of(middle_1), size=directory_size(middle_1)),
            DirectoryNode(name=b"m2", digest=digest_of(middle_2), size=directory_size(middle_2)),
            DirectoryNode(name=b"m3", digest=digest_of(leaf), size=directory_size(leaf)),
        ]
    )
    with directory_service.put_multiple() as putter:
        for d in (leaf, middle_1, middle_2, root):
            putter.put(d)
    got = list(directory_service.get_recursive(digest_of(root)))
    assert got == [root, middle_1, middle_2, leaf]
    assert directory_size(root) == 3 + 2 + 3 + 1


def test_get_recursive_missing_root(directory_service: DirectoryService) -> None:
    with pytest.raises(NotFoundError):
        list(directory_service.get_recursive(digest_of(DIRECTORY_B)))


def test_descend_to(directory_service: DirectoryService) -> None:
    """Port of the reference's traverse.rs test."""
    with directory_service.put_multiple() as putter:
        putter.put(DIRECTORY_WITH_KEEP)
        putter.put(DIRECTORY_COMPLICATED)
    root = DirectoryNode(
        name=b"doesntmatter",
        digest=digest_of(DIRECTORY_COMPLICATED),
        size=directory_size(DIRECTORY_COMPLICATED),
    )
    keep_dir = DIRECTORY_COMPLICATED.directories[0]
    keep_file = DIRECTORY_WITH_KEEP.files[0]
    assert descend_to(directory_service, root, "") == root
    assert descend_to(directory_service, root, "keep") == keep_dir
    assert descend_to(directory_service, root, "keep/.keep") == keep_file
    assert descend_to(directory_service, root, "/keep/.keep") == keep_file
    assert descend_to(directory_service, root, "void") is None
    assert descend_to(directory_service, root, "//v/oid") is None
    assert descend_to(directory_service, root, "keep/.keep/foo") is None
    assert descend_to(directory_service, root, "/") == root
    assert descend_to(directory_service, root, b"aa") == DIRECTORY_COMPLICATED.symlinks[0]
    assert [(p, n.name) for p, n in walk(directory_service, root)] == [
        (b"", b"doesntmatter"),
        (b".keep", b".keep"),
        (b"aa", b"aa"),
        (b"keep", b"keep"),
        (b"keep/.keep", b".keep"),
    ]


def test_concurrent_graph_uploads(directory_service: DirectoryService) -> None:
    errors: list[BaseException] = []
    roots: list[B3Digest] = []

    def upload(i: int) -> None:
        try:
            leaf = Directory(symlinks=[SymlinkNode(name=b"l%d" % i, target=b"t")])
            parent = Directory(
                directories=[
                    DirectoryNode(name=b"a", digest=digest_of(DIRECTORY_A), size=0),
                    DirectoryNode(name=b"leaf", digest=digest_of(leaf), size=1),
                ]
            )
            with directory_service.put_multiple() as putter:
                putter.put(DIRECTORY_A)
                putter.put(leaf)
                putter.put(parent)
                roots.append(putter.close())
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(roots)) == 8
    for root in roots:
        assert len(list(directory_service.get_recursive(root))) == 3
