"""Directory digests, sizes, validation and iteration: the reference's vectors plus properties."""

from __future__ import annotations

import pytest
from castore_fixtures import (
    DIRECTORY_A,
    DIRECTORY_B,
    DIRECTORY_C,
    DIRECTORY_COMPLICATED,
    DIRECTORY_WITH_KEEP,
    DUMMY_DIGEST,
)
from hypothesis import given
from hypothesis import strategies as st
from tvix_castore import (
    B3Digest,
    Directory,
    DirectoryNode,
    DirectoryValidationError,
    DuplicateNameError,
    FileNode,
    InvalidDigestLengthError,
    InvalidNameError,
    InvalidRequestError,
    InvalidSymlinkTargetError,
    Node,
    SymlinkNode,
    WrongSortingError,
    decode_directory,
    directory_digest,
    directory_size,
    encode_directory,
    find_child,
    iter_nodes,
    node_from_proto,
    node_kind,
    node_to_proto,
    rename_node,
    validate_directory,
    validate_node,
)

EMPTY_DIRECTORY_DIGEST = bytes.fromhex(
    "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
)


def test_empty_directory_digest_matches_reference() -> None:
    assert directory_digest(Directory()) == EMPTY_DIRECTORY_DIGEST
    assert str(directory_digest(Directory())) == "b3:rxNJufX5oaagQE3qNtzJSZvLJcmtwRK3zJqTyuQfMmI="


def test_fixture_digests_are_stable() -> None:
    # blake3 over the canonical (prost / Go deterministic) encoding of each fixture.
    assert encode_directory(DIRECTORY_WITH_KEEP) == (
        b"\x12\x29\x0a\x05.keep\x12\x20" + bytes(directory_digest(Directory()))
    )
    assert (
        str(directory_digest(DIRECTORY_WITH_KEEP))
        == "b3:i1tdZCtka7jtUEsIYsOUE+h+V0kUl9570HWVP3uDgQ4="
    )
    assert (
        str(directory_digest(DIRECTORY_COMPLICATED))
        == "b3:P5UaFa/VhvsxIe9NE9WC6BHODlp/IcBJf9h0kOniNVo="
    )
    assert encode_directory(DIRECTORY_B) == b"\x0a\x25\x0a\x01a\x12\x20" + EMPTY_DIRECTORY_DIGEST
    assert directory_size(DIRECTORY_COMPLICATED) == 4
    assert directory_size(DIRECTORY_C) == 2


def test_default_values_are_omitted_from_the_encoding() -> None:
    node = FileNode(name=b"x", digest=DUMMY_DIGEST, size=0, executable=False)
    assert encode_directory(Directory(files=[node])) == b"\x12\x25\x0a\x01x\x12\x20" + bytes(32)
    node.executable = True
    node.size = 5
    assert encode_directory(Directory(files=[node])) == (
        b"\x12\x29\x0a\x01x\x12\x20" + bytes(32) + b"\x18\x05\x20\x01"
    )


@pytest.mark.parametrize(
    ("directory", "size"),
    [
        (Directory(), 0),
        (Directory(directories=[DirectoryNode(name=b"foo", digest=DUMMY_DIGEST, size=0)]), 1),
        (Directory(directories=[DirectoryNode(name=b"foo", digest=DUMMY_DIGEST, size=4)]), 5),
        (Directory(files=[FileNode(name=b"foo", digest=DUMMY_DIGEST, size=42)]), 1),
        (Directory(symlinks=[SymlinkNode(name=b"foo", target=b"bar")]), 1),
    ],
)
def test_size(directory: Directory, size: int) -> None:
    assert directory_size(directory) == size


def test_validate_empty() -> None:
    validate_directory(Directory())


@pytest.mark.parametrize(
    "directory",
    [
        Directory(directories=[DirectoryNode(name=b"", digest=DUMMY_DIGEST, size=42)]),
        Directory(directories=[DirectoryNode(name=b".", digest=DUMMY_DIGEST, size=42)]),
        Directory(files=[FileNode(name=b"..", digest=DUMMY_DIGEST, size=42)]),
        Directory(symlinks=[SymlinkNode(name=b"\x00", target=b"foo")]),
        Directory(symlinks=[SymlinkNode(name=b"foo/bar", target=b"foo")]),
    ],
    ids=["empty", "dot", "dotdot", "nul", "slash"],
)
def test_validate_invalid_names(directory: Directory) -> None:
    with pytest.raises(InvalidNameError) as info:
        validate_directory(directory)
    expected = next(iter_nodes(directory)).name
    assert info.value.name == expected
    assert repr(expected) in str(info.value)


