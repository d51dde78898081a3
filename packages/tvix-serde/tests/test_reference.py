"""The reference implementation's deserialisation tests (``serde/src/de_tests.rs``), ported."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, NewType

import pytest
import tvix_serde
from tvix_serde import Builtins, loads


def test_none() -> None:
    assert loads("null", int | None) is None


def test_some() -> None:
    assert loads("40 + 2", int | None) == 42


def test_string() -> None:
    source = """
      let greeter = name: "Hello ${name}!";
      in greeter "Slartibartfast"
    """
    assert loads(source, str) == "Hello Slartibartfast!"


def test_empty_list() -> None:
    assert loads("[ ]", list[int]) == []


def test_integer_list() -> None:
    assert loads("builtins.map (n: n + 2) [ 21 40 67 ]", list[int]) == [23, 42, 69]


def test_empty_map() -> None:
    assert loads("{ }", dict[str, int]) == {}


def test_integer_map() -> None:
    assert loads("{ age = 40 + 2; }", dict[str, int]) == {"age": 42}


@dataclass
class Person:
    name: str
    age: int


def test_struct() -> None:
    source = '{ name = "Slartibartfast"; age = 42; }'
    assert loads(source, Person) == Person("Slartibartfast", 42)


Number = NewType("Number", int)


def test_newtype() -> None:
    assert loads("42", Number) == 42


def test_tuple() -> None:
    assert loads(' [ "foo" 42 ] ', tuple[str, int]) == ("foo", 42)


class Foo(enum.Enum):
    Bar = 1
    Baz = 2


def test_unit_enum() -> None:
    assert loads('"Baz"', Foo) is Foo.Baz


class Pair(NamedTuple):
    country: str
    drink: str


def test_mixed_list() -> None:
    """The reference's enum list, as a union: a tuple-like record, a name, a struct."""
    source = """
      let
        mkTuple = country: drink: [ country drink ];
      in
      [
        (mkTuple "UK" "cask ale")
        "unit"
        { name = "Slartibartfast"; age = 42; }
        (mkTuple "Russia" "квас")
      ]
    """
    result = loads(source, list[Pair | str | Person])
    assert result == [
        Pair("UK", "cask ale"),
        "unit",
        Person("Slartibartfast", 42),
        Pair("Russia", "квас"),
    ]


def test_with_config_source_builtin() -> None:
    extra = Builtins()
    extra.source("testWithConfig", '"ok"')
    assert loads("builtins.testWithConfig", str, builtins=extra) == "ok"


def test_with_extra_python_builtin() -> None:
    extra = Builtins()

    @extra.function("prependHello")
    def prepend_hello(x: str) -> str:
        return f"hello {x}"

    assert loads('builtins.prependHello "world"', str, builtins=extra) == "hello world"


class Flavour(enum.Enum):
    Tasty = enum.auto()
    Okay = enum.auto()
    Eww = enum.auto()


@dataclass
class Data:
    name: str
    foods: dict[str, Flavour]


FOODS = Path(__file__).parent.parent / "examples" / "foods.nix"


def test_foods_example() -> None:
    data = tvix_serde.load_file(FOODS, Data)
    assert data == Data(
        "exhaustive list of foods",
        {
            "beef": Flavour.Tasty,
            "coffee": Flavour.Tasty,
            "olives": Flavour.Eww,
            "tomatoes": Flavour.Okay,
        },
    )


def test_foods_bad_flavour_names_the_path() -> None:
    with pytest.raises(tvix_serde.ShapeError) as info:
        loads(FOODS.read_text().replace('"Eww"', '"Yuck"'), Data)
    assert str(info.value) == 'foods.olives: expected one of Tasty, Okay, Eww, got "Yuck"'
    assert info.value.path == ("foods", "olives")
    assert info.value.location is None
