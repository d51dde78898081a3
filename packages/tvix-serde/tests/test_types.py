"""Loading into each supported kind of target type."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import Annotated, Any, Generic, Literal, NamedTuple, NotRequired, TypedDict, TypeVar

import pytest
from tvix_serde import NIX_NAME, ShapeError, loads

# --------------------------------------------------------------------------- plain data


def test_plain_data() -> None:
    source = '{ b = [ 1 2.5 "x" null true ]; a = { c = /tmp/x; }; s = "a${toString 1}"; }'
    value = loads(source)
    assert value == {
        "a": {"c": PurePosixPath("/tmp/x")},
        "b": [1, 2.5, "x", None, True],
        "s": "a1",
    }
    assert list(value) == ["a", "b", "s"]
    assert type(value["s"]) is str


def test_plain_data_any_and_object() -> None:
    plain: object = loads("[ 1 { a = 2; } ]", Any)
    assert plain == [1, {"a": 2}]
    assert loads("[ 1 { a = 2; } ]", object) == [1, {"a": 2}]
    assert loads("[ 1 { a = 2; } ]", list) == [1, {"a": 2}]
    assert loads("{ a = [ 2 ]; }", dict) == {"a": [2]}


def test_string_context_is_dropped() -> None:
    value = loads('builtins.toFile "x" "y"', str)
    assert type(value) is str
    assert value.startswith("/nix/store/")


def test_functions_are_not_data() -> None:
    with pytest.raises(ShapeError) as info:
        loads("{ f = x: x; }")
    assert (
        str(info.value)
        == "f: expected data (functions cannot be loaded), got a function (at «string»:1:7)"
    )


# --------------------------------------------------------------------------- scalars


def test_scalars() -> None:
    assert loads("true", bool) is True
    assert loads("1 + 1", int) == 2
    assert loads("1.5", float) == 1.5
    assert loads("2", float) == 2.0 and type(loads("2", float)) is float
    assert loads('"x"', str) == "x"
    assert loads('"é"', bytes) == "é".encode()
    assert loads("null", type(None)) is None


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("1", bool, "expected a Boolean, got 1"),
        ("true", int, "expected an integer, got true"),
        ("1.5", int, "expected an integer, got 1.5"),
        ('"1"', int, 'expected an integer, got "1"'),
        ("[ ]", str, "expected a string, got an empty list"),
        ("[ 1 2 ]", str, "expected a string, got a list of 2 elements"),
        ("{ a = 1; }", float, "expected a float, got a set"),
        ("x: x", str, "expected a string, got a function"),
        ("builtins.map", str, "expected a string, got a built-in function"),
        ("1", type(None), "expected null, got 1"),
        ("/a/b", int, "expected an integer, got the path /a/b"),
    ],
)
def test_scalar_mismatch(source: str, target: Any, message: str) -> None:
    with pytest.raises(ShapeError) as info:
        loads(source, target)
    assert str(info.value).split(" (at ")[0] == message


def test_paths() -> None:
    assert loads("/etc/hosts", Path) == Path("/etc/hosts")
    assert loads('"/etc/hosts"', PurePosixPath) == PurePosixPath("/etc/hosts")
    assert loads("/etc/../etc/hosts", PurePath) == PurePath("/etc/hosts")
    assert loads("/etc/hosts", str) == "/etc/hosts"
    assert loads("./a/b", str, path="/srv/cfg/app.nix") == "/srv/cfg/a/b"


def test_datetimes() -> None:
    utc = datetime.UTC
    assert loads('"1979-05-27T07:32:00Z"', datetime.datetime) == datetime.datetime(
        1979, 5, 27, 7, 32, tzinfo=utc
    )
    assert loads('"1979-05-27 07:32:00"', datetime.datetime) == datetime.datetime(
        1979, 5, 27, 7, 32
    )
    assert loads('"1979-05-27"', datetime.date) == datetime.date(1979, 5, 27)
    assert loads('"07:32:00.5"', datetime.time) == datetime.time(7, 32, 0, 500000)
    stamp = '{ _type = "timestamp"; value = "1979-05-27T07:32:00Z"; }'
    assert loads(stamp, datetime.datetime) == datetime.datetime(1979, 5, 27, 7, 32, tzinfo=utc)
    with pytest.raises(ShapeError, match=r'^expected a date \(ISO 8601\), got "tomorrow"'):
        loads('"tomorrow"', datetime.date)


# --------------------------------------------------------------------------- collections


def test_collections() -> None:
    assert loads("[ 1 2 ]", Sequence[int]) == [1, 2]
    assert loads("[ 1 2 2 ]", set[int]) == {1, 2}
    assert loads("[ 1 2 2 ]", frozenset[int]) == frozenset({1, 2})
    assert loads("[ 1 2 ]", tuple[int, ...]) == (1, 2)
    assert loads('[ 1 "a" ]', tuple[int, str]) == (1, "a")
    assert loads("[ ]", tuple[()]) == ()
    assert loads("{ b = 1; a = 2; }", Mapping[str, int]) == {"a": 2, "b": 1}
    assert loads('{ "80" = "http"; "443" = "https"; }', dict[int, str]) == {
        443: "https",
        80: "http",
    }


def test_dict_key_types() -> None:
    class Colour(enum.Enum):
        red = 1
        blue = 2

    assert loads("{ red = 1; }", dict[Colour, int]) == {Colour.red: 1}
    assert loads("{ a = 1; }", dict[Literal["a", "b"], int]) == {"a": 1}
    with pytest.raises(ShapeError) as info:
        loads("{ green = 1; }", dict[Colour, int])
    assert str(info.value) == 'green: expected one of red, blue, got "green" (at «string»:1:11)'
    with pytest.raises(TypeError, match=r"cannot load dict keys of type float"):
        loads("{ }", dict[float, int])


def test_tuple_length() -> None:
    with pytest.raises(
        ShapeError, match=r"^expected a list of 2 elements, got a list of 3 elements"
    ):
        loads("[ 1 2 3 ]", tuple[int, int])


def test_unhashable_set_elements() -> None:
    with pytest.raises(ShapeError, match=r"cannot build set of these elements"):
        loads("[ [ 1 ] ]", set[Any])


# --------------------------------------------------------------------------- records


@dataclass
class Listen:
    host: str = "127.0.0.1"
    port: int = 80


@dataclass
class Service:
    name: str
    listen: Listen = field(default_factory=Listen)
    tags: list[str] = field(default_factory=list)
    data_dir: str = field(default="/var/lib", metadata={NIX_NAME: "dataDir"})
    computed: int = field(default=0, init=False)


def test_dataclass_defaults_and_nesting() -> None:
    value = loads('{ name = "web"; listen.port = 8080; dataDir = "/srv"; }', Service)
    assert value == Service("web", Listen(port=8080), [], "/srv")
    assert loads('{ name = "x"; }', Service).listen == Listen()


def test_dataclass_init_false_field_is_unknown() -> None:
    with pytest.raises(ShapeError) as info:
        loads('{ name = "x"; computed = 1; }', Service)
    assert str(info.value).startswith(
        "computed: unknown attribute (expected one of dataDir, listen, name, tags)"
    )


def test_dataclass_python_name_is_not_the_nix_name() -> None:
    with pytest.raises(ShapeError, match=r"^data_dir: unknown attribute"):
        loads('{ name = "x"; data_dir = "/"; }', Service)


@dataclass(frozen=True)
class Port:
    number: int

    def __post_init__(self) -> None:
        if not 0 < self.number < 65536:
            raise ValueError(f"port {self.number} out of range")


def test_dataclass_validation_error_is_a_shape_error() -> None:
    with pytest.raises(ShapeError) as info:
        loads("{ p = { number = 70000; }; }", dict[str, Port])
    assert str(info.value) == "p: invalid Port: port 70000 out of range (at «string»:1:7)"


T = TypeVar("T")


@dataclass
class Box(Generic[T]):
    item: T
    items: list[T] = field(default_factory=list)


def test_generic_dataclass() -> None:
    assert loads("{ item = 1; items = [ 2 ]; }", Box[int]) == Box(1, [2])
    with pytest.raises(ShapeError, match=r"^item: expected an integer"):
        loads('{ item = "x"; }', Box[int])


@dataclass
class Tree:
    value: int
    children: list[Tree] = field(default_factory=list)


def test_recursive_dataclass() -> None:
    source = "{ value = 1; children = [ { value = 2; children = [ { value = 3; } ]; } ]; }"
    assert loads(source, Tree) == Tree(1, [Tree(2, [Tree(3)])])


class Movie(TypedDict):
    title: str
    year: NotRequired[int]


def test_typeddict() -> None:
    assert loads('{ title = "Brazil"; year = 1985; }', Movie) == {"title": "Brazil", "year": 1985}
    assert loads('{ title = "Brazil"; }', Movie) == {"title": "Brazil"}
    with pytest.raises(ShapeError, match=r"^missing required attribute 'title'"):
        loads("{ year = 1; }", Movie)


class Point(NamedTuple):
    x: int
    y: int = 0


def test_namedtuple_from_set_or_list() -> None:
    assert loads("{ x = 1; y = 2; }", Point) == Point(1, 2)
    assert loads("{ x = 1; }", Point) == Point(1, 0)
    assert loads("[ 1 2 ]", Point) == Point(1, 2)
    assert loads("[ 1 ]", Point) == Point(1, 0)
    with pytest.raises(
        ShapeError, match=r"^expected a set or a list of 1 to 2 elements, got an empty list"
    ):
        loads("[ ]", Point)


# --------------------------------------------------------------------------- choices


class Flavour(enum.Enum):
    Tasty = "tasty"
    Okay = "okay"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


def test_enum_by_name_then_value() -> None:
    assert loads('"Tasty"', Flavour) is Flavour.Tasty
    assert loads('"okay"', Flavour) is Flavour.Okay
    assert loads("2", Level) is Level.HIGH
    assert loads('"LOW"', Level) is Level.LOW
    with pytest.raises(ShapeError, match=r"^expected one of LOW, HIGH, got 3 "):
        loads("3", Level)


def test_literal() -> None:
    assert loads('"debug"', Literal["debug", "info"]) == "debug"
    assert loads("1", Literal[1, True]) == 1
    assert loads("true", Literal[1, True]) is True
    with pytest.raises(ShapeError, match=r'^expected one of "debug", "info", got "trace"'):
        loads('"trace"', Literal["debug", "info"])


def test_optional() -> None:
    assert loads("null", int | None) is None
    assert loads("{ a = null; b = 1; }", dict[str, int | None]) == {"a": None, "b": 1}


def test_union_first_fitting_type() -> None:
    assert loads("1", int | float) == 1 and type(loads("1", int | float)) is int
    assert loads("1", float | int) == 1 and type(loads("1", float | int)) is int
    assert loads("1", float | str) == 1.0
    assert loads('"a"', int | str) == "a"
    assert loads("[ 1 ]", list[int] | list[str]) == [1]
    assert loads('[ "a" ]', list[int] | list[str]) == ["a"]
    with pytest.raises(ShapeError, match=r"^expected int \| str, got an empty set "):
        loads("{ }", int | str)


def test_union_reports_the_member_that_matched_the_nix_type() -> None:
    with pytest.raises(ShapeError) as info:
        loads("{ name = 1; }", Service | str)
    assert str(info.value) == "name: expected a string, got 1 (at «string»:1:10)"


def test_annotated_is_transparent() -> None:
    assert loads("1", Annotated[int, "meta"]) == 1


def test_unsupported_type() -> None:
    class Opaque:
        pass

    with pytest.raises(TypeError, match=r"cannot load values into Opaque"):
        loads("1", Opaque)