def test_validate_invalid_digest() -> None:
    directory = Directory(directories=[DirectoryNode(name=b"foo", digest=b"\x00\x42", size=42)])
    with pytest.raises(InvalidDigestLengthError) as info:
        validate_directory(directory)
    assert info.value.length == 2
    assert str(info.value) == "invalid digest length: 2 (expected 32 bytes)"


def test_validate_file_digest_length() -> None:
    with pytest.raises(InvalidDigestLengthError):
        validate_directory(Directory(files=[FileNode(name=b"f", digest=b"", size=0)]))


def test_validate_sorting() -> None:
    b_then_a = Directory(
        directories=[
            DirectoryNode(name=b"b", digest=DUMMY_DIGEST, size=42),
            DirectoryNode(name=b"a", digest=DUMMY_DIGEST, size=42),
        ]
    )
    with pytest.raises(WrongSortingError) as sorting:
        validate_directory(b_then_a)
    assert sorting.value.name == b"a"
    assert str(sorting.value) == "'a' is not sorted"

    a_twice = Directory(
        directories=[
            DirectoryNode(name=b"a", digest=DUMMY_DIGEST, size=42),
            DirectoryNode(name=b"a", digest=DUMMY_DIGEST, size=42),
        ]
    )
    with pytest.raises(DuplicateNameError) as duplicate:
        validate_directory(a_twice)
    assert duplicate.value.name == b"a"

    validate_directory(
        Directory(
            directories=[
                DirectoryNode(name=b"a", digest=DUMMY_DIGEST, size=42),
                DirectoryNode(name=b"b", digest=DUMMY_DIGEST, size=42),
            ]
        )
    )
    # [b, c] and [a] are each sorted: sorting is per list.
    validate_directory(
        Directory(
            directories=[
                DirectoryNode(name=b"b", digest=DUMMY_DIGEST, size=42),
                DirectoryNode(name=b"c", digest=DUMMY_DIGEST, size=42),
            ],
            symlinks=[SymlinkNode(name=b"a", target=b"foo")],
        )
    )


def test_names_unique_across_lists() -> None:
    directory = Directory(
        directories=[DirectoryNode(name=b"x", digest=DUMMY_DIGEST, size=0)],
        files=[FileNode(name=b"x", digest=DUMMY_DIGEST, size=0)],
    )
    with pytest.raises(DuplicateNameError, match="'x' is a duplicate name"):
        validate_directory(directory)


@pytest.mark.parametrize("target", [b"", b"a\x00b"])
def test_invalid_symlink_targets(target: bytes) -> None:
    with pytest.raises(InvalidSymlinkTargetError):
        validate_directory(Directory(symlinks=[SymlinkNode(name=b"l", target=target)]))


def test_size_overflow_is_rejected() -> None:
    directory = Directory(
        directories=[
            DirectoryNode(name=b"a", digest=DUMMY_DIGEST, size=(1 << 32) - 1),
            DirectoryNode(name=b"b", digest=DUMMY_DIGEST, size=5),
        ]
    )
    with pytest.raises(DirectoryValidationError, match="overflows"):
        validate_directory(directory)


def test_validation_errors_are_invalid_requests() -> None:
    assert issubclass(DirectoryValidationError, InvalidRequestError)
    assert issubclass(InvalidDigestLengthError, InvalidRequestError)


def test_nodes_iterator_merges_lists_by_name() -> None:
    directory = Directory(
        directories=[DirectoryNode(name=n) for n in (b"c", b"d", b"h", b"l")],
        files=[FileNode(name=n) for n in (b"b", b"e", b"g", b"j")],
        symlinks=[SymlinkNode(name=n) for n in (b"a", b"f", b"i", b"k")],
    )
    assert [n.name.decode() for n in iter_nodes(directory)] == list("abcdefghijkl")
    assert [node_kind(n) for n in iter_nodes(directory)][:3] == ["symlink", "file", "directory"]


def test_find_child() -> None:
    assert find_child(DIRECTORY_COMPLICATED, b"keep") == DIRECTORY_COMPLICATED.directories[0]
    assert find_child(DIRECTORY_COMPLICATED, b"aa") == DIRECTORY_COMPLICATED.symlinks[0]
    assert find_child(DIRECTORY_COMPLICATED, b".keep") == DIRECTORY_COMPLICATED.files[0]
    assert find_child(DIRECTORY_COMPLICATED, b"nope") is None


