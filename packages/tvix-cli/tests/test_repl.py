"""``tvix repl``: bindings, commands, multi-line input and completion."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from tvix_cli.repl import HELP, PROMPT, Repl
from tvix_cli.session import Settings


@pytest.fixture
def repl() -> Repl:
    return Repl(Settings(store_url="memory://"))


def test_bindings_persist(repl: Repl) -> None:
    assert repl.handle("x = 1 + 1") == ""
    assert repl.handle("y = x * 10") == ""
    assert repl.handle("y + x") == "22\n"
    assert repl.handle("{ a = x; b = [ 1 ]; }") == "{ a = 2; b = [ ... ]; }\n"
    assert repl.handle("map = 5") == ""
    assert repl.handle("map + x") == "7\n"


def test_commands(repl: Repl, tmp_path: Path) -> None:
    f = tmp_path / "lib.nix"
    f.write_text("{ answer = 42; double = n: n * 2; }")
    assert repl.handle(f":l {f}") == "Added 2 variables.\n"
    assert repl.handle("double answer") == "84\n"
    assert repl.handle(":a { z = 3; }") == "Added 1 variables.\n"
    assert repl.handle(":p { a.b = z; }") == "{ a = { b = 3; }; }\n"
    assert repl.handle(":t z") == "an integer\n"
    assert repl.handle(":?") == HELP
    assert repl.handle(":q") is None
    assert str(repl.handle(":frob")).startswith("error: unknown command")


def test_multi_line_input(repl: Repl) -> None:
    assert repl.handle("let") == ""
    assert repl.pending
    assert repl.handle("  a = 5;") == ""
    assert repl.handle("in a") == "5\n"
    assert not repl.pending


def test_errors_do_not_end_the_session(repl: Repl) -> None:
    assert str(repl.handle('throw "no"')).startswith("error: no")
    assert str(repl.handle(":l /does/not/exist")).startswith("error: ")
    assert repl.handle("1") == "1\n"


def test_completion(repl: Repl) -> None:
    repl.handle("myset = { alpha = 1; beta = { gamma = 2; }; }")
    assert repl.completions("myse") == ["myset"]
    assert repl.completions("myset.b") == ["myset.beta"]
    assert repl.completions("myset.beta.") == ["myset.beta.gamma"]
    assert "builtins" in repl.completions("builti")


def test_loop_reads_until_quit(repl: Repl) -> None:
    out = io.StringIO()
    assert repl.loop(io.StringIO("x = 2\nx * 3\n:q\n"), out) == 0
    assert out.getvalue() == f"{PROMPT}{PROMPT}6\n{PROMPT}"


def test_values_print_like_nix_repl(repl: Repl) -> None:
    drv = 'derivation { name = "foo"; builder = "/bin/sh"; system = "x86_64-linux"; }'
    assert repl.handle(drv) == "«derivation /nix/store/9d794zbx10n43fa6zaqf33pfymdrm4r2-foo.drv»\n"
    assert repl.handle("x: x") == "«lambda @ «string»:1:1»\n"
    assert repl.handle("builtins.map") == "«primop»\n"
    assert repl.handle("{ a.b.c = 1; l = [ [ 1 ] ]; }") == "{ a = { ... }; l = [ ... ]; }\n"
    assert (
        repl.handle(":p { a.b.c = 1; l = [ [ 1 ] ]; }")
        == "{ a = { b = { c = 1; }; }; l = [ [ 1 ] ]; }\n"
    )
