"""The language corpus runs clean: every failure is on the not-yet-passing list."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]
RUNNER = ROOT / "tools" / "conformance.py"


def test_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("conformance", RUNNER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["conformance"] = module
    spec.loader.exec_module(module)
    if not module.DEFAULT_CORPUS.is_dir():
        pytest.skip("the seed corpus is not available")
    status = module.main([])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "passed" in out
