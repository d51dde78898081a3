"""toJSON and fromJSON: formatting, number semantics and nlohmann's error messages."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tvix_eval.builtins._json_parse import JSONError, from_json
from tvix_eval.builtins.json import json_float, json_string

from .conftest import Run, batch, nix_string

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\0"), max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_to_json_from_json_round_trip(tvix: Run, value: object) -> None:
    import json

    text = json.dumps(value)
    v = f"builtins.fromJSON {nix_string(text)}"
    src = f"let v = {v}; in builtins.fromJSON (builtins.toJSON v) == v"
    assert tvix(src) == "true"


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (1.44, "1.44"),
        (1.23456789, "1.23457"),
        (1e20, "1e+20"),
        (1.0, "1"),
        (1e-7, "1e-07"),
        (123456789.0, "1.23457e+08"),
        (100000.0, "100000"),
        (1e6, "1e+06"),
        (-0.0, "-0"),
    ],
)
def test_json_float(x: float, text: str) -> None:
    assert json_float(x) == text


def test_json_string_escapes() -> None:
    assert json_string('a"b\\c\n\t\r\x01é\x7f') == '"a\\"b\\\\c\\n\\t\\r\\u0001é\x7f"'


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("9223372036854775808", -9223372036854775808),
        ("18446744073709551616", 1.8446744073709552e19),
        ("-9223372036854775809", -9.223372036854776e18),
        ('"a\\u0000b"', "a"),
        ('{"a": 1, "a": 2}', None),
    ],
)
def test_from_json_numbers_and_strings(text: str, value: object) -> None:
    got = from_json(text)
    if value is not None:
        assert got == value
    else:
        assert got.d == {"a": 2}


ERRORS = [
    b"[1,",
    b"",
    b"1 2",
    b"nul",
    b"[-]",
    b'"\\x"',
    b"[1E400]",
    b'"\\ud800"',
    b"NaN",
    b"[1,]",
    b'{"a" 1}',
    b"01",
    b'"a\nb"',
    b'[1, true, "x"] x',
    b"\n\n  [1, tru]",
    b"{1:2}",
    b'"abc',
    b'{"a":1,}',
    b'{"a":1 "b"}',
    b"[1 2]",
    b"{",
    b"1.",
    b"1e",
    b"1e+",
    b'"\\u12"',
    b'"\\udc00"',
    b'"\t"',
    b"@",
    b"[true,fals",
    b'"\\ud83dx"',
    b"-01",
    b'"\x01"',
    b"[\n1,\n2\n",
]


@pytest.mark.parametrize("text", ERRORS)
def test_from_json_errors_are_nix_errors(text: bytes) -> None:
    with pytest.raises(JSONError, match=r"^\[json\.exception\."):
        from_json(text.decode())


@pytest.mark.nix
def test_from_json_errors_match_nix(tvix: Run, nix: Run, tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    for i, text in enumerate([*ERRORS, b'"\xff"', b'"\xe0\x80"']):
        f = tmp_path / f"case{i}.json"
        f.write_bytes(text)
        src = f"builtins.fromJSON (builtins.readFile {f})"
        assert tvix(src) == nix(src), text


CASES = [
    "builtins.toJSON [1.44 1.23456789 1.0e20 1.0 0.1 1.0e-7 123456789.0 100000.0 1000000.0]",
    'builtins.toJSON "a\\"b\\\\c\\n\\t\\r é"',
    'builtins.toJSON { b = 1; a = [ null true false ]; "" = {}; }',
    'builtins.toJSON { __toString = s: "x"; a = 1; }',
    'builtins.toJSON { outPath = "/x"; a = 1; }',
    'builtins.toJSON { outPath = { outPath = "y"; }; }',
    'builtins.getContext (builtins.toJSON ["${builtins.toFile "x" "y"}"])',
    'builtins.fromJSON "[1, 1.5, 1e3, -0, 9223372036854775807, 9223372036854775808]"',
    'builtins.fromJSON "{\\"a\\": 1, \\"a\\": 2}"',
    'builtins.fromJSON "\\"\\\\u0041\\\\ud83d\\\\ude00 \\\\/\\""',
    'builtins.fromJSON " null "',
    'builtins.fromJSON "[1e5, 1.5E+2, 0.0, 1e-400]"',
]


@pytest.mark.nix
def test_json_matches_nix(tvix: Run, nix: Run) -> None:
    src = batch(CASES)
    assert tvix(src) == nix(src)


@pytest.mark.nix
@pytest.mark.parametrize(
    "src",
    [
        "builtins.toJSON (x: x)",
        "builtins.toJSON builtins.map",
        "builtins.toJSON { __toString = s: 1; }",
        "builtins.fromJSON 1",
    ],
)
def test_json_errors_match_nix(tvix: Run, nix: Run, src: str) -> None:
    assert tvix(src) == nix(src)


def nix_literal(v: object) -> str:
    """A Nix expression for a JSON-like Python value."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return f"({v})"
    if isinstance(v, float):
        return f"({v:.17e})"
    if isinstance(v, str):
        return nix_string(v)
    if isinstance(v, list):
        return "[ " + " ".join(nix_literal(x) for x in v) + " ]"
    assert isinstance(v, dict)
    return "{ " + "".join(f"{nix_string(k)} = {nix_literal(x)}; " for k, x in v.items()) + "}"


def random_value(r: random.Random, depth: int = 3) -> object:
    kind = r.randrange(8 if depth > 0 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return r.random() < 0.5
    if kind == 2:
        return r.randint(-(2**63), 2**63 - 1) if r.random() < 0.3 else r.randint(-100, 100)
    if kind == 3:
        return r.choice([0.1, 1.5, 1e20, 1e-7, 123456789.0, 2.0, -3.25, 1e300]) * r.choice([1, -1])
    if kind in (4, 5):
        alphabet = ["a", "é", "\x01", "\x1f", "\x7f", "\n", "\t", "\r", '"', "\\", "$", "€", "😀"]
        return "".join(r.choice(alphabet) for _ in range(r.randint(0, 6)))
    if kind == 6:
        return [random_value(r, depth - 1) for _ in range(r.randint(0, 4))]
    return {
        "".join(r.choice("ab-_ é") for _ in range(r.randint(0, 3))): random_value(r, depth - 1)
        for _ in range(r.randint(0, 4))
    }


@pytest.mark.nix
@pytest.mark.parametrize("seed", range(3))
def test_random_to_json_matches_nix(tvix: Run, nix: Run, seed: int) -> None:
    r = random.Random(seed)
    exprs = []
    for _ in range(60):
        literal = nix_literal(random_value(r))
        exprs.append(f"builtins.toJSON {literal}")
        exprs.append(f"builtins.fromJSON (builtins.toJSON {literal})")
    src = batch(exprs)
    assert tvix(src) == nix(src)
