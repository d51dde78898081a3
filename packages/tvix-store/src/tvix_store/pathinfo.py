"""PathInfo: what the store knows about one store path, and the rules it must obey.

A PathInfo joins a castore root node (named ``<nixbase32 digest>-<name>``) with
the store path's references and its NARInfo (NAR size and sha256, signatures,
reference names, deriver, content address). :func:`validate_path_info` checks
it in the reference's order and returns the store path it describes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from nix_compat.errors import NixCompatError
from nix_compat.nixhash import CAHash, FlatHash, HashAlgo, NarHash, NixHash, TextHash
from nix_compat.signing import Signature
from nix_compat.store_path import DIGEST_SIZE, StorePath
from tvix_castore.directory import (
    ChildNode,
    DirectoryNode,
    FileNode,
    node_from_proto,
    node_to_proto,
)
from tvix_castore.errors import InvalidRequestError, StorageError

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
from tvix_store.proto.pathinfo_pb2 import NARInfo, PathInfo
from tvix_store.proto.pathinfo_pb2 import StorePath as StorePathProto

__all__ = [
    "NARInfo",
    "PathInfo",
    "PathInfoSummary",
    "build_path_info",
    "ca_from_proto",
    "ca_to_proto",
    "decode_path_info",
    "encode_path_info",
    "path_info_root_node",
    "summarize",
    "validate_path_info",
]

B3_LEN = 32

_CA = NARInfo.CA
_CA_TYPES: dict[tuple[str, HashAlgo], int] = {
    ("recursive", HashAlgo.SHA256): _CA.NAR_SHA256,
    ("recursive", HashAlgo.SHA1): _CA.NAR_SHA1,
    ("recursive", HashAlgo.SHA512): _CA.NAR_SHA512,
    ("recursive", HashAlgo.MD5): _CA.NAR_MD5,
    ("text", HashAlgo.SHA256): _CA.TEXT_SHA256,
    ("flat", HashAlgo.SHA1): _CA.FLAT_SHA1,
    ("flat", HashAlgo.MD5): _CA.FLAT_MD5,
    ("flat", HashAlgo.SHA256): _CA.FLAT_SHA256,
    ("flat", HashAlgo.SHA512): _CA.FLAT_SHA512,
}
_CA_FROM_TYPE = {value: key for key, value in _CA_TYPES.items()}


def validate_path_info(info: PathInfo) -> StorePath:
    """Check ``info`` and return the store path named by its root node.

    Checks, in order: references are 20 bytes; with a narinfo, as many
    reference names as references, each a store path base name whose digest is
    the reference at the same position, a valid deriver and content address;
    a root node is present; a directory or file root has a 32-byte digest; the
    root's name is a store path base name.
    """
    for i, reference in enumerate(info.references):
        if len(reference) != DIGEST_SIZE:
            raise InvalidReferenceDigestLenError(i, len(reference))
    if info.HasField("narinfo"):
        _validate_narinfo(info)
    if not info.HasField("node") or info.node.WhichOneof("node") is None:
        raise NoNodePresentError()
    node = node_from_proto(info.node)
    if isinstance(node, DirectoryNode | FileNode) and len(node.digest) != B3_LEN:
        raise InvalidNodeDigestLenError(len(node.digest))
    try:
        return StorePath.from_basename(node.name)
    except NixCompatError as e:
        raise InvalidNodeNameError(node.name, str(e)) from None


def _validate_narinfo(info: PathInfo) -> None:
    narinfo = info.narinfo
    if len(narinfo.reference_names) != len(info.references):
        raise InconsistentNumberOfReferencesError(
            len(info.references), len(narinfo.reference_names)
        )
    for i, name in enumerate(narinfo.reference_names):
        try:
            store_path = StorePath.from_basename(name)
        except NixCompatError:
            raise InvalidNarinfoReferenceNameError(i, name) from None
        if store_path.digest != info.references[i]:
            raise InconsistentNarinfoReferenceNameDigestError(
                i, bytes(info.references[i]), store_path.digest
            )
    if narinfo.HasField("deriver"):
        try:
            StorePath(bytes(narinfo.deriver.digest), narinfo.deriver.name)
        except NixCompatError as e:
            raise InvalidDeriverError(str(e)) from None
    if narinfo.HasField("ca"):
        try:
            ca_from_proto(narinfo.ca)
        except (NixCompatError, InvalidRequestError) as e:
            raise InvalidContentAddressError(str(e)) from None


def path_info_root_node(info: PathInfo) -> ChildNode:
    """The root node of a (validated) PathInfo."""
    return node_from_proto(info.node)


def ca_to_proto(ca: CAHash) -> NARInfo.CA:
    """The protobuf form of a content address."""
    return _CA(type=_CA_TYPES[(ca.mode, ca.hash.algo)], digest=ca.hash.digest)  # type: ignore[arg-type]


def ca_from_proto(ca: NARInfo.CA) -> CAHash:
    """The content address a protobuf CA message describes; a bad type or digest is invalid."""
    key = _CA_FROM_TYPE.get(ca.type)
    if key is None:
        raise InvalidRequestError(f"unknown content address type {ca.type}")
    mode, algo = key
    nix_hash = NixHash(algo, bytes(ca.digest))
    if mode == "recursive":
        return NarHash(nix_hash)
    if mode == "flat":
        return FlatHash(nix_hash)
    return TextHash(nix_hash.digest)


def build_path_info(
    node: ChildNode,
    nar_size: int,
    nar_sha256: bytes,
    *,
    references: Iterable[StorePath] = (),
    signatures: Iterable[Signature] = (),
    deriver: StorePath | None = None,
    ca: CAHash | None = None,
) -> PathInfo:
    """A PathInfo for a root node already named after its store path, with a full narinfo.

    References are sorted by their base names, as Nix lists them.
    """
    refs = sorted(set(references))
    narinfo = NARInfo(
        nar_size=nar_size,
        nar_sha256=nar_sha256,
        signatures=[NARInfo.Signature(name=s.key_name, data=s.data) for s in signatures],
        reference_names=[str(ref) for ref in refs],
    )
    if deriver is not None:
        narinfo.deriver.CopyFrom(StorePathProto(name=deriver.name, digest=deriver.digest))
    if ca is not None:
        narinfo.ca.CopyFrom(ca_to_proto(ca))
    return PathInfo(
        node=node_to_proto(node), references=[ref.digest for ref in refs], narinfo=narinfo
    )


def encode_path_info(info: PathInfo) -> bytes:
    """The deterministic protobuf encoding, as stored by the embedded backends."""
    return info.SerializeToString(deterministic=True)


def decode_path_info(data: bytes, where: str = "the store") -> PathInfo:
    """Parse a stored PathInfo; a record that does not parse is a StorageError."""
    info = PathInfo()
    try:
        info.ParseFromString(data)
    except DecodeError as e:
        raise StorageError(f"corrupt PathInfo record in {where}: {e}") from None
    return info


@dataclass(frozen=True)
class PathInfoSummary:
    """The narinfo-level facts of a PathInfo in Nix's own types, for display."""

    store_path: StorePath
    nar_hash: NixHash | None
    nar_size: int | None
    references: tuple[StorePath, ...]
    signatures: tuple[Signature, ...]
    deriver: StorePath | None
    ca: CAHash | None


def summarize(info: PathInfo) -> PathInfoSummary:
    """Validate ``info`` and convert its facts to nix_compat types."""
    store_path = validate_path_info(info)
    if not info.HasField("narinfo"):
        return PathInfoSummary(store_path, None, None, (), (), None, None)
    narinfo = info.narinfo
    nar_hash = (
        NixHash(HashAlgo.SHA256, bytes(narinfo.nar_sha256))
        if len(narinfo.nar_sha256) == HashAlgo.SHA256.digest_size
        else None
    )
    return PathInfoSummary(
        store_path=store_path,
        nar_hash=nar_hash,
        nar_size=narinfo.nar_size,
        references=tuple(StorePath.from_basename(name) for name in narinfo.reference_names),
        signatures=tuple(Signature(s.name, bytes(s.data)) for s in narinfo.signatures),
        deriver=(
            StorePath(bytes(narinfo.deriver.digest), narinfo.deriver.name)
            if narinfo.HasField("deriver")
            else None
        ),
        ca=ca_from_proto(narinfo.ca) if narinfo.HasField("ca") else None,
    )
