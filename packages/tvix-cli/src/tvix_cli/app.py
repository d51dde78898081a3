"""The ``tvix`` command line (typer), with ``nix-instantiate``'s flag spellings.

``tvix eval`` is ``nix-instantiate --eval``; ``tvix instantiate`` accepts ``nix-instantiate``'s
flags; ``tvix repl`` and ``tvix serve`` are the interactive and the gRPC front ends. Usage errors
exit with status 2, evaluation errors with 1.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from tvix_cli.cmdline import CommandLine, ConflictingOptions, to_request
from tvix_cli.main import __version__

app = typer.Typer(
    name="tvix",
    help="Evaluate Nix expressions, instantiate derivations into the store, and a REPL.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Options shared by eval and instantiate ----------------------------------------------------

Inputs = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="FILE|EXPR", help="Files to evaluate ('-' is stdin), or expressions with -E."
    ),
]
ExprFlag = Annotated[
    bool, typer.Option("-E", "--expr", help="Interpret the arguments as Nix expressions.")
]
AttrOpt = Annotated[
    list[str] | None,
    typer.Option("-A", "--attr", metavar="ATTRPATH", help="Select an attribute (repeatable)."),
]
ArgOpt = Annotated[
    list[str] | None,
    typer.Option("--arg", metavar="NAME EXPR", help="Pass a Nix value to a top-level function."),
]
ArgStrOpt = Annotated[
    list[str] | None,
    typer.Option("--argstr", metavar="NAME STRING", help="Pass a string to a top-level function."),
]

#: joins the two words of ``--arg NAME EXPR`` into one option value (see :func:`join_pairs`)
PAIR_SEP = "\0"


#: options whose next word is their value (never an option name)
_VALUE_OPTIONS = frozenset(
    ["-A", "--attr", "-I", "--include", "--store", "--add-root", "--listen-address"]
)


def join_pairs(args: list[str]) -> list[str]:
    """Turn ``--arg NAME EXPR`` into ``--arg NAME<NUL>EXPR`` (click options take one value)."""
    out: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            out.extend(args[i:])
            break
        if a in _VALUE_OPTIONS and i + 1 < len(args):
            out.extend([a, args[i + 1]])
            i += 2
            continue
        if a in ("--arg", "--argstr"):
            if i + 2 >= len(args):
                raise typer.BadParameter(f"'{a}' requires two arguments (NAME and a value)")
            out.extend([a, args[i + 1] + PAIR_SEP + args[i + 2]])
            i += 3
            continue
        out.append(a)
        i += 1
    return out


IncludeOpt = Annotated[
    list[str] | None,
    typer.Option("-I", "--include", metavar="PATH|NAME=PATH", help="Add to the Nix search path."),
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Evaluate the result fully.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
XmlOpt = Annotated[bool, typer.Option("--xml", help="Print the result as XML.")]
NoLocationOpt = Annotated[
    bool, typer.Option("--no-location", help="Leave positions out of XML output.")
]
ShowTraceOpt = Annotated[
    bool, typer.Option("--show-trace", help="Show the full trace of evaluation errors.")
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="TVIX_STORE_ADDR",
        metavar="URL",
        help="Store URL (memory://, lmdb:///dir, grpc+unix:///socket) "
        "[default: lmdb in the XDG data dir].",
        show_default=False,
    ),
]
PureOpt = Annotated[
    bool,
    typer.Option("--pure/--impure", help="Leave out impure builtins (getEnv, currentTime…)."),
]
DisplayAstOpt = Annotated[
    bool, typer.Option("--display-ast", envvar="TVIX_DISPLAY_AST", help="Print the AST to stderr.")
]
CompileOnlyOpt = Annotated[
    bool, typer.Option("--compile-only", help="Only parse and compile (a lint run).")
]
NoWarningsOpt = Annotated[bool, typer.Option("--no-warnings", help="Do not print warnings.")]
TraceRuntimeOpt = Annotated[
    bool,
    typer.Option(
        "--trace-runtime",
        envvar="TVIX_TRACE_RUNTIME",
        help="Report instantiations, file reads and store writes on stderr.",
    ),
]


def _pairs(values: list[str] | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for value in values or []:
        name, _, text = value.partition(PAIR_SEP)
        out.append((name, text))
    return out


def _command_line(command: str, params: dict[str, Any]) -> CommandLine:
    """The :class:`CommandLine` of ``command`` from the options typer parsed: the command
    function's parameters, named as the fields (``json_`` stands for ``json``)."""
    options = dict(params)
    return CommandLine(
        command,
        inputs=list(options.pop("inputs") or []),
        attr=list(options.pop("attr") or []),
        arg=_pairs(options.pop("arg")),
        argstr=_pairs(options.pop("argstr")),
        include=list(options.pop("include") or []),
        json=options.pop("json_"),
        **options,
    )


