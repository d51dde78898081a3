"""``tvix eval`` and ``tvix instantiate`` without the command-line layer: evaluate the inputs,
print results on stdout, render errors on stderr and return the exit status.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from tvix_eval.errors import NixError
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.values import Value

from tvix_cli.output import OutputMode, render
from tvix_cli.session import Session, Settings
from tvix_cli.store import StoreError

if TYPE_CHECKING:
    from tvix_eval.stats import EvalStats

from tvix_cli.toplevel import (
    UsageError,
    auto_call,
    find_along_attr_path,
    get_derivations,
    resolve_file,
)


@dataclass
class Request:
    """Everything ``nix-instantiate`` takes from its command line."""

    inputs: list[str] = field(default_factory=list)
    #: the inputs are expressions (``-E``), not files
    expressions: bool = False
    attr_paths: list[str] = field(default_factory=list)
    eval_only: bool = False
    parse_only: bool = False
    strict: bool = False
    output: OutputMode = "nix"
    #: positions in ``--xml`` output (``--no-location`` turns them off)
    xml_location: bool = True
    show_trace: bool = False
    display_ast: bool = False
    compile_only: bool = False
    no_warnings: bool = False
    trace_runtime: bool = False
    #: ``--add-root``: symlink(s) to the instantiated ``.drv`` files, printed instead of them
    add_root: str | None = None
    settings: Settings = field(default_factory=Settings)


@dataclass
class Source:
    """One input: its text and the file it came from (None for ``-E`` and stdin)."""

    text: str
    path: str | None
    name: str


def render_error(e: BaseException, show_trace: bool) -> str:
    """An error as C++ Nix prints it on stderr (without the trailing newline)."""
    if isinstance(e, EvalError):
        return e.render(show_trace)
    if isinstance(e, NixError):
        return e.render()
    return f"error: {e}"


def read_sources(req: Request, stdin: TextIO) -> list[Source]:
    """The inputs as source texts (``-E`` expressions, files, ``-`` for stdin)."""
    inputs = req.inputs
    if not inputs:
        if req.expressions:
            return []
        inputs = ["./default.nix"]
    out: list[Source] = []
    for item in inputs:
        if req.expressions:
            out.append(Source(item, None, "«string»"))
        elif item == "-":
            out.append(Source(stdin.read(), None, "«stdin»"))
        else:
            path = _lookup_file_arg(item, req.settings.search_path)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as e:
                raise UsageError(f"opening file '{path}': {e.strerror}") from None
            out.append(Source(data.decode("utf-8", "surrogateescape"), path, path))
    return out


def _lookup_file_arg(item: str, search_path: list[str]) -> str:
    """A file argument: a path, or ``<name>`` looked up in ``-I`` entries and ``NIX_PATH``."""
    if item.startswith("<") and item.endswith(">"):
        from tvix_cli.session import nix_path_entries

        name = item[1:-1]
        for entry in ":".join(nix_path_entries(search_path)).split(":"):
            prefix, sep, path = entry.partition("=")
            if not sep:
                prefix, path = "", entry
            if prefix and (name == prefix or name.startswith(prefix + "/")):
                candidate = os.path.join(path, name[len(prefix) + 1 :])
            elif not prefix:
                candidate = os.path.join(path, name)
            else:
                continue
            if os.path.exists(candidate):
                return resolve_file(candidate)
        raise UsageError(
            f"file '{item[1:-1]}' was not found in the Nix search path "
            "(add it using $NIX_PATH or -I)"
        )
    return resolve_file(item)


class Runner:
    """Runs one request, writing to the given streams."""

    def __init__(
        self, req: Request, stdout: TextIO, stderr: TextIO, stdin: TextIO, one_shot: bool = False
    ) -> None:
        self.req = req
        #: the process exits after this request (lets the session trade memory for speed)
        self.one_shot = one_shot
        self.stdout = stdout
        self.stderr = stderr
        self.stdin = stdin
        self._warned_gc = False
        self._roots = 0

    def run(self) -> int:
        """Do it; the exit status."""
        try:
            sources = read_sources(self.req, self.stdin)
            session = Session(self.req.settings, one_shot=self.one_shot)
            if self.req.parse_only:
                try:
                    return self._parse(session, sources)
                finally:
                    session.close()
            try:
                for source in sources:
                    self._process(session, source)
            finally:
                session.close()
            if session.evaluator.stats is not None:
                self._show_stats(session.evaluator.stats)
        except (NixError, UsageError, StoreError) as e:
            self.stdout.flush()
            self.stderr.write(render_error(e, self.req.show_trace) + "\n")
            return 1
        except Exception as e:  # a bug here, not the user's mistake
            self.stdout.flush()
            self.stderr.write(f"error: internal error: {type(e).__name__}: {e}\n")
            if self.req.show_trace:
                import traceback

                traceback.print_exc(file=self.stderr)
            return 1
        return 0

    def _show_stats(self, stats: EvalStats) -> None:
        """``NIX_SHOW_STATS``: the counts as JSON, on stderr or into ``NIX_SHOW_STATS_PATH``
        (as C++ Nix writes them)."""
        import json
        import time

        text = json.dumps(stats.as_nix(time.process_time()), indent=2) + "\n"
        path = os.environ.get("NIX_SHOW_STATS_PATH")
        if path:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            self.stderr.write(text)

    def _parse(self, session: Session, sources: list[Source]) -> int:
        """``--parse``: print each expression as Nix shows it (after checking its variables)."""
        from tvix_eval.compiler.show import show_parse
        from tvix_eval.syntax import parse

        for source in sources:
            self._compile_only(session, source)
            tree = parse(source.text, file=source.path)
            base = os.path.dirname(os.path.abspath(source.path)) if source.path else os.getcwd()
            names = [n.removeprefix("__") for n in session.evaluator.globals]
            self.stdout.write(show_parse(tree, source.text, base, builtin_names=names) + "\n")
        return 0

    def _process(self, session: Session, source: Source) -> None:
        req = self.req
        ev = session.evaluator
        if req.display_ast:
            self._display_ast(source)
        if req.compile_only:
            self._compile_only(session, source, lint=not req.no_warnings)
            return
        root = ev.evaluate(source.text, path=source.path)
        attr_paths = req.attr_paths or [""]
        for attr_path in attr_paths:
            text = ev.run(lambda ap=attr_path: self._one(session, root, ap))  # type: ignore[misc]
            session.flush()
            self.stdout.write(text)
            self.stdout.flush()

    def _one(self, session: Session, root: Value, attr_path: str) -> str:
        req = self.req
        args = session.auto_args()
        v = find_along_attr_path(root, attr_path, args)
        if req.eval_only:
            if args.d:
                v = auto_call(v, args)
            return render(v, req.output, req.strict, req.xml_location)
        lines = []
        for found in get_derivations(v, args):
            shown = found.drv_path
            if req.add_root is not None:
                shown = self._add_root(req.add_root, found.drv_path)
            elif not self._warned_gc and not req.no_warnings:
                self._warned_gc = True
                self.stderr.write(
                    "warning: you did not specify '--add-root'; "
                    "the result might be removed by the garbage collector\n"
                )
            suffix = "" if found.output_name == "out" else "!" + found.output_name
            lines.append(shown + suffix + "\n")
        return "".join(lines)

    def _add_root(self, root: str, drv_path: str) -> str:
        """``--add-root``: a symlink to the ``.drv`` (``root-2``, ``root-3``… after the first)."""
        self._roots += 1
        name = os.path.abspath(root)
        if self._roots > 1:
            name += f"-{self._roots}"
        try:
            if os.path.islink(name):
                os.unlink(name)
            os.symlink(drv_path, name)
        except OSError as e:
            raise UsageError(f"creating symlink '{name}': {e.strerror}") from None
        return name

    def _compile_only(self, session: Session, source: Source, *, lint: bool = False) -> None:
        """Parse and compile without running: syntax errors and undefined variables; with
        ``lint``, also print the compiler's warnings (unused bindings, URL literals…)."""
        from tvix_eval.compiler.compiler import Compiler
        from tvix_eval.syntax import parse

        tree = parse(source.text, file=source.path)
        base = os.path.dirname(source.path) if source.path else os.getcwd()
        ev = session.evaluator
        ev.run(lambda: Compiler(ev.globals, base).compile(tree, None))
        if lint:
            from tvix_eval.syntax.lint import lint as lint_tree

            for warning in ev.run(lambda: lint_tree(tree, ev.globals)):
                self.stderr.write(warning.render() + "\n")

    def _display_ast(self, source: Source) -> None:
        import json

        from tvix_eval.syntax import parse
        from tvix_eval.syntax.ast import to_data

        tree = parse(source.text, file=source.path)
        self.stderr.write("AST: " + json.dumps(to_data(tree), default=str) + "\n")


def run_request(
    req: Request,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
    *,
    one_shot: bool = False,
) -> int:
    """Run a request against the process's streams (or the given ones); ``one_shot``: the
    process exits right after."""
    return Runner(
        req, stdout or sys.stdout, stderr or sys.stderr, stdin or sys.stdin, one_shot
    ).run()
