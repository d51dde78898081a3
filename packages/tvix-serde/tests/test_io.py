"""Pure and impure loading, imports, the search path, ``load`` and ``load_file``."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from tvix_serde import EvaluationError, load, load_file, loads


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    (tmp_path / "common.nix").write_text("{ port = 8080; }")
    (tmp_path / "app.nix").write_text('{ inherit (import ./common.nix) port; host = "h"; }')
    return tmp_path


def test_load_file_may_import_next_to_itself(config_dir: Path) -> None:
    assert load_file(config_dir / "app.nix") == {"host": "h", "port": 8080}
    assert load_file(str(config_dir / "app.nix"), dict[str, int | str]) == {
        "host": "h",
        "port": 8080,
    }


def test_pure_loading_refuses_files_elsewhere(
    config_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = tmp_path_factory.mktemp("other") / "secret.nix"
    other.write_text("42")
    (config_dir / "bad.nix").write_text(f"import {other}")
    with pytest.raises(EvaluationError) as info:
        load_file(config_dir / "bad.nix")
    assert "is forbidden in restricted mode" in info.value.render()
    assert load_file(config_dir / "bad.nix", pure=False) == 42


def test_loads_without_path_has_no_file_access(config_dir: Path) -> None:
    with pytest.raises(EvaluationError, match="forbidden"):
        loads(f"import {config_dir}/common.nix")


def test_search_path(config_dir: Path) -> None:
    assert loads("(import <cfg/common.nix>).port", int, search_path=[f"cfg={config_dir}"]) == 8080


def test_impure_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TVIX_SERDE_TEST", "yes")
    assert loads('builtins.getEnv "TVIX_SERDE_TEST"', str, pure=False) == "yes"
    with pytest.raises(EvaluationError):
        loads('builtins.getEnv "TVIX_SERDE_TEST"', str)


def test_relative_paths_resolve_against_the_file(config_dir: Path) -> None:
    assert loads("./data", str, path=config_dir / "x.nix") == f"{config_dir}/data"


def test_load_from_text_and_binary_files(config_dir: Path) -> None:
    assert load(io.StringIO("{ a = 1; }")) == {"a": 1}
    assert load(io.BytesIO(b'"\xc3\xa9"'), str) == "é"
    with open(config_dir / "app.nix", "rb") as f:
        assert load(f) == {"host": "h", "port": 8080}


def test_load_file_missing() -> None:
    with pytest.raises(FileNotFoundError):
        load_file(os.devnull + ".missing")
