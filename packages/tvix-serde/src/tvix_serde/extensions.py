"""Extra builtins for the loaded Nix code, written in Python or in Nix.

This is what the reference's ``from_str_with_config`` offers: the host program adds
``builtins.<name>`` before the configuration is evaluated::

    extra = Builtins()

    @extra.function("prependHello")
    def prepend_hello(name: str) -> str:
        return f"hello {name}"

    loads('builtins.prependHello "world"', str, builtins=extra)  # "hello world"
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from tvix_eval.api import Evaluator

F = TypeVar("F", bound=Callable[..., Any])


class Builtins:
    """A collection of extra builtins: Python functions, Python constants and Nix source."""

    def __init__(self) -> None:
        self._functions: dict[str, Callable[..., Any]] = {}
        self._values: dict[str, Any] = {}
        self._sources: dict[str, str] = {}

    def function(self, name: str | None = None) -> Callable[[F], F]:
        """Decorator: register a Python function as ``builtins.<name>`` (default: its name).

        Each positional parameter without a default is one curried Nix argument, converted to
        the parameter's annotated type (only what that type needs is evaluated); the return
        value is converted back to Nix.
        """

        def register(fn: F) -> F:
            self._functions[name or fn.__name__] = fn
            return fn

        return register

    def value(self, name: str, value: Any) -> None:
        """Register a Python value (plain data, dataclasses, paths…) as ``builtins.<name>``."""
        self._values[name] = value

    def source(self, name: str, code: str) -> None:
        """Register ``builtins.<name>`` as the value of the Nix expression ``code``."""
        self._sources[name] = code

    def names(self) -> Iterator[str]:
        """The names registered so far."""
        yield from self._functions
        yield from self._values
        yield from self._sources

    def install(self, evaluator: Evaluator) -> None:
        """Define every registered builtin in ``evaluator`` (before it evaluates anything)."""
        from tvix_serde.to_nix import python_function, to_nix

        for name, fn in self._functions.items():
            evaluator.define_builtin(name, python_function(name, fn))
        for name, value in self._values.items():
            evaluator.define_builtin(name, to_nix(value))
        for name, code in self._sources.items():
            evaluator.define_builtin_source(name, code)

    @classmethod
    def of(cls, spec: Builtins | Mapping[str, Any] | None) -> Builtins:
        """``spec`` as a :class:`Builtins`: a mapping's callables become functions, the other
        values constants."""
        if isinstance(spec, Builtins):
            return spec
        out = cls()
        for name, value in (spec or {}).items():
            if callable(value):
                out.function(name)(value)
            else:
                out.value(name, value)
        return out
