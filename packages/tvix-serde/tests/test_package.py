"""Package-level promises: the docstring example, a light import, the public names."""

from __future__ import annotations

import doctest
import subprocess
import sys

import tvix_serde


def test_docstring_examples() -> None:
    assert doctest.testmod(tvix_serde).failed == 0


def test_import_does_not_load_the_evaluator() -> None:
    code = (
        "import sys, tvix_serde; print(sorted(m for m in sys.modules if m.startswith('tvix_eval')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names() -> None:
    assert set(tvix_serde.__all__) == {
        "NIX_NAME",
        "Builtins",
        "Error",
        "EvaluationError",
        "Location",
        "MissingAttributeError",
        "ShapeError",
        "UnknownAttributeError",
        "dump",
        "dumps",
        "load",
        "load_file",
        "loads",
    }
