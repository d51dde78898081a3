"""Nix files C++ Nix 2.8 embeds in its evaluator: the ``derivation`` wrapper and ``fetchurl.nix``.

Both files are taken unchanged from C++ Nix 2.8 (``src/libexpr/primops/derivation.nix`` and
``corepkgs/fetchurl.nix``) and are licensed under the GNU Lesser General Public License,
version 2.1 or later (see ``README.md`` here). They stay byte-identical to Nix's because error
positions point into them.

``<nix/NAME>`` resolves to ``/__corepkgs__/NAME`` when no search path entry has it (as in C++
Nix 2.8); importing ``/__corepkgs__/fetchurl.nix`` evaluates the bundled file, while
``readFile`` and ``pathExists`` do not see it (C++ Nix does not either).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tvix_eval.runtime.context import EvalState

#: the directory ``<nix/…>`` falls back to
PREFIX = "/__corepkgs__/"
#: the file name error positions inside the ``derivation`` wrapper show (as in C++ Nix 2.8)
DERIVATION_NIX = "//builtin/derivation.nix"
#: the corepkgs ``import`` can load, by name under :data:`PREFIX`
IMPORTABLE = ("fetchurl.nix",)

_HERE = os.path.dirname(os.path.abspath(__file__))


def read_corepkg(name: str) -> bytes:
    """The contents of a bundled file (``derivation.nix``, ``fetchurl.nix``)."""
    with open(os.path.join(_HERE, name), "rb") as f:
        return f.read()


def install(state: EvalState) -> None:
    """Make ``import /__corepkgs__/NAME`` evaluate the bundled files in this evaluation.

    They enter the import cache as not-yet-evaluated thunks, keyed by their path, so nothing is
    read or compiled unless a program imports them.
    """
    from tvix_eval.runtime.values import Thunk, Value, force

    for name in IMPORTABLE:
        path = PREFIX + name

        def code(_: object, path: str = path, name: str = name) -> Value:
            loader = state.import_file
            assert loader is not None
            return force(loader(read_corepkg(name).decode(), path))

        state.import_cache.setdefault(path, Thunk(code, None))
