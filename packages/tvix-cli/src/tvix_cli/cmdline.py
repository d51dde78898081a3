"""The options of ``tvix eval`` / ``tvix instantiate`` as data, and a fast parser for them.

The typer application is the command line users see (help, usage errors). Importing typer
costs more than evaluating a small expression, so :func:`parse_fast` handles well-formed
``eval``/``instantiate`` command lines directly and gives up (returns None) on anything else:
``--help``, unknown flags, missing values, conflicting output modes. Both routes build the same
:class:`CommandLine` and so the same :class:`~tvix_cli.runner.Request`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tvix_cli.runner import Request


@dataclass
class CommandLine:
    """Parsed options of ``eval`` or ``instantiate`` (flags the command lacks stay default)."""

    command: str
    inputs: list[str] = field(default_factory=list)
    expr: bool = False
    attr: list[str] = field(default_factory=list)
    arg: list[tuple[str, str]] = field(default_factory=list)
    argstr: list[tuple[str, str]] = field(default_factory=list)
    include: list[str] = field(default_factory=list)
    strict: bool = False
    json: bool = False
    xml: bool = False
    raw: bool = False
    no_location: bool = False
    show_trace: bool = False
    pure: bool = False
    store: str | None = None
    display_ast: bool = False
    compile_only: bool = False
    no_warnings: bool = False
    trace_runtime: bool = False
    eval_: bool = False
    parse: bool = False
    read_write: bool = False
    readonly: bool = False
    add_root: str | None = None


class ConflictingOptions(ValueError):
    """More than one of ``--json``, ``--xml`` and ``--raw``."""


def to_request(cl: CommandLine) -> Request:
    """The :class:`~tvix_cli.runner.Request` a command line asks for."""
    from tvix_cli.runner import Request
    from tvix_cli.session import Settings

    chosen = [n for n, on in (("json", cl.json), ("xml", cl.xml), ("raw", cl.raw)) if on]
    if len(chosen) > 1:
        raise ConflictingOptions("choose at most one of --json, --xml and --raw")
    is_eval = cl.command == "eval"
    eval_only = is_eval or cl.eval_
    read_only = (eval_only and not cl.read_write) or cl.readonly
    auto_args = [(n, "expr", v) for n, v in cl.arg] + [(n, "str", v) for n, v in cl.argstr]
    return Request(
        inputs=list(cl.inputs),
        expressions=cl.expr,
        attr_paths=list(cl.attr),
        eval_only=eval_only,
        parse_only=cl.parse,
        strict=cl.strict,
        output=chosen[0] if chosen else "nix",  # type: ignore[arg-type]
        xml_location=not cl.no_location,
        show_trace=cl.show_trace,
        display_ast=cl.display_ast,
        compile_only=cl.compile_only,
        no_warnings=cl.no_warnings,
        trace_runtime=cl.trace_runtime,
        add_root=cl.add_root,
        settings=Settings(
            search_path=list(cl.include),
            store_url=cl.store,
            read_only=read_only,
            store_fallback=read_only,
            pure=cl.pure,
            auto_args=auto_args,
            warnings=not cl.no_warnings,
            tracer=_trace_to_stderr if cl.trace_runtime else None,
        ),
    )


def _trace_to_stderr(event: str) -> None:
    import sys

    sys.stderr.write(f"trace: {event}\n")


_COMMON_FLAGS = {
    "-E": "expr",
    "--expr": "expr",
    "--strict": "strict",
    "--json": "json",
    "--xml": "xml",
    "--no-location": "no_location",
    "--show-trace": "show_trace",
    "--display-ast": "display_ast",
    "--no-warnings": "no_warnings",
}
FLAGS = {
    "eval": {
        **_COMMON_FLAGS,
        "--raw": "raw",
        "--pure": "pure",
        "--compile-only": "compile_only",
        "--trace-runtime": "trace_runtime",
    },
    "instantiate": {
        **_COMMON_FLAGS,
        "--eval": "eval_",
        "--eval-only": "eval_",
        "--parse": "parse",
        "--read-write-mode": "read_write",
        "--readonly-mode": "readonly",
        "--indirect": "",
    },
}
_COMMON_VALUES = {
    "-A": "attr",
    "--attr": "attr",
    "-I": "include",
    "--include": "include",
    "--store": "store",
}
VALUES = {
    "eval": _COMMON_VALUES,
    "instantiate": {**_COMMON_VALUES, "--add-root": "add_root"},
}
_ENV_OPTIONS = ("TVIX_DISPLAY_AST", "TVIX_TRACE_RUNTIME")


def parse_fast(args: list[str]) -> CommandLine | None:
    """Parse a plain ``eval``/``instantiate`` command line; None when typer must handle it."""
    if not args or args[0] not in FLAGS or any(os.environ.get(v) for v in _ENV_OPTIONS):
        return None
    command = args[0]
    flags = FLAGS[command]
    values = VALUES[command]
    cl = CommandLine(command)
    if command == "eval" and "--impure" in args:
        flags = {**flags, "--impure": ""}
    i = 1
    n = len(args)
    while i < n:
        a = args[i]
        if a == "--":
            cl.inputs.extend(args[i + 1 :])
            break
        if a in flags:
            name = flags[a]
            if name:
                setattr(cl, name, True)
            if a == "--impure":
                cl.pure = False
        elif a in values or (a.startswith("--") and a.split("=", 1)[0] in values):
            if "=" in a and a.startswith("--"):
                key, value = a.split("=", 1)
            else:
                if i + 1 >= n:
                    return None
                key, value = a, args[i + 1]
                i += 1
            name = values[key]
            if name in ("attr", "include"):
                getattr(cl, name).append(value)
            elif name:
                setattr(cl, name, value)
        elif a in ("--arg", "--argstr"):
            if i + 2 >= n:
                return None
            pair = (args[i + 1], args[i + 2])
            (cl.arg if a == "--arg" else cl.argstr).append(pair)
            i += 2
        elif a.startswith("-") and a != "-":
            return None
        else:
            cl.inputs.append(a)
        i += 1
    if sum((cl.json, cl.xml, cl.raw)) > 1:
        return None
    if cl.store is None:
        cl.store = os.environ.get("TVIX_STORE_ADDR") or None
    return cl
