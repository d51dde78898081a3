"""Nix files C++ Nix 2.8 embeds (LGPL-2.1): the ``derivation`` wrapper and ``fetchurl.nix``."""

from __future__ import annotations

import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def read_corepkg(name: str) -> bytes:
    """The contents of a bundled file (``derivation.nix``, ``fetchurl.nix``)."""
    with open(os.path.join(_HERE, name), "rb") as f:
        return f.read()
