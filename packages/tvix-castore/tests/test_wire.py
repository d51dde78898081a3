"""The direct BlobChunk codecs agree with the generated protobuf code."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from tvix_castore.proto.rpc_blobstore_pb2 import BlobChunk
from tvix_castore.wire import decode_blob_chunk, encode_blob_chunk


@given(st.binary(max_size=70_000))
def test_encoding_matches_protobuf(data: bytes) -> None:
    encoded = encode_blob_chunk(data)
    assert encoded == BlobChunk(data=data).SerializeToString()
    assert bytes(decode_blob_chunk(encoded)) == data


def test_decoding_returns_a_view_in_the_canonical_case() -> None:
    raw = encode_blob_chunk(b"x" * 300)
    decoded = decode_blob_chunk(raw)
    assert isinstance(decoded, memoryview)
    assert decoded.obj is raw


def test_non_canonical_forms_fall_back_to_the_parser() -> None:
    # an unknown field after the data, and the data field sent twice (last one wins)
    assert decode_blob_chunk(encode_blob_chunk(b"abc") + b"\x10\x01") == b"abc"
    assert decode_blob_chunk(encode_blob_chunk(b"abc") + encode_blob_chunk(b"de")) == b"de"
    assert decode_blob_chunk(b"") == b""
    assert decode_blob_chunk(b"\x10\x01") == b""
