"""Extra builtins from the host program (the reference's ``from_str_with_config``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import pytest
from tvix_serde import Builtins, EvaluationError, loads


class Tier(enum.Enum):
    free = 1
    paid = 2


@dataclass
class User:
    name: str
    tier: Tier = Tier.free


def test_python_function_with_typed_arguments() -> None:
    extra = Builtins()

    @extra.function()
    def greet(user: User, punctuation: str) -> str:
        return f"hello {user.name} ({user.tier.name}){punctuation}"

    source = 'builtins.greet { name = "ada"; tier = "paid"; } "!"'
    assert loads(source, str, builtins=extra) == "hello ada (paid)!"
    assert loads(
        'map (builtins.greet { name = "bob"; }) [ "." "?" ]', list[str], builtins=extra
    ) == [
        "hello bob (free).",
        "hello bob (free)?",
    ]


def test_results_are_converted_to_nix() -> None:
    extra = Builtins()

    @extra.function("mkUser")
    def mk_user(name: str) -> User:
        return User(name, Tier.paid)

    assert loads('(builtins.mkUser "x").tier', str, builtins=extra) == "paid"
    assert loads('builtins.mkUser "x"', User, builtins=extra) == User("x", Tier.paid)


def test_unannotated_arguments_are_plain_data() -> None:
    extra = Builtins()

    @extra.function("keys")
    def keys(s):  # type: ignore[no-untyped-def]
        return sorted(s)

    assert loads("builtins.keys { b = 1; a = 2; }", list[str], builtins=extra) == ["a", "b"]


def test_mapping_of_builtins() -> None:
    result = loads(
        "[ builtins.version (builtins.double 21) builtins.root ]",
        builtins={"version": "1.2", "double": lambda n: n * 2, "root": PurePosixPath("/srv")},
    )
    assert result == ["1.2", 42, PurePosixPath("/srv")]


def test_wrong_argument_type_is_a_nix_error() -> None:
    extra = Builtins()

    @extra.function("twice")
    def twice(n: int) -> int:
        return 2 * n

    with pytest.raises(EvaluationError) as info:
        loads('builtins.twice "x"', int, builtins=extra)
    assert info.value.render().splitlines()[0] == (
        "error: builtins.twice: argument 'n': expected an integer, got \"x\""
    )


def test_exception_in_python_builtin_is_a_nix_error() -> None:
    extra = Builtins()

    @extra.function("fail")
    def fail(x: Any) -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(EvaluationError) as info:
        loads("{ a = builtins.fail 1; }", dict[str, Any], builtins=extra)
    assert info.value.render().splitlines()[0] == "error: builtins.fail: RuntimeError: disk on fire"
    assert isinstance(info.value.nix_error.__cause__, RuntimeError)


def test_tryeval_does_not_catch_python_failures() -> None:
    extra = Builtins()
    extra.function("fail")(lambda x: 1 / 0)
    with pytest.raises(EvaluationError):
        loads("(builtins.tryEval (builtins.fail 1)).success", bool, builtins=extra)


def test_builtin_without_arguments_is_rejected() -> None:
    extra = Builtins()
    extra.function("nothing")(lambda: 1)
    with pytest.raises(TypeError, match="at least one positional argument"):
        loads("1", builtins=extra)


def test_names() -> None:
    extra = Builtins()
    extra.value("a", 1)
    extra.source("b", "2")
    extra.function("c")(lambda x: x)
    assert sorted(extra.names()) == ["a", "b", "c"]


def test_python_values_become_nix_values() -> None:
    extra = Builtins()
    extra.value("admin", User("root", Tier.paid))
    extra.value("ports", (80, 443))
    extra.value("tiers", {Tier.free: 0})
    assert loads("builtins.admin", User, builtins=extra) == User("root", Tier.paid)
    assert loads("builtins.ports ++ [ 8080 ]", list[int], builtins=extra) == [80, 443, 8080]
    assert loads("builtins.tiers", builtins=extra) == {"free": 0}


def test_unconvertible_values() -> None:
    extra = Builtins()
    extra.value("big", 2**70)
    with pytest.raises(ValueError, match="outside Nix's 64-bit range"):
        loads("1", builtins=extra)
    extra = Builtins()
    extra.function("opaque")(lambda x: object())
    with pytest.raises(EvaluationError, match="returned a value Nix cannot hold"):
        loads("builtins.opaque 1", builtins=extra)
