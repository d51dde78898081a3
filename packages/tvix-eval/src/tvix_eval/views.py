"""Read-only views of Nix sets and lists that evaluate an element only when it is read.

``to_python(value, lazy=True)`` returns these for big structures; they live apart from
:mod:`tvix_eval.api` so that importing the API does not load :mod:`typing` for them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, overload

from tvix_eval.runtime.values import NixAttrs, NixPath, NixString, Value, force

if TYPE_CHECKING:
    from tvix_eval.api import Evaluator


class LazyAttrs(Mapping[str, Any]):
    """A Nix set seen as a read-only mapping; values are evaluated and converted on access."""

    def __init__(self, attrs: Any, evaluator: Evaluator) -> None:
        self._attrs = attrs
        self._evaluator = evaluator

    def __getitem__(self, key: str) -> Any:
        item = self._attrs.d[key]
        return self._evaluator.run(lambda: to_python_shallow(item, self._evaluator))

    def __iter__(self) -> Iterator[str]:
        return iter(self._attrs.sorted_keys())

    def __len__(self) -> int:
        return len(self._attrs.d)


class LazyList(Sequence[Any]):
    """A Nix list seen as a read-only sequence; elements are evaluated on access."""

    def __init__(self, items: list[Any], evaluator: Evaluator) -> None:
        self._items = items
        self._evaluator = evaluator

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._items)))]
        item = self._items[index]
        return self._evaluator.run(lambda: to_python_shallow(item, self._evaluator))

    def __len__(self) -> int:
        return len(self._items)


def to_python_shallow(v: Value, evaluator: Evaluator) -> Any:
    """``v`` forced and converted one level deep: sets and lists become lazy views."""
    v = force(v)
    t = type(v)
    if t is NixString:
        return str(v)
    if t is NixPath:
        return PurePosixPath(v.path)
    if t is list:
        return LazyList(v, evaluator)
    if t is NixAttrs:
        return LazyAttrs(v, evaluator)
    return v
