"""The examples run and say what the README says they do."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_cfg_demo(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "cfg_demo.py"), run_name="__main__")
    assert capsys.readouterr().out == (
        "These are the foods:\n  beef: Tasty\n  coffee: Tasty\n  olives: Eww\n  tomatoes: Okay\n"
    )


def test_app_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    sys.modules.pop("app_config", None)
    import app_config

    config = app_config.load_config()
    assert config.listen == app_config.Listen("0.0.0.0", 8081)
    assert config.database == app_config.Database("postgresql://db.internal/shop", 20, 2.5)
    assert [w.concurrency for w in config.workers] == [1, 4]
    assert config.features == {"recommendations": True, "search": True}
    assert config.environment is app_config.Environment.Production
    assert config.admin_email is None


def test_app_config_round_trips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import app_config
    import tvix_serde

    config = app_config.load_config()
    assert tvix_serde.loads(tvix_serde.dumps(config), app_config.AppConfig) == config
