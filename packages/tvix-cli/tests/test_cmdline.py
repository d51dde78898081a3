"""The fast command-line parser agrees with the typer application wherever it answers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tvix_cli import app as app_module
from tvix_cli.cmdline import CommandLine, parse_fast

WORDS = st.sampled_from(
    [
        "-E",
        "--expr",
        "--strict",
        "--json",
        "--xml",
        "--raw",
        "--no-location",
        "--show-trace",
        "--pure",
        "--impure",
        "--display-ast",
        "--compile-only",
        "--no-warnings",
        "--trace-runtime",
        "--eval",
        "--eval-only",
        "--parse",
        "--read-write-mode",
        "--readonly-mode",
        "--indirect",
        "-A",
        "--attr",
        "-I",
        "--store",
        "--add-root",
        "--arg",
        "--argstr",
        "--attr=x.y",
        "--store=memory://",
        "--",
        "-",
        "a.nix",
        "1 + 1",
        "x",
        "name=/p",
        "-Z",
        "--help",
    ]
)


def _typer_parse(args: list[str], monkeypatch: pytest.MonkeyPatch) -> CommandLine | None:
    captured: list[CommandLine] = []

    def capture(cl: CommandLine) -> None:
        captured.append(cl)

    monkeypatch.setattr(app_module, "_run", capture)
    try:
        app_module.app(args=app_module.join_pairs(args), prog_name="tvix", standalone_mode=False)
    except Exception:
        return None
    return captured[0] if captured else None


@settings(max_examples=150, deadline=None)
@given(command=st.sampled_from(["eval", "instantiate"]), rest=st.lists(WORDS, max_size=7))
def test_fast_parser_agrees_with_typer(command: str, rest: list[str]) -> None:
    args = [command, *rest]
    fast = parse_fast(args)
    if fast is None:
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("TVIX_STORE_ADDR", raising=False)
        slow = _typer_parse(args, mp)
    assert slow == fast, args


def test_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["eval", "-E", "1", "--arg", "a", "2", "--argstr", "b", "s", "-A", "x", "--impure"]
    cl = parse_fast(args)
    assert cl == CommandLine(
        "eval", inputs=["1"], expr=True, attr=["x"], arg=[("a", "2")], argstr=[("b", "s")]
    )
    assert _typer_parse(args, monkeypatch) == cl
    assert parse_fast(["eval", "--help"]) is None
    assert parse_fast(["eval", "--json", "--xml"]) is None
    assert parse_fast(["repl"]) is None
