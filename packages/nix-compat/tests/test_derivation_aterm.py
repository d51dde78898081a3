"""ATerm writing and parsing: escaping, exact bytes, errors with offsets, round trips."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nix_compat.derivation import (
    ATermParseError,
    Derivation,
    DerivationError,
    Output,
    escape_bytes,
    parse_aterm,
    write_aterm,
)
from nix_compat.derivation.aterm_write import write_aterms
from nix_compat.derivation.output_hash import ca_hash_fields
from nix_compat.errors import NixCompatError
from nix_compat.nixhash import CAHash, FlatHash, HashAlgo, NarHash, NixHash, TextHash

SIMPLE = (
    b'Derive([("out","/nix/store/7igbqnhyall0z5iv36i80s5d34dncjmr-x","","")],[],[],'
    b'"x86_64-linux","/bin/sh",["-c","echo \\"hi\\"\\n"],[("builder","/bin/sh"),("name","x"),'
    b'("out","/nix/store/7igbqnhyall0z5iv36i80s5d34dncjmr-x"),("system","x86_64-linux")])'
)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        (b"", b""),
        (b'"', b'\\"'),
        (b":", b":"),
        (b"\\", b"\\\\"),
        (b"a\nb\rc\td", b"a\\nb\\rc\\td"),
        (b'\\"', b'\\\\\\"'),
        (b"\x01\x7f\xff", b"\x01\x7f\xff"),
    ],
)
def test_escape_bytes(raw: bytes, escaped: bytes) -> None:
    assert escape_bytes(raw) == escaped


def test_parse_simple() -> None:
    drv = parse_aterm(SIMPLE)
    out = "/nix/store/7igbqnhyall0z5iv36i80s5d34dncjmr-x"
    assert drv == Derivation(
        outputs={"out": Output(out)},
        system="x86_64-linux",
        builder="/bin/sh",
        arguments=["-c", 'echo "hi"\n'],
        environment={
            "builder": b"/bin/sh",
            "name": b"x",
            "out": out.encode(),
            "system": b"x86_64-linux",
        },
    )
    assert drv.to_aterm_bytes() == SIMPLE


def test_writer_sorts_by_bytes() -> None:
    drv = Derivation(
        outputs={"out": Output("/o"), "dev": Output("/d")},
        input_derivations={"/b.drv": {"z", "a"}, "/a.drv": {"out"}},
        input_sources={"/s2", "/s1"},
        system="s",
        builder="b",
        arguments=["2", "1"],
        environment={"é": b"1", "z": b"2", "Z": b"3"},
    )
    assert drv.to_aterm_bytes() == (
        b'Derive([("dev","/d","",""),("out","/o","","")],'
        b'[("/a.drv",["out"]),("/b.drv",["a","z"])],["/s1","/s2"],"s","b",["2","1"],'
        b'[("Z","3"),("z","2"),("\xc3\xa9","1")])'
    )


def test_writer_escapes_like_nix() -> None:
    """Builder, arguments and environment keys and values are escaped; the rest is verbatim."""
    drv = Derivation(
        outputs={"out": Output("/p\n")},
        input_derivations={"/d\t.drv": {"o\\"}},
        input_sources={"/s\r"},
        system='a"b',
        builder="b\n",
        arguments=["\t"],
        environment={'k"ey': b'v"\\'},
    )
    assert drv.to_aterm_bytes() == (
        b'Derive([("out","/p\n","","")],[("/d\t.drv",["o\\"])],["/s\r"],"a"b","b\\n",["\\t"],'
        b'[("k\\"ey","v\\"\\\\")])'
    )


def test_fixed_output_fields() -> None:
    digest = bytes(range(32))
    cases: list[tuple[CAHash, bytes]] = [
        (FlatHash(NixHash(HashAlgo.SHA256, digest)), b'"sha256"'),
        (NarHash(NixHash(HashAlgo.SHA256, digest)), b'"r:sha256"'),
        (TextHash(digest), b'"text:sha256"'),
    ]
    for ca_hash, algo_field in cases:
        drv = Derivation(outputs={"out": Output("/p", ca_hash)}, system="s", builder="b")
        data = drv.to_aterm_bytes()
        assert data == (
            b'Derive([("out","/p",' + algo_field + b',"' + digest.hex().encode() + b'")],'
            b'[],[],"s","b",[],[])'
        )
        assert parse_aterm(data) == drv


def test_parse_unescapes_like_nix() -> None:
    """Any escaped byte other than n, r and t stands for itself, as in C++ Nix."""
    data = b'Derive([],[],[],"s","\\x\\"\\\\\\n\\r\\t",[],[])'
    assert parse_aterm(data).builder == 'x"\\\n\r\t'


def test_parse_keeps_non_utf8_bytes() -> None:
    data = b'Derive([("out","/p\xff","","")],[],[],"s","b\xc5",["\xe9"],[("k\xd6","\xc5\xc4\xd6")])'
    drv = parse_aterm(data)
    assert drv.environment == {"k\udcd6": b"\xc5\xc4\xd6"}
    assert drv.builder == "b\udcc5"
    assert drv.to_aterm_bytes() == data


def test_parse_accepts_unsorted_entries_and_writes_them_sorted() -> None:
    data = b'Derive([],[],["/b","/a"],"s","b",[],[("z","1"),("a","2")])'
    drv = parse_aterm(data)
    assert drv.to_aterm_bytes() == b'Derive([],[],["/a","/b"],"s","b",[],[("a","2"),("z","1")])'


def test_unpaired_surrogate_is_rejected_when_writing() -> None:
    drv = Derivation(outputs={"out": Output("/p")}, system="s", builder="\ud800")
    with pytest.raises(DerivationError, match="unpaired surrogate"):
        drv.to_aterm_bytes()


def test_parse_rejects_str() -> None:
    with pytest.raises(TypeError):
        parse_aterm(SIMPLE.decode())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "offset", "message"),
    [
        (b"", 0, "expected 'Derive(' at the start of a derivation, found end of input"),
        (b"Derive[", 6, "expected 'Derive(' at the start of a derivation, found '['"),
        (b"Derive(", 7, "expected '[' opening the list of outputs, found end of input"),
        (b'Derive([("out"', 14, "expected ',' after the output name, found end of input"),
        (b'Derive([("out,', 9, "unterminated string in an output name"),
        (b"Derive([(out", 9, "expected '\"' starting an output name, found 'o'"),
        (b'Derive([],[],[],"s","b",["a\\', 27, "unterminated escape sequence in arguments"),
        (b'Derive([],[],[],"s","b",["a"}', 28, "expected ',' or ']' in the list of arguments"),
        (
            b'Derive([],[],[],"s","b",[],[])\n',
            30,
            "unexpected data after the derivation's closing ')'",
        ),
        (
            b'Derive([],[],[],"s","b",[],[("a","1"),("a","2")])',
            39,
            "duplicate environment variable 'a'",
        ),
        (b'Derive([],[],["/a","/a"],"s","b",[],[])', 19, "duplicate entry '/a' in input sources"),
        (
            b'Derive([("out","/p","",""),("out","/q","","")],[],[],"s","b",[],[])',
            28,
            "duplicate output 'out'",
        ),
        (
            b'Derive([],[("/d.drv",["out"]),("/d.drv",["dev"])],[],"s","b",[],[])',
            31,
            "duplicate input derivation '/d.drv'",
        ),
        (
            b'Derive([],[("/d.drv",["out","out"])],[],"s","b",[],[])',
            28,
            "duplicate entry 'out' in output names of input derivation '/d.drv'",
        ),
        (
            b'Derive([("out","","r:sha256","")],[],[],"s","b",[],[])',
            18,
            "output 'out': output hash algorithm 'r:sha256' is given without a hash",
        ),
        (
            b'Derive([("out","","","00")],[],[],"s","b",[],[])',
            18,
            "is given without a hash algorithm",
        ),
        (
            b'Derive([("out","","sha256","00")],[],[],"s","b",[],[])',
            18,
            "output 'out': invalid output hash:",
        ),
        (b'Derive([("out","","md4","00")],[],[],"s","b",[],[])', 18, "unknown or unsupported hash"),
        (b'Derive([],[],[],"s","b",[],[("a","1")]', 38, "expected ')' closing the derivation"),
    ],
)
def test_parse_errors(data: bytes, offset: int, message: str) -> None:
    with pytest.raises(ATermParseError) as info:
        parse_aterm(data)
    assert info.value.offset == offset
    assert message in str(info.value)
    assert str(info.value).endswith(f"at byte offset {offset}")
    assert isinstance(info.value, NixCompatError)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_parse_arbitrary_bytes_raises_only_parse_error(data: bytes) -> None:
    with contextlib.suppress(ATermParseError):
        parse_aterm(b"Derive(" + data)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=len(SIMPLE) - 1))
def test_truncated_drv_raises_parse_error(cut: int) -> None:
    with pytest.raises(ATermParseError):
        parse_aterm(SIMPLE[:cut])


# --- the writer against a plain reference ---


def _reference_encode(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as e:
        raise DerivationError(
            f"string {text!r} has an unpaired surrogate at index {e.start} that stands for no byte"
        ) from None


def _reference_quoted(data: bytes) -> bytes:
    return b'"' + escape_bytes(data) + b'"'


def _reference_list(items: Iterable[str]) -> bytes:
    return (
        b"["
        + b",".join(b'"' + s + b'"' for s in sorted(_reference_encode(i) for i in items))
        + b"]"
    )


def reference_write_aterm(drv: Derivation) -> bytes:
    """The ATerm written field by field, each string encoded and escaped on its own."""
    outputs = sorted(
        ((_reference_encode(k), v) for k, v in drv.outputs.items()), key=lambda p: p[0]
    )
    inputs = sorted(
        ((_reference_encode(k), v) for k, v in drv.input_derivations.items()), key=lambda p: p[0]
    )
    env = sorted(
        ((_reference_encode(k), v) for k, v in drv.environment.items()), key=lambda p: p[0]
    )
    output_terms = []
    for name, output in outputs:
        algo, digest = ca_hash_fields(output.ca_hash)
        fields = (name, _reference_encode(output.path), algo.encode(), digest.encode())
        output_terms.append(b"(" + b",".join(b'"' + f + b'"' for f in fields) + b")")
    return b"".join(
        [
            b"Derive([",
            b",".join(output_terms),
            b"],[",
            b",".join(
                b'("' + path + b'",' + _reference_list(names) + b")" for path, names in inputs
            ),
            b"],",
            _reference_list(drv.input_sources),
            b',"',
            _reference_encode(drv.system),
            b'",',
            _reference_quoted(_reference_encode(drv.builder)),
            b",[",
            b",".join(_reference_quoted(_reference_encode(a)) for a in drv.arguments),
            b"],[",
            b",".join(
                b"(" + _reference_quoted(k) + b"," + _reference_quoted(v) + b")" for k, v in env
            ),
            b"])",
        ]
    )


# Any string, special characters included; now and then a lone surrogate that stands for no byte.
_raw_text = st.binary(max_size=12).map(lambda b: b.decode("utf-8", "surrogateescape"))
_special_text = st.text(alphabet='ab"\\\n\r\t\x00é', max_size=8)
_text = _raw_text | _special_text | st.sampled_from(["\ud800", "x\udbff", "\udc80"])
# "out" alone is written without encoding and sorting
_output_names = st.sampled_from(["out", "dev", "out\n"]) | _text
_ca_hashes = st.sampled_from(
    [
        None,
        FlatHash(NixHash(HashAlgo.SHA256, bytes(32))),
        NarHash(NixHash(HashAlgo.SHA1, bytes(range(20)))),
        TextHash(bytes(range(32))),
    ]
)
_derivations = st.builds(
    Derivation,
    outputs=st.dictionaries(_text, st.builds(Output, _text, _ca_hashes), max_size=3),
    input_derivations=st.dictionaries(_text, st.sets(_output_names, max_size=3), max_size=3),
    input_sources=st.sets(_text, max_size=3),
    system=_text,
    builder=_text,
    arguments=st.lists(_text, max_size=4),
    environment=st.dictionaries(_text, st.binary(max_size=12) | _special_text.map(str.encode)),
)


def _written(write: Callable[[Derivation], bytes], drv: Derivation) -> bytes | str:
    try:
        return write(drv)
    except DerivationError as e:
        return str(e)


@settings(max_examples=500, deadline=None)
@given(_derivations)
def test_writer_matches_reference(drv: Derivation) -> None:
    """Same bytes, and for a string that cannot be encoded the same error naming it."""
    assert _written(write_aterm, drv) == _written(reference_write_aterm, drv)


@settings(max_examples=200, deadline=None)
@given(_derivations, st.dictionaries(_text, st.sets(_output_names, max_size=2), max_size=3))
def test_writer_with_other_input_derivations(drv: Derivation, inputs: dict[str, set[str]]) -> None:
    replaced = dataclasses.replace(drv, input_derivations=inputs)
    assert _written(lambda d: write_aterm(d, inputs), drv) == _written(
        reference_write_aterm, replaced
    )


def test_unpaired_surrogate_error_names_the_first_string_written() -> None:
    drv = Derivation(
        outputs={"out": Output("/p\udfff")}, system="s", builder="\ud800", arguments=["\udbff"]
    )
    with pytest.raises(DerivationError) as info:
        write_aterm(drv)
    assert str(info.value) == (
        "string '/p\\udfff' has an unpaired surrogate at index 2 that stands for no byte"
    )


@settings(max_examples=200, deadline=None)
@given(_derivations, st.dictionaries(_text, st.sets(_output_names, max_size=2), max_size=3))
def test_write_aterms_writes_each_input_map(drv: Derivation, inputs: dict[str, set[str]]) -> None:
    """The same bytes as one write per map; an error when one of those fails (the string it
    names may differ: the maps are encoded side by side)."""
    maps = [drv.input_derivations, inputs]
    try:
        expected = [write_aterm(drv, m) for m in maps]
    except DerivationError:
        with pytest.raises(DerivationError, match="unpaired surrogate"):
            write_aterms(drv, maps)
        return
    assert write_aterms(drv, maps) == expected
