"""``dumps``: exact formatting, escaping, and the round trip through ``loads``."""

from __future__ import annotations

import datetime
import enum
import io
import math
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tvix_serde import NIX_NAME, dump, dumps, loads


def test_formatting() -> None:
    value = {
        "name": "shop",
        "ports": [80, 443],
        "nested": {"a": {"b": True}},
        "servers": [{"host": "a"}, {"host": "b"}],
        "empty": {},
        "none": [],
    }
    assert dumps(value) == "\n".join(
        [
            "{",
            '  name = "shop";',
            "  ports = [ 80 443 ];",
            "  nested = {",
            "    a = {",
            "      b = true;",
            "    };",
            "  };",
            "  servers = [",
            "    {",
            '      host = "a";',
            "    }",
            "    {",
            '      host = "b";',
            "    }",
            "  ];",
            "  empty = { };",
            "  none = [ ];",
            "}",
        ]
    )


def test_scalars() -> None:
    assert dumps(None) == "null"
    assert dumps(True) == "true"
    assert dumps(-5) == "-5"
    assert dumps(1.0) == "1.0"
    assert dumps(1e100) == "1.0e+100"
    assert dumps(2.5e-10) == "2.5e-10"
    assert dumps(-(2**63)) == "(-9223372036854775807 - 1)"
    assert dumps([-1, -1.5, 2]) == "[ (-1) (-1.5) 2 ]"


def test_string_escapes() -> None:
    assert dumps('a "b" \\ ${c} $d\t\r') == '"a \\"b\\" \\\\ \\${c} $d\\t\\r"'
    assert dumps("one line\n") == '"one line\\n"'


def test_multiline_strings_use_indented_strings() -> None:
    assert dumps({"script": "echo hi\necho ${x} ''\n"}) == "\n".join(
        [
            "{",
            "  script = ''",
            "    echo hi",
            "    echo ''${x} '''",
            "  '';",
            "}",
        ]
    )
    text = "  all lines\n  indented\n"
    assert dumps(text) == '"  all lines\\n  indented\\n"'


def test_attribute_names() -> None:
    assert dumps({"a-b": 1, "a b": 2, "if": 3, "": 4, "x'": 5, "1a": 6}) == "\n".join(
        [
            "{",
            "  a-b = 1;",
            '  "a b" = 2;',
            '  "if" = 3;',
            '  "" = 4;',
            "  x' = 5;",
            '  "1a" = 6;',
            "}",
        ]
    )


def test_paths() -> None:
    assert dumps(PurePosixPath("/var/lib/x")) == "/var/lib/x"
    assert dumps(PurePosixPath("/")) == "/."
    assert dumps(PurePosixPath("/a b")) == '/. + "/a b"'
    assert dumps(PurePosixPath("rel/x")) == "./rel/x"
    assert dumps([PurePosixPath("/a b")]) == '[ (/. + "/a b") ]'
    assert loads(dumps([PurePosixPath("/a b"), PurePosixPath("/c")])) == [
        PurePosixPath("/a b"),
        PurePosixPath("/c"),
    ]


def test_long_lists_break() -> None:
    text = dumps(list(range(40)))
    assert text.startswith("[\n  0\n  1\n")
    assert loads(text) == list(range(40))


class Colour(enum.Enum):
    red = 1


class Pt(NamedTuple):
    x: int
    y: int


NEW_YEAR = datetime.date(2024, 1, 2)
ORIGIN = Pt(1, 2)


@dataclass
class Cfg:
    data_dir: str = field(metadata={NIX_NAME: "dataDir"})
    colour: Colour = Colour.red
    when: datetime.date = NEW_YEAR
    tags: frozenset[str] = frozenset({"b", "a"})
    pt: Pt = ORIGIN
    internal: int = field(default=0, init=False)


def test_dataclasses_enums_and_friends() -> None:
    cfg = Cfg("/srv")
    text = dumps(cfg)
    assert text == "\n".join(
        [
            "{",
            '  dataDir = "/srv";',
            '  colour = "red";',
            '  when = "2024-01-02";',
            '  tags = [ "a" "b" ];',
            "  pt = {",
            "    x = 1;",
            "    y = 2;",
            "  };",
            "}",
        ]
    )
    assert loads(text, Cfg) == cfg


def test_dump_writes_a_final_newline() -> None:
    out = io.StringIO()
    dump({"a": 1}, out)
    assert out.getvalue() == "{\n  a = 1;\n}\n"


def test_unrepresentable_values() -> None:
    with pytest.raises(ValueError, match="no literal for the float nan"):
        dumps(math.nan)
    with pytest.raises(ValueError, match="outside Nix's 64-bit range"):
        dumps(2**63)
    with pytest.raises(TypeError, match="Object of type object is not Nix serializable"):
        dumps(object())
    with pytest.raises(TypeError, match="keys must be"):
        dumps({1.5: 1})
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="circular reference"):
        dumps(loop)


# --------------------------------------------------------------------------- round trips

_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
_plain = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_text, children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(_plain)
def test_round_trip_plain_data(value: Any) -> None:
    assert loads(dumps(value)) == value


@dataclass
class Item:
    name: str
    count: int
    price: float | None = None
    labels: list[str] = field(default_factory=list)


@dataclass
class Order:
    items: list[Item]
    notes: dict[str, str]
    colour: Colour


_items = st.builds(
    Item,
    name=_text,
    count=st.integers(min_value=-(2**63), max_value=2**63 - 1),
    price=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    labels=st.lists(_text, max_size=3),
)
_orders = st.builds(
    Order,
    items=st.lists(_items, max_size=4),
    notes=st.dictionaries(_text, _text, max_size=3),
    colour=st.just(Colour.red),
)


@settings(max_examples=75, deadline=None)
@given(_orders)
def test_round_trip_dataclasses(order: Order) -> None:
    assert loads(dumps(order), Order) == order


@settings(max_examples=150, deadline=None)
@given(_text)
def test_round_trip_multiline_text(text: str) -> None:
    value = {"t": text + "\n" + text}
    assert loads(dumps(value)) == value


def test_bytes_become_strings() -> None:
    assert dumps(b"caf\xc3\xa9") == '"café"'
    assert loads(dumps({"b": b"x"}), dict[str, bytes]) == {"b": b"x"}
    with pytest.raises(ValueError, match="UTF-8"):
        dumps(b"\xff")
