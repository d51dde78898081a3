"""The package surface: light to import, public names, ``python -m``."""

from __future__ import annotations

import subprocess
import sys


def test_import_is_light_and_server_pieces_are_lazy() -> None:
    script = (
        "import sys, tvix_castore\n"
        "heavy = [m for m in ('grpc', 'lmdb', 'typer', 'rich') if m in sys.modules]\n"
        "print(heavy)\n"
        "tvix_castore.start_daemon\n"
        "print('grpc' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["[]", "True"]


def test_public_names_resolve() -> None:
    import tvix_castore

    for name in tvix_castore.__all__:
        assert getattr(tvix_castore, name) is not None
    assert callable(tvix_castore.build_server)


def test_python_dash_m_shows_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tvix_castore", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    for command in ("daemon", "import", "ls", "cat"):
        assert command in result.stdout
