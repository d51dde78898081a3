"""``python -m tvix_serde FILE [--into module:Type]``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tvix_serde.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(EXAMPLES / "foods.nix")]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == {
        "name": "exhaustive list of foods",
        "foods": {"beef": "Tasty", "coffee": "Tasty", "olives": "Eww", "tomatoes": "Okay"},
    }


def test_into_a_type(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    assert (
        main([str(EXAMPLES / "app.nix"), "--into", "app_config:AppConfig", "--ignore-unknown-keys"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["environment"] == "Production"
    assert data["listen"] == {"host": "0.0.0.0", "port": 8081}
    assert data["data_dir"] == "/var/lib/shop"


def test_shape_error_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    assert main([str(EXAMPLES / "app.nix"), "--into", "app_config:AppConfig"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "error: debugDump: unknown attribute (expected one of adminEmail, dataDir,"
    )
    assert f"at {EXAMPLES / 'app.nix'}:32:3:" in err


def test_stdin_and_evaluation_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("{ a = 1 + true; }"))
    assert main(["-"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot add a Boolean to an integer")
    assert err.rstrip().endswith("… while loading 'a'")


def test_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["/nonexistent/x.nix"]) == 1
    assert (
        capsys.readouterr().err
        == "error: opening file '/nonexistent/x.nix': No such file or directory\n"
    )


def test_bad_into(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([str(EXAMPLES / "foods.nix"), "--into", "no_such_module_xyz:T"])
    assert info.value.code == 2
    assert "--into: No module named 'no_such_module_xyz'" in capsys.readouterr().err


def test_python_dash_m() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tvix_serde", "-"],
        input='{ a = throw "oops"; }',
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: oops")
    assert "Traceback" not in proc.stderr
