"""The package surface: NAR, narinfo and signing load on first use, every public name resolves."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_nar_narinfo_and_signing_load_on_first_use() -> None:
    script = (
        "import sys, nix_compat\n"
        "lazy = ('nix_compat.nar', 'nix_compat.narinfo', 'nix_compat.signing', 'cryptography')\n"
        "print([m for m in lazy if m in sys.modules])\n"
        "nix_compat.NarReader\n"
        "print('nix_compat.nar' in sys.modules, 'nix_compat.narinfo' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split("\n")[:2] == ["[]", "True False"]


def test_public_names_resolve() -> None:
    import nix_compat
    from nix_compat.nar import NarReader
    from nix_compat.narinfo import parse_narinfo
    from nix_compat.signing import PublicKey

    for name in nix_compat.__all__:
        assert getattr(nix_compat, name) is not None
    assert nix_compat.NarReader is NarReader
    assert nix_compat.parse_narinfo is parse_narinfo
    assert nix_compat.PublicKey is PublicKey
    assert nix_compat.nar.NarReader is NarReader
    assert nix_compat.narinfo.parse_narinfo is parse_narinfo


def test_unknown_names_raise_attribute_error() -> None:
    import nix_compat

    with pytest.raises(AttributeError, match="no_such_name"):
        nix_compat.no_such_name  # noqa: B018
