"""What ``import tvix_eval`` and a small evaluation load: start-up pays only for what it uses.

Each check runs a fresh interpreter and looks at ``sys.modules`` afterwards; no timing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

#: never needed by the evaluator itself
FOREIGN = ("grpc", "lmdb", "typer", "rich", "cryptography", "tvix_store", "tvix_castore")
#: the builtin groups loaded on first call, and what they bring along
LAZY_BUILTIN_MODULES = (
    "tvix_eval.builtins.derivation",
    "tvix_eval.builtins.fetchers",
    "tvix_eval.builtins.hashing",
    "tvix_eval.builtins.json",
    "tvix_eval.builtins.regex",
    "tvix_eval.builtins.toml",
    "tvix_eval.builtins.versions",
    "tvix_eval.builtins.xml",
    "tvix_eval.builtins._json_parse",
    "tvix_eval.builtins._posix_exec",
    "nix_compat",
    "json",
    "datetime",
    "hashlib",
)
#: what an evaluation of an expression (no files) does not need
FILE_ONLY = ("tvix_eval.syntax.cache", "pickle", "pathlib")


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter loads to run ``code`` (beyond those of its start-up)."""
    script = (
        f"import sys\nbefore = set(sys.modules)\n{code}\n"
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(out.splitlines()[-1].split())


def _present(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n in modules or any(m.startswith(n + ".") for m in modules))


def test_import_tvix_eval_loads_only_the_package() -> None:
    loaded = _modules_after("import tvix_eval")
    heavy = ("typing", "re", "dataclasses", "threading", "tvix_eval.api", "tvix_eval.syntax")
    assert _present(loaded, FOREIGN + LAZY_BUILTIN_MODULES + FILE_ONLY + heavy) == []
    assert sorted(m for m in loaded if m.startswith("tvix_eval")) == ["tvix_eval"]


def test_the_api_module_loads_neither_parser_nor_builtins() -> None:
    loaded = _modules_after("from tvix_eval import Evaluator, NixError, evaluate")
    heavy = ("typing", "re", "dataclasses", "tvix_eval.syntax", "tvix_eval.builtins")
    assert _present(loaded, FOREIGN + LAZY_BUILTIN_MODULES + FILE_ONLY + heavy) == []


def test_evaluating_an_expression_loads_no_rarely_used_builtins() -> None:
    loaded = _modules_after("import tvix_eval\nassert tvix_eval.evaluate('1 + 1') == 2")
    assert _present(loaded, FOREIGN + LAZY_BUILTIN_MODULES + FILE_ONLY) == []
    assert "tvix_eval.builtins.core" in loaded


def test_a_lazily_loaded_builtin_loads_its_group_when_called() -> None:
    loaded = _modules_after(
        "import tvix_eval\n"
        "ev = tvix_eval.Evaluator()\n"
        "assert ev.evaluate('builtins ? toJSON && builtins.isFunction builtins.toXML')\n"
        "assert 'tvix_eval.builtins.json' not in __import__('sys').modules\n"
        "assert ev.to_python(ev.evaluate('builtins.toJSON [ 1 ]')) == '[1]'\n"
    )
    assert "tvix_eval.builtins.json" in loaded
    assert "tvix_eval.builtins.xml" not in loaded


def test_public_names_still_import() -> None:
    code = (
        "from tvix_eval import EvalIO, Evaluator, FilesystemIO, NixError, NixParseError, "
        "PureIO, evaluate, print_value, to_python\n"
        "import tvix_eval\n"
        "assert set(tvix_eval.__all__) <= set(dir(tvix_eval))\n"
        "assert tvix_eval.Evaluator is Evaluator and tvix_eval.PureIO is PureIO\n"
        "print(tvix_eval.to_python(evaluate('{ a = [ 1 ]; }')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out == "{'a': [1]}\n"


def test_unknown_names_are_attribute_errors() -> None:
    import tvix_eval

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tvix_eval.nope  # noqa: B018


def test_evaluating_a_cached_file_loads_no_parser(tmp_path: Path) -> None:
    """The parser's lexer compiles big regular expressions (15 ms): a file found in the parse
    cache does without it."""
    nix = tmp_path / "f.nix"
    nix.write_text("let f = x: x + 1; in f 1")
    code = (
        "import os\n"
        f"os.environ['TVIX_CACHE_DIR'] = {str(tmp_path / 'cache')!r}\n"
        "from tvix_eval.api import Evaluator\n"
        "from tvix_eval.io import FilesystemIO\n"
        f"assert Evaluator(io=FilesystemIO()).evaluate_file({str(nix)!r}) == 2\n"
    )
    _modules_after(code)  # fills the cache
    assert (
        _present(_modules_after(code), ("tvix_eval.syntax.parser", "tvix_eval.syntax.lexer")) == []
    )