def test_node_proto_round_trip_and_rename() -> None:
    for node in (
        DIRECTORY_B.directories[0],
        DIRECTORY_WITH_KEEP.files[0],
        DIRECTORY_COMPLICATED.symlinks[0],
    ):
        assert node_from_proto(node_to_proto(node)) == node
        renamed = rename_node(node, b"other")
        assert renamed.name == b"other"
        assert node.name != b"other"
    with pytest.raises(InvalidRequestError, match="node is not set"):
        node_from_proto(Node())


def test_validate_node() -> None:
    validate_node(DIRECTORY_B.directories[0])
    with pytest.raises(InvalidDigestLengthError):
        validate_node(FileNode(name=b"f", digest=b"x"))
    with pytest.raises(InvalidNameError):
        validate_node(SymlinkNode(name=b"a/b", target=b"x"))
    validate_node(SymlinkNode(name=b"", target=b"x"), check_name=False)


def test_decode_drops_unknown_fields_and_rejects_garbage() -> None:
    encoded = encode_directory(DIRECTORY_A) + b"\x50\x01"  # field 10, varint 1
    decoded = decode_directory(encoded)
    assert directory_digest(decoded) == directory_digest(DIRECTORY_A)
    with pytest.raises(InvalidRequestError, match="malformed Directory"):
        decode_directory(b"\x0a\xff")


def test_blob_digest_vector_from_reference() -> None:
    # nar-bridge importer_test.go: BLAKE3_DIGEST_0X01
    assert B3Digest.of(b"\x01").hex() == (
        "48fc721fbbc172e0925fa27af1671de225ba927134802998b10a1568a188652b"
    )


def test_b3digest() -> None:
    digest = B3Digest(EMPTY_DIRECTORY_DIGEST)
    assert B3Digest.parse(str(digest)) == digest
    assert B3Digest.parse(digest.hex()) == digest
    assert repr(digest) == "B3Digest('b3:rxNJufX5oaagQE3qNtzJSZvLJcmtwRK3zJqTyuQfMmI=')"
    assert {digest: 1}[EMPTY_DIRECTORY_DIGEST] == 1
    with pytest.raises(InvalidDigestLengthError):
        B3Digest(b"short")
    with pytest.raises(InvalidRequestError, match="not a blake3 digest"):
        B3Digest.parse("b3:notbase64!")
    with pytest.raises(InvalidRequestError, match="invalid digest length: 3"):
        B3Digest.parse("b3:AAAA")


# --- properties -------------------------------------------------------------

names = st.binary(min_size=1, max_size=12).filter(
    lambda n: b"/" not in n and b"\x00" not in n and n not in (b".", b"..")
)
digests = st.binary(min_size=32, max_size=32)


@st.composite
def directories(draw: st.DrawFn) -> Directory:
    chosen = sorted(draw(st.sets(names, max_size=12)))
    kinds = draw(st.lists(st.sampled_from("dfs"), min_size=len(chosen), max_size=len(chosen)))
    directory = Directory()
    for name, kind in zip(chosen, kinds, strict=True):
        if kind == "d":
            directory.directories.append(
                DirectoryNode(name=name, digest=draw(digests), size=draw(st.integers(0, 1000)))
            )
        elif kind == "f":
            directory.files.append(
                FileNode(
                    name=name,
                    digest=draw(digests),
                    size=draw(st.integers(0, (1 << 32) - 1)),
                    executable=draw(st.booleans()),
                )
            )
        else:
            directory.symlinks.append(
                SymlinkNode(
                    name=name, target=draw(st.binary(min_size=1).filter(lambda t: b"\x00" not in t))
                )
            )
    return directory


@given(directories())
def test_valid_directories_round_trip(directory: Directory) -> None:
    validate_directory(directory)
    decoded = decode_directory(encode_directory(directory))
    assert decoded == directory
    assert directory_digest(decoded) == directory_digest(directory)
    names_in_order = [n.name for n in iter_nodes(directory)]
    assert names_in_order == sorted(names_in_order)
    assert all(find_child(directory, n) is not None for n in names_in_order)


@given(directories(), st.data())
def test_swapping_two_entries_of_a_list_breaks_sorting(
    directory: Directory, data: st.DataObject
) -> None:
    lists = [
        lst for lst in (directory.directories, directory.files, directory.symlinks) if len(lst) >= 2
    ]
    if not lists:
        return
    lst = data.draw(st.sampled_from(lists))
    first, second = lst[0].__class__(), lst[1].__class__()
    first.CopyFrom(lst[1])
    second.CopyFrom(lst[0])
    lst[0].CopyFrom(first)
    lst[1].CopyFrom(second)
    with pytest.raises(WrongSortingError):
        validate_directory(directory)
