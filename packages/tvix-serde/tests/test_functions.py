"""Nix functions loaded as Python callables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from tvix_serde import EvaluationError, ShapeError, loads


@dataclass
class Hooks:
    greet: Callable[[str], str]
    add: Callable[[int, int], int]


def test_functions_in_a_config() -> None:
    hooks = loads('{ greet = n: "hi ${n}"; add = a: b: a + b; }', Hooks)
    assert hooks.greet("ada") == "hi ada"
    assert hooks.add(2, 3) == 5
    assert repr(hooks.greet) == "<Nix function>"


def test_result_type_is_decoded() -> None:
    f = loads("x: { y = x; z = [ x ]; }", Callable[[int], dict[str, object]])
    assert f(4) == {"y": 4, "z": [4]}
    g = loads('x: "not an int"', Callable[[int], int])
    with pytest.raises(ShapeError, match="expected an integer"):
        g(1)


def test_functors_builtins_and_any_arity() -> None:
    assert loads("{ __functor = self: x: x * 2; }", Callable[..., int])(21) == 42
    assert loads("builtins.add", Callable[..., int])(1, 2) == 3
    assert loads("builtins.toString", Callable[[object], str])([1, "a"]) == "1 a"


def test_errors_when_called() -> None:
    add = loads("a: b: a + b", Callable[[int, int], int])
    with pytest.raises(EvaluationError, match="cannot add a string to an integer"):
        add(1, "x")
    with pytest.raises(TypeError, match="takes 2 arguments, got 1"):
        add(1)


def test_not_a_function() -> None:
    with pytest.raises(ShapeError, match="expected a function, got 1"):
        loads("1", Callable[[int], int])
