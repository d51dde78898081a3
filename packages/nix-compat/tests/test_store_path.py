"""Store paths: the reference's parsing and building vectors, Nix's name rules, round trips."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nix_compat import nixbase32
from nix_compat.errors import NixCompatError
from nix_compat.nixhash import FlatHash, HashAlgo, NarHash, NixHash, TextHash
from nix_compat.store_path import (
    DIGEST_SIZE,
    ENCODED_DIGEST_SIZE,
    MAX_NAME_LEN,
    STORE_DIR,
    StorePath,
    StorePathError,
    build_ca_path,
    build_nar_based_store_path,
    build_output_path,
    build_text_path,
    compress_hash,
    hash_placeholder,
    is_canonical_absolute_path,
    validate_name,
)

NET_TOOLS = "00bgd045z0d4icpbc2yyz4gx48ak44la-net-tools-1.60_p20170221182432"
NET_TOOLS_DIGEST = bytes.fromhex("8a12321522fd91efbd60ebb2481af88580f61600")

# Paths printed by C++ Nix 2.8 for the 3-byte file "bar" (`nix-store --add-fixed …`), and the
# NAR hashes `nix-hash` gives for it.
BAR = b"bar"
BAR_NAR_SHA256 = "1xngcmsdkdvaycaqjfzvq4gr3gib56p2l8illglnsqzhpss47pxz"
BAR_NAR_MD5 = "332c22b561bdfd93d74519d5562813dd"


def flat(algo: HashAlgo, data: bytes) -> FlatHash:
    return FlatHash(NixHash.hash_bytes(algo, data))


def test_encoded_digest_size() -> None:
    assert nixbase32.encoded_len(DIGEST_SIZE) == ENCODED_DIGEST_SIZE
    assert STORE_DIR == "/nix/store"


def test_parse_happy_path() -> None:
    path = StorePath.from_basename(NET_TOOLS)
    assert path.name == "net-tools-1.60_p20170221182432"
    assert path.digest == NET_TOOLS_DIGEST
    assert str(path) == NET_TOOLS
    assert path.hash_part == "00bgd045z0d4icpbc2yyz4gx48ak44la"
    assert StorePath.from_basename(NET_TOOLS.encode()) == path
    assert StorePath(NET_TOOLS_DIGEST, "net-tools-1.60_p20170221182432") == path
    assert StorePath(NET_TOOLS_DIGEST, b"net-tools-1.60_p20170221182432") == path  # type: ignore[arg-type]


def test_absolute_path() -> None:
    expected = StorePath.from_basename(NET_TOOLS)
    actual = StorePath.from_absolute_path(f"/nix/store/{NET_TOOLS}")
    assert actual == expected
    assert actual.to_absolute_path() == f"/nix/store/{NET_TOOLS}"
    assert StorePath.from_absolute_path(f"/nix/store/{NET_TOOLS}".encode()) == expected


def test_absolute_path_missing_prefix() -> None:
    with pytest.raises(StorePathError) as excinfo:
        StorePath.from_absolute_path("foobar-123")
    assert str(excinfo.value) == "path 'foobar-123' is not in the Nix store '/nix/store'"


@pytest.mark.parametrize(
    ("path", "subpath"),
    [
        (f"/nix/store/{NET_TOOLS}", ""),
        (f"/nix/store/{NET_TOOLS}/", ""),
        (f"/nix/store/{NET_TOOLS}/bin/arp", "bin/arp"),
        (f"/nix/store/{NET_TOOLS}/bin/arp/", "bin/arp"),
        (f"/nix/store/{NET_TOOLS}//bin//arp", "bin/arp"),
    ],
)
def test_from_absolute_path_full(path: str, subpath: str) -> None:
    assert StorePath.from_absolute_path_full(path) == (
        StorePath.from_basename(NET_TOOLS),
        PurePosixPath(subpath),
    )


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/nix/store/", "store path '/nix/store/' is too short"),
        ("/nix/store/foo", "store path '/nix/store/foo' is too short"),
        (NET_TOOLS, f"path {NET_TOOLS!r} is not in the Nix store '/nix/store'"),
    ],
)
def test_from_absolute_path_full_errors(path: str, message: str) -> None:
    with pytest.raises(StorePathError) as excinfo:
        StorePath.from_absolute_path_full(path)
    assert str(excinfo.value).startswith(message)


@pytest.mark.parametrize(
    ("basename", "message"),
    [
        (
            "00bgd045z0d4icpbc2yy-net-tools-1.60_p20170221182432",
            "invalid hash part of store path "
            "'00bgd045z0d4icpbc2yy-net-tools-1.60_p20170221182432': "
            "character '-' at offset 20 is not in the nixbase32 alphabet",
        ),
        (
            "00bgd045z0d4icpbc2yyz4gx48aku4la-net-tools-1.60_p20170221182432",
            "invalid hash part of store path "
            "'00bgd045z0d4icpbc2yyz4gx48aku4la-net-tools-1.60_p20170221182432': "
            "character 'u' at offset 28 is not in the nixbase32 alphabet",
        ),
        (
            f"{NET_TOOLS}/bin/arp",
            f"store path name 'net-tools-1.60_p20170221182432/bin/arp' in store path "
            f"'{NET_TOOLS}/bin/arp' contains illegal character '/' at position 63",
        ),
        (
            "00bgd045z0d4icpbc2yyz4gx48ak44lanet-tools-1.60_p20170221182432",
            "store path '00bgd045z0d4icpbc2yyz4gx48ak44lanet-tools-1.60_p20170221182432' lacks "
            "the '-' between hash and name at offset 32",
        ),
        (
            "00bgd045z0d4icpbc2yyz4gx48ak44la-",
            "store path '00bgd045z0d4icpbc2yyz4gx48ak44la-' is too short: expected 32 nixbase32 "
            "characters, '-' and a name",
        ),
    ],
)
def test_parse_rejects(basename: str, message: str) -> None:
    with pytest.raises(StorePathError) as excinfo:
        StorePath.from_basename(basename)
    assert str(excinfo.value).startswith(message)
    assert isinstance(excinfo.value, NixCompatError)


def test_parse_reports_offsets_in_absolute_path() -> None:
    with pytest.raises(StorePathError, match="character 'e' at offset 12 is not in the nixbase32"):
        StorePath.from_absolute_path(f"/nix/store/0e{NET_TOOLS[2:]}")
    with pytest.raises(StorePathError, match="illegal character ' ' at position 47"):
        StorePath.from_absolute_path(f"/nix/store/{NET_TOOLS[:33]}has space")
    with pytest.raises(StorePathError, match="lacks the '-' between hash and name at offset 43"):
        StorePath.from_absolute_path(f"/nix/store/{NET_TOOLS[:32]}_x")


def test_parse_rejects_non_ascii_bytes() -> None:
    with pytest.raises(StorePathError, match="non-ASCII byte 0xc3 at offset 34"):
        StorePath.from_basename(NET_TOOLS[:34].encode() + "é".encode())


def test_validate_name() -> None:
    allowed = "AZaz09+-._?="
    assert validate_name(allowed) == allowed
    assert validate_name(b"hello-2.12.1") == "hello-2.12.1"
    assert validate_name("x" * MAX_NAME_LEN) == "x" * MAX_NAME_LEN
    assert MAX_NAME_LEN == 211


@pytest.mark.parametrize("name", [".gitignore", ".", "..", ".-x", "..-x"])
def test_leading_dot_names_are_valid_as_in_nix_2_8(name: str) -> None:
    # C++ Nix 2.8 accepts all of these (`builtins.toFile ".-x" "a"`, `nix-store --add .hidden`).
    assert validate_name(name) == name
    path = StorePath.from_basename(f"fli4bwscgna7lpm7v5xgnjxrxh0yc7ra-{name}")
    assert path.name == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "empty store path name"),
        ("a b", "store path name 'a b' contains illegal character ' ' at position 1"),
        ("foo/bar", "store path name 'foo/bar' contains illegal character '/' at position 3"),
        ("naïve", "store path name 'naïve' contains illegal character 'ï' at position 2"),
        ("x:y", "store path name 'x:y' contains illegal character ':' at position 1"),
        ("x" * 212, f"store path name {'x' * 212!r} is 212 characters long, more than 211"),
    ],
)
def test_validate_name_rejects(name: str, message: str) -> None:
    with pytest.raises(StorePathError) as excinfo:
        validate_name(name)
    assert str(excinfo.value) == message


def test_constructor_validates() -> None:
    with pytest.raises(StorePathError, match="a store path digest has 20 bytes, got 19"):
        StorePath(NET_TOOLS_DIGEST[:19], "x")
    with pytest.raises(StorePathError, match="illegal character ' '"):
        StorePath(NET_TOOLS_DIGEST, "x y")


def test_ordering_is_by_base_name_like_cpp_nix() -> None:
    # The raw digests order the other way round: nixbase32 writes the last byte first.
    low_first_char = StorePath(b"\xff" + bytes(19), "a")
    high_first_char = StorePath(bytes(19) + b"\x01", "a")
    assert low_first_char.digest > high_first_char.digest
    assert str(low_first_char) < str(high_first_char)
    assert low_first_char < high_first_char
    assert sorted([high_first_char, low_first_char]) == [low_first_char, high_first_char]
    same_hash = [StorePath(NET_TOOLS_DIGEST, n) for n in ("b", "a-b", "a")]
    assert [p.name for p in sorted(same_hash)] == ["a", "a-b", "b"]


def test_hashable_picklable_immutable() -> None:
    path = StorePath.from_basename(NET_TOOLS)
    assert {path, StorePath.from_basename(NET_TOOLS)} == {path}
    assert pickle.loads(pickle.dumps(path)) == path
    with pytest.raises(AttributeError):
        path.name = "other"  # type: ignore[misc]


# --- building ---


def test_compress_hash() -> None:
    assert compress_hash(bytes(range(1, 5)), 2) == bytes([1 ^ 3, 2 ^ 4])
    assert compress_hash(b"\x01\x02", 4) == b"\x01\x02\x00\x00"
    digest = hashlib.sha256(b"x").digest()
    expected = bytearray(20)
    for i, byte in enumerate(digest):
        expected[i % 20] ^= byte
    assert compress_hash(digest, 20) == bytes(expected)


def test_build_text_path_with_zero_references() -> None:
    # builtins.toFile "foo" "bar"
    path = build_text_path("foo", "bar", [])
    assert path.to_absolute_path() == "/nix/store/vxjiwkjkn7x4079qvh1jkl5pn05j2aw0-foo"
    assert build_text_path("foo", b"bar") == path


def test_build_text_path_with_references() -> None:
    # builtins.toFile "baz" "${builtins.toFile "foo" "bar"}"
    inner = build_text_path("foo", "bar", []).to_absolute_path()
    outer = build_text_path("baz", inner, [inner])
    assert outer.to_absolute_path() == "/nix/store/5xd714cbfnkz02h2vbsj4fm03x3f15nf-baz"
    assert build_text_path("baz", inner, [StorePath.from_absolute_path(inner), inner]) == outer


def test_references_are_sorted_like_a_store_path_set() -> None:
    refs = [build_text_path(n, n, []).to_absolute_path() for n in ("a", "b", "c")]
    forward = build_text_path("t", "x", refs)
    assert build_text_path("t", "x", list(reversed(refs))) == forward
    assert build_text_path("t", "x", refs + refs[:1]) == forward
    assert build_text_path("t", "x", refs[:2]) != forward


def test_build_text_path_rejects_bad_input() -> None:
    with pytest.raises(StorePathError, match="is not in the Nix store"):
        build_text_path("t", "x", ["/tmp/foo"])
    with pytest.raises(StorePathError, match="illegal character '/'"):
        build_text_path("a/t", "x", [])
    with pytest.raises(StorePathError, match="cannot refer to itself"):
        build_ca_path("t", TextHash(hashlib.sha256(b"x").digest()), [], True)


def test_build_sha1_path() -> None:
    ca = NarHash(NixHash(HashAlgo.SHA1, bytes.fromhex("0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33")))
    path = build_ca_path("bar", ca, [], False)
    assert path.to_absolute_path() == "/nix/store/mp57d33657rf34lzvlbpfa1gjfv5gmpg-bar"


def test_build_store_path_with_references() -> None:
    # `nix store make-content-addressed` of the "baz" text file above
    ca = NarHash(
        NixHash(
            HashAlgo.SHA256,
            nixbase32.decode("1xqkzcb3909fp07qngljr4wcdnrh1gdam1m2n29i6hhrxlmkgkv1"),
        )
    )
    path = build_ca_path("baz", ca, ["/nix/store/dxwkwjzdaq7ka55pkk252gh32bgpmql4-foo"], False)
    assert path.to_absolute_path() == "/nix/store/s89y431zzhmdn3k8r96rvakryddkpv2v-baz"


def test_fixed_output_derivation_vector() -> None:
    # the output of derivation_tests/0hm2f1psjpcwg8fijsmr4wwxrx59s092-bar.drv
    ca = NarHash(
        NixHash(
            HashAlgo.SHA256,
            bytes.fromhex("08813cbee9903c62be4c5027726a418a300da4500b2d369d3af9286f4815ceba"),
        )
    )
    assert str(build_ca_path("bar", ca)) == "4q0pg5zpfmznxscq3avycvf9xdvx50n3-bar"


@pytest.mark.parametrize(
    ("ca", "expected"),
    [
        (
            FlatHash(NixHash.hash_bytes(HashAlgo.SHA256, BAR)),
            "v659rrnmz65wcp12fi9j7s79b20kyxwz-bar",
        ),
        (FlatHash(NixHash.hash_bytes(HashAlgo.SHA1, BAR)), "7ji4x25pqag907468i904y48n623dz86-bar"),
        (FlatHash(NixHash.hash_bytes(HashAlgo.MD5, BAR)), "c39icdmhi2faljpl5zfmy8vjpsr65q3h-bar"),
        (
            FlatHash(NixHash.hash_bytes(HashAlgo.SHA512, BAR)),
            "bnhpyvms8qx60p0ls7v7qbc5bisssm9r-bar",
        ),
        (
            NarHash(NixHash(HashAlgo.SHA256, nixbase32.decode(BAR_NAR_SHA256))),
            "2hn3fvrvs9f9xy1c65xvixn0jcmrjn27-bar",
        ),
        (
            NarHash(NixHash(HashAlgo.MD5, bytes.fromhex(BAR_NAR_MD5))),
            "l1kqgcsnw0a6bpr9y0np2x123p11i0cz-bar",
        ),
    ],
)
def test_fixed_paths_match_cpp_nix(ca: FlatHash | NarHash, expected: str) -> None:
    assert str(build_ca_path("bar", ca)) == expected


def test_nar_based_store_path() -> None:
    path = build_nar_based_store_path(nixbase32.decode(BAR_NAR_SHA256), "bar")
    assert str(path) == "2hn3fvrvs9f9xy1c65xvixn0jcmrjn27-bar"
    with pytest.raises(NixCompatError, match="a sha256 digest has 32 bytes, got 20"):
        build_nar_based_store_path(bytes(20), "bar")


def test_self_reference_changes_source_path() -> None:
    ca = NarHash(NixHash(HashAlgo.SHA256, nixbase32.decode(BAR_NAR_SHA256)))
    assert build_ca_path("bar", ca, [], True) != build_ca_path("bar", ca, [], False)
    fingerprint = f"source:self:sha256:{ca.hash.hex()}:/nix/store:bar"
    expected = compress_hash(hashlib.sha256(fingerprint.encode()).digest(), 20)
    assert build_ca_path("bar", ca, [], True).digest == expected


@pytest.mark.parametrize(
    "ca",
    [
        FlatHash(NixHash.hash_bytes(HashAlgo.SHA256, BAR)),
        NarHash(NixHash(HashAlgo.MD5, bytes.fromhex(BAR_NAR_MD5))),
    ],
)
def test_only_recursive_sha256_may_have_references(ca: FlatHash | NarHash) -> None:
    with pytest.raises(StorePathError, match="cannot have references"):
        build_ca_path("bar", ca, [f"/nix/store/{NET_TOOLS}"], False)
    with pytest.raises(StorePathError, match="cannot have references"):
        build_ca_path("bar", ca, [], True)


def test_build_output_path() -> None:
    drv_hash = NixHash(HashAlgo.SHA256, hashlib.sha256(b"derivation").digest())
    fingerprint = f"output:dev:sha256:{drv_hash.hex()}:/nix/store:foo-dev"
    expected = compress_hash(hashlib.sha256(fingerprint.encode()).digest(), 20)
    assert build_output_path(drv_hash, "dev", "foo-dev") == StorePath(expected, "foo-dev")
    with pytest.raises(StorePathError, match="illegal character ' '"):
        build_output_path(drv_hash, "out", "foo bar")


def test_hash_placeholder() -> None:
    assert hash_placeholder("out") == "/1rz4g4znpzjwh1xymhjpm42vipw92pr73vdgl6xs1hycac8kf2n9"
    assert hash_placeholder("") == "/171rf4jhx57xqz3p7swniwkig249cif71pa08p80mgaf0mqz5bmr"


# --- properties ---

NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?="
names = st.text(alphabet=NAME_CHARS, min_size=1, max_size=MAX_NAME_LEN).filter(
    lambda n: not n.startswith(".")
)
digests = st.binary(min_size=DIGEST_SIZE, max_size=DIGEST_SIZE)


@settings(max_examples=200, deadline=None)
@given(digests, names)
def test_store_path_round_trip(digest: bytes, name: str) -> None:
    path = StorePath(digest, name)
    assert StorePath.from_basename(str(path)) == path
    assert StorePath.from_absolute_path(path.to_absolute_path()) == path
    assert StorePath.from_absolute_path_full(path.to_absolute_path() + "/a/b") == (
        path,
        PurePosixPath("a/b"),
    )
    assert len(str(path)) == ENCODED_DIGEST_SIZE + 1 + len(name)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_parse_raises_only_store_path_error(text: str) -> None:
    try:
        path = StorePath.from_basename(text)
    except StorePathError:
        return
    assert str(path) == text


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(digests, names), max_size=6))
def test_sorting_matches_base_name_order(items: list[tuple[bytes, str]]) -> None:
    paths = [StorePath(d, n) for d, n in items]
    assert [str(p) for p in sorted(paths)] == sorted(str(p) for p in paths)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=70), st.integers(min_value=1, max_value=40))
def test_compress_hash_matches_the_byte_loop(digest: bytes, size: int) -> None:
    expected = bytearray(size)
    for i, byte in enumerate(digest):
        expected[i % size] ^= byte
    assert compress_hash(digest, size) == bytes(expected)
    assert compress_hash(bytearray(digest), size) == bytes(expected)  # type: ignore[arg-type]
    assert compress_hash(memoryview(digest), size) == bytes(expected)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(digests, names)
def test_from_valid_parts_is_the_constructor_without_checks(digest: bytes, name: str) -> None:
    path = StorePath.from_valid_parts(digest, name)
    assert path == StorePath(digest, name)
    assert str(path) == str(StorePath(digest, name))
    assert path.hash_part == nixbase32.encode(digest)


# strings close to an absolute store path: each part valid, or wrong in one of the ways a parse
# rejects (prefix, digest characters and length, separator, name characters and length)
near_store_paths = st.builds(
    lambda prefix, digest, sep, name: prefix + digest + sep + name,
    st.sampled_from(["/nix/store/", "/nix/store", "/nix/stor/", "//nix/store/", "nix/store/"]),
    st.text(alphabet=nixbase32.ALPHABET + "eotuA-", min_size=31, max_size=33),
    st.sampled_from(["-", "_", "", "--"]),
    st.one_of(
        st.text(alphabet=NAME_CHARS + "/é \n", max_size=12),
        st.text(alphabet=NAME_CHARS, min_size=MAX_NAME_LEN - 1, max_size=MAX_NAME_LEN + 1),
    ),
)


@settings(max_examples=500, deadline=None)
@given(near_store_paths | st.text(max_size=60))
def test_is_canonical_absolute_path_agrees_with_parsing(text: str) -> None:
    try:
        parsed: str | None = StorePath.from_absolute_path(text).to_absolute_path()
    except StorePathError:
        parsed = None
    assert is_canonical_absolute_path(text) == (parsed == text)


def test_is_canonical_absolute_path() -> None:
    assert is_canonical_absolute_path(STORE_DIR + "/" + NET_TOOLS)
    assert not is_canonical_absolute_path(STORE_DIR + "/" + NET_TOOLS + "\n")
    assert not is_canonical_absolute_path(STORE_DIR + "/" + NET_TOOLS + "/bin")
    assert not is_canonical_absolute_path(STORE_DIR + "/" + NET_TOOLS.upper())