def _run(cl: CommandLine) -> None:
    from tvix_cli.runner import run_request

    try:
        req = to_request(cl)
    except ConflictingOptions as e:
        raise typer.BadParameter(str(e)) from None
    raise typer.Exit(run_request(req))


@app.command("eval")
def eval_command(  # noqa: PLR0917 - one parameter per option
    inputs: Inputs = None,
    expr: ExprFlag = False,
    attr: AttrOpt = None,
    arg: ArgOpt = None,
    argstr: ArgStrOpt = None,
    include: IncludeOpt = None,
    strict: StrictOpt = False,
    json_: JsonOpt = False,
    xml: XmlOpt = False,
    raw: Annotated[bool, typer.Option("--raw", help="Print a string result unquoted.")] = False,
    no_location: NoLocationOpt = False,
    show_trace: ShowTraceOpt = False,
    pure: PureOpt = False,
    store: StoreOpt = None,
    display_ast: DisplayAstOpt = False,
    compile_only: CompileOnlyOpt = False,
    no_warnings: NoWarningsOpt = False,
    trace_runtime: TraceRuntimeOpt = False,
) -> None:
    """Evaluate FILE (or -E EXPR) and print the result, like 'nix-instantiate --eval'."""
    _run(_command_line("eval", locals()))


@app.command("instantiate")
def instantiate_command(  # noqa: PLR0917 - one parameter per option
    inputs: Inputs = None,
    expr: ExprFlag = False,
    attr: AttrOpt = None,
    arg: ArgOpt = None,
    argstr: ArgStrOpt = None,
    include: IncludeOpt = None,
    eval_: Annotated[
        bool, typer.Option("--eval", "--eval-only", help="Evaluate and print; no derivations.")
    ] = False,
    parse: Annotated[bool, typer.Option("--parse", help="Parse and print the expression.")] = False,
    strict: StrictOpt = False,
    json_: JsonOpt = False,
    xml: XmlOpt = False,
    no_location: NoLocationOpt = False,
    read_write: Annotated[
        bool, typer.Option("--read-write-mode", help="Write .drv files even with --eval.")
    ] = False,
    readonly: Annotated[
        bool, typer.Option("--readonly-mode", help="Compute .drv paths without writing them.")
    ] = False,
    add_root: Annotated[
        str | None,
        typer.Option(
            "--add-root", metavar="PATH", help="Make PATH a symlink to the .drv and print it."
        ),
    ] = None,
    indirect: Annotated[
        bool, typer.Option("--indirect", help="Accepted for compatibility.")
    ] = False,
    show_trace: ShowTraceOpt = False,
    store: StoreOpt = None,
    display_ast: DisplayAstOpt = False,
    no_warnings: NoWarningsOpt = False,
) -> None:
    """Instantiate derivations (print their .drv paths), or evaluate with --eval."""
    del indirect
    _run(_command_line("instantiate", locals()))


@app.command("repl")
def repl_command(
    include: IncludeOpt = None,
    store: StoreOpt = None,
    show_trace: ShowTraceOpt = False,
    compile_only: CompileOnlyOpt = False,
) -> None:
    """An interactive prompt: evaluate expressions, keep bindings (':?' for help)."""
    from tvix_cli.repl import Repl
    from tvix_cli.session import Settings

    if compile_only:
        sys.stderr.write("warning: --compile-only has no effect on the REPL\n")
    settings = Settings(search_path=list(include or []), store_url=store, read_only=True)
    raise typer.Exit(Repl(settings, show_trace=show_trace).loop())


@app.command("serve")
def serve_command(
    listen_address: Annotated[
        str,
        typer.Option(
            "--listen-address",
            envvar="TVIX_EVALUATOR_LISTEN_ADDRESS",
            help="Where to listen: unix:///path/to/socket or host:port.",
        ),
    ] = "[::1]:8000",
    store: StoreOpt = None,
) -> None:
    """Serve tvix.proto.v1.EvaluatorService over gRPC until interrupted."""
    from tvix_cli.serve import serve

    raise typer.Exit(serve(listen_address, store))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tvix {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Evaluate Nix expressions, instantiate derivations into the store, and a REPL."""


def run(args: list[str]) -> None:
    """Run the application; Ctrl-C exits with 130 without a traceback."""
    try:
        try:
            joined = join_pairs(args)
        except typer.BadParameter as e:
            sys.stderr.write(f"error: {e}\nTry 'tvix --help' for help.\n")
            sys.exit(2)
        app(args=joined, prog_name="tvix")
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted by the user\n")
        sys.exit(130)
