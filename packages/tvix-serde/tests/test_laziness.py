"""Only what the target type needs is evaluated."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from tvix_serde import Builtins, EvaluationError, loads


@dataclass
class Small:
    name: str


def test_unused_attribute_that_throws_is_not_evaluated() -> None:
    source = '{ name = "x"; broken = throw "never"; alsoBroken = abort "never"; }'
    assert loads(source, Small, ignore_unknown_keys=True) == Small("x")


def test_unused_nested_values_are_not_evaluated() -> None:
    source = '{ name = "x"; huge = builtins.genList (i: throw "never") 1000000; }'
    assert loads(source, Small, ignore_unknown_keys=True) == Small("x")


def test_unknown_key_check_does_not_force_values() -> None:
    counter: list[int] = []
    extra = Builtins()

    @extra.function("count")
    def count(x: int) -> int:
        counter.append(x)
        return x

    with pytest.raises(Exception, match="unknown attribute"):
        loads('{ name = "x"; other = builtins.count 1; }', Small, builtins=extra)
    assert counter == []


def test_list_elements_are_forced_only_when_the_type_needs_them() -> None:
    source = '[ 1 (throw "second") ]'
    assert loads(f"builtins.length {source}", int) == 2
    with pytest.raises(EvaluationError) as info:
        loads(source, list[int])
    assert info.value.path == (1,)


def test_plain_loading_forces_everything() -> None:
    with pytest.raises(EvaluationError):
        loads('{ name = "x"; broken = throw "boom"; }')


def test_dict_values_are_all_needed() -> None:
    with pytest.raises(EvaluationError) as info:
        loads('{ a = 1; b = throw "boom"; }', dict[str, int])
    assert info.value.path == ("b",)
