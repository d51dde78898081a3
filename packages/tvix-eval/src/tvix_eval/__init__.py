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
