"""A Nix language evaluator in Python: parser, compiler to closures, lazy runtime and builtins.

>>> import tvix_eval
>>> tvix_eval.evaluate("1 + 2")
3

:func:`evaluate` runs one expression; an :class:`Evaluator` keeps builtins and the import cache
across calls; :func:`to_python` turns results into plain Python data; :func:`print_value` prints a
value exactly like ``nix-instantiate --eval``. Errors caused by the Nix program are
:class:`NixError` (``render()`` gives C++ Nix's report). File access goes through an
:class:`~tvix_eval.io.EvalIO`: none by default, :class:`FilesystemIO` for the real file system.
"""

# ``typing`` is not imported at run time: importing it (with ``re``, ``enum``…) would cost more
# than the rest of ``import tvix_eval``. Type checkers treat the name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from tvix_eval.api import Evaluator, evaluate, print_value, to_python
    from tvix_eval.errors import NixError, NixParseError
    from tvix_eval.io import EvalIO, FilesystemIO, PureIO

__all__ = [
    "EvalIO",
    "Evaluator",
    "FilesystemIO",
    "NixError",
    "NixParseError",
    "PureIO",
    "evaluate",
    "print_value",
    "to_python",
]

#: the module each public name comes from; it is imported when the name is first used
_HOMES = {
    "EvalIO": "tvix_eval.io",
    "Evaluator": "tvix_eval.api",
    "FilesystemIO": "tvix_eval.io",
    "NixError": "tvix_eval.errors",
    "NixParseError": "tvix_eval.errors",
    "PureIO": "tvix_eval.io",
    "evaluate": "tvix_eval.api",
    "print_value": "tvix_eval.api",
    "to_python": "tvix_eval.api",
}


def __getattr__(name: str) -> object:
    """Load a public name from its module on first use, so ``import tvix_eval`` stays cheap."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
