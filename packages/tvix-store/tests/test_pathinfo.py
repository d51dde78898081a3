"""PathInfo validation: the reference's matrix, plus the deriver and CA extensions."""

from __future__ import annotations

import pytest
from nix_compat.nixhash import FlatHash, HashAlgo, NarHash, NixHash, TextHash
from nix_compat.signing import Signature
from nix_compat.store_path import StorePath
from tvix_castore.directory import DirectoryNode, FileNode, Node, SymlinkNode, node_to_proto
from tvix_store.errors import (
    InconsistentNarinfoReferenceNameDigestError,
    InconsistentNumberOfReferencesError,
    InvalidContentAddressError,
    InvalidDeriverError,
    InvalidNarinfoReferenceNameError,
    InvalidNodeDigestLenError,
    InvalidNodeNameError,
    InvalidReferenceDigestLenError,
    NoNodePresentError,
)
from tvix_store.pathinfo import (
    NARInfo,
    PathInfo,
    build_path_info,
    ca_from_proto,
    ca_to_proto,
    decode_path_info,
    encode_path_info,
    summarize,
    validate_path_info,
)

from .fixtures import (
    DUMMY_DIGEST,
    DUMMY_NAME,
    DUMMY_OUTPUT_HASH,
    path_info_with_narinfo,
    path_info_without_narinfo,
)

DUMMY_PATH = StorePath.from_basename(DUMMY_NAME)


@pytest.mark.parametrize("node", [None, Node()], ids=["no node", "no node 2"])
def test_validate_no_node(node: Node | None) -> None:
    info = PathInfo() if node is None else PathInfo(node=node)
    with pytest.raises(NoNodePresentError, match=r"^No node present$"):
        validate_path_info(info)


def _with_root(node: DirectoryNode | FileNode | SymlinkNode) -> PathInfo:
    return PathInfo(node=node_to_proto(node))


@pytest.mark.parametrize(
    "make",
    [
        lambda name, digest: DirectoryNode(name=name, digest=digest, size=0),
        lambda name, digest: FileNode(name=name, digest=digest, size=0),
    ],
    ids=["directory", "file"],
)
class TestDigestNodes:
    def test_ok(self, make) -> None:  # type: ignore[no-untyped-def]
        assert validate_path_info(_with_root(make(DUMMY_NAME.encode(), DUMMY_DIGEST))) == DUMMY_PATH

    def test_invalid_digest_length(self, make) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(InvalidNodeDigestLenError) as e:
            validate_path_info(_with_root(make(DUMMY_NAME.encode(), b"")))
        assert e.value.length == 0
        assert str(e.value) == "Invalid Digest length: expected 32, got 0"

    def test_invalid_node_name(self, make) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(InvalidNodeNameError) as e:
            validate_path_info(_with_root(make(b"invalid", DUMMY_DIGEST)))
        assert e.value.name == b"invalid"
        assert str(e.value).startswith("Failed to parse b'invalid' as StorePath: ")


def test_symlink_ok() -> None:
    info = _with_root(SymlinkNode(name=DUMMY_NAME.encode(), target=b"/x"))
    assert validate_path_info(info) == DUMMY_PATH


def test_symlink_invalid_node_name() -> None:
    with pytest.raises(InvalidNodeNameError) as e:
        validate_path_info(_with_root(SymlinkNode(name=b"invalid", target=b"/x")))
    assert e.value.name == b"invalid"


def test_references_without_narinfo_ok() -> None:
    assert validate_path_info(path_info_without_narinfo()) == DUMMY_PATH


def test_references_with_narinfo_ok() -> None:
    assert validate_path_info(path_info_with_narinfo()) == DUMMY_PATH


def test_inconsistent_num_refs_fail() -> None:
    info = path_info_with_narinfo()
    del info.narinfo.reference_names[:]
    with pytest.raises(InconsistentNumberOfReferencesError) as e:
        validate_path_info(info)
    assert (e.value.references, e.value.reference_names) == (1, 0)
    assert str(e.value) == "Inconsistent Number of References: 1 (references) vs 0 (narinfo)"


def test_invalid_reference_digest_len() -> None:
    info = path_info_without_narinfo()
    info.references.append(b"\xff\xff")
    with pytest.raises(InvalidReferenceDigestLenError) as e:
        validate_path_info(info)
    assert (e.value.position, e.value.length) == (1, 2)
    assert str(e.value) == "Invalid length of digest at position 1, expected 20, got 2"


def test_invalid_narinfo_reference_name() -> None:
    info = path_info_with_narinfo()
    info.narinfo.reference_names[0] = "/nix/store/" + DUMMY_NAME
    with pytest.raises(InvalidNarinfoReferenceNameError) as e:
        validate_path_info(info)
    assert e.value.position == 0
    assert e.value.name == "/nix/store/00000000000000000000000000000000-dummy"


def test_inconsistent_narinfo_reference_name_digest() -> None:
    info = path_info_with_narinfo()
    info.references[0] = b"\xff" * 20
    with pytest.raises(InconsistentNarinfoReferenceNameDigestError) as e:
        validate_path_info(info)
    assert e.value.position == 0
    assert e.value.expected == b"\xff" * 20
    assert e.value.actual == DUMMY_OUTPUT_HASH


def test_references_checked_before_node() -> None:
    info = PathInfo(references=[b"x"])
    with pytest.raises(InvalidReferenceDigestLenError):
        validate_path_info(info)


def test_invalid_deriver() -> None:
    info = path_info_with_narinfo()
    info.narinfo.deriver.name = "foo.drv"
    info.narinfo.deriver.digest = b"short"
    with pytest.raises(InvalidDeriverError):
        validate_path_info(info)


def test_invalid_ca_digest() -> None:
    info = path_info_with_narinfo()
    info.narinfo.ca.type = NARInfo.CA.FLAT_MD5
    info.narinfo.ca.digest = bytes(32)
    with pytest.raises(InvalidContentAddressError):
        validate_path_info(info)


@pytest.mark.parametrize(
    "ca",
    [
        NarHash(NixHash(HashAlgo.SHA256, bytes(range(32)))),
        NarHash(NixHash(HashAlgo.SHA1, bytes(20))),
        FlatHash(NixHash(HashAlgo.MD5, bytes(16))),
        FlatHash(NixHash(HashAlgo.SHA512, bytes(64))),
        TextHash(bytes(32)),
    ],
)
def test_ca_round_trip(ca: NarHash | FlatHash | TextHash) -> None:
    assert ca_from_proto(ca_to_proto(ca)) == ca


def test_build_and_summarize() -> None:
    ref_b = StorePath(b"\x01" * 20, "b")
    ref_a = StorePath(b"\x02" * 20, "a")
    deriver = StorePath(b"\x03" * 20, "foo.drv")
    ca = NarHash(NixHash(HashAlgo.SHA256, bytes(32)))
    sig = Signature("cache.example.org-1", bytes(64))
    node = SymlinkNode(name=DUMMY_NAME.encode(), target=b"/nix/store/x")
    info = build_path_info(
        node,
        120,
        bytes(32),
        references=[ref_b, ref_a, ref_b],
        signatures=[sig],
        deriver=deriver,
        ca=ca,
    )
    assert list(info.narinfo.reference_names) == sorted([str(ref_a), str(ref_b)])
    assert decode_path_info(encode_path_info(info)) == info
    summary = summarize(info)
    assert summary.store_path == DUMMY_PATH
    assert summary.references == tuple(sorted([ref_a, ref_b]))
    assert summary.deriver == deriver
    assert summary.ca == ca
    assert summary.signatures == (sig,)
    assert summary.nar_size == 120
