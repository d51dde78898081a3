"""Hand-rolled encoding of ``BlobChunk``, the message that carries blob data over gRPC.

``BlobChunk`` has a single field, ``bytes data = 1``. Going through the
generated message class copies every chunk twice more than needed (into the
message, then out of it); these codecs frame and unframe the payload directly
and fall back to the generated parser for anything but the canonical form.
"""

from __future__ import annotations

_TAG = b"\x0a"  # field 1, wire type 2 (length-delimited)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_blob_chunk(data: bytes | memoryview) -> bytes:
    """The wire form of ``BlobChunk(data=data)`` (empty data is the empty message)."""
    if not len(data):
        return b""
    return b"".join((_TAG, _varint(len(data)), data))


def decode_blob_chunk(raw: bytes) -> bytes | memoryview:
    """The ``data`` of a serialized BlobChunk; a view into ``raw`` when in canonical form."""
    if not raw:
        return b""
    if raw[0] == 0x0A:
        length = shift = 0
        for position in range(1, min(len(raw), 11)):
            byte = raw[position]
            length |= (byte & 0x7F) << shift
            if byte < 0x80:
                start = position + 1
                if start + length == len(raw):
                    return memoryview(raw)[start:]
                break
            shift += 7
    from tvix_castore.proto.rpc_blobstore_pb2 import BlobChunk

    data: bytes = BlobChunk.FromString(raw).data
    return data
