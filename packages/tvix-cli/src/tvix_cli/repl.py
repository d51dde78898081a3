"""``tvix repl``: an interactive prompt in the style of ``nix repl``.

Bindings persist (``x = 1``), ``:l FILE`` and ``:a EXPR`` add the attributes of a set to the
scope, ``:p`` prints strictly, ``:t`` shows the type, ``:q`` quits. Input continues over several
lines until the expression is complete. History lives in the XDG data dir; Tab completes names
and attribute paths.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from typing import TextIO

from tvix_eval.errors import NixError, NixParseError
from tvix_eval.runtime.printer import print_value
from tvix_eval.runtime.values import NixAttrs, Value, force, show_type

from tvix_cli.runner import render_error
from tvix_cli.session import Session, Settings

PROMPT = "tvix-repl> "
CONTINUATION = "           "
_BINDING = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_'-]*)\s*=(?!=)(.*)\Z", re.S)
_ARG_COMMANDS = frozenset([":a", ":add", ":p", ":print", ":t", ":type"])

HELP = """The following commands are available:

  <expr>        Evaluate and print expression
  <x> = <expr>  Bind expression to variable
  :a <expr>     Add attributes from resulting set to scope
  :l <path>     Load Nix expression and add it to scope
  :p <expr>     Evaluate and print expression recursively
  :t <expr>     Describe result of evaluation
  :q            Exit tvix-repl
  :?            Show this help
"""


class Repl:
    """The REPL state: one session, the user's bindings and the pending multi-line input."""

    def __init__(self, settings: Settings, *, show_trace: bool = False) -> None:
        self.session = Session(settings)
        self.show_trace = show_trace
        self.scope: dict[str, Value] = {}
        self.pending = ""

    # ------------------------------------------------------------------ evaluation

    def _compiled(self, source: str) -> Value:
        """A thunk of ``source`` compiled with the REPL bindings as its outermost variables."""
        state = self.session.evaluator.state
        assert state.import_file is not None
        return state.import_file(source, None, NixAttrs(dict(self.scope)))

    def _in_scope(self, source: str) -> Value:
        """The value of ``source`` with the REPL bindings in scope (weak head normal form)."""
        ev = self.session.evaluator
        return ev.run(lambda: force(self._compiled(source)))

    def _lazy_in_scope(self, source: str) -> Value:
        ev = self.session.evaluator
        return ev.run(lambda: self._compiled(source))

    def _add_attrs(self, value: Value) -> str:
        if type(value) is not NixAttrs:
            raise NixError(f"value is {show_type(value)} while a set was expected")
        self.scope.update(value.d)
        return f"Added {len(value.d)} variables.\n"

    def handle(self, line: str) -> str | None:
        """Process one input line; the text to print, or None to quit."""
        if self.pending:
            line = self.pending + "\n" + line
            self.pending = ""
        stripped = line.strip()
        if not stripped:
            return ""
        ev = self.session.evaluator
        try:
            if stripped.startswith(":"):
                command, _, rest = stripped.partition(" ")
                rest = rest.strip()
                if command in (":q", ":quit"):
                    return None
                if command in (":?", ":help"):
                    return HELP
                if command in (":l", ":load"):
                    from tvix_cli.toplevel import resolve_file

                    path = resolve_file(os.path.expanduser(rest))
                    value = ev.run(lambda: force(ev.evaluate_file(path)))
                    return self._add_attrs(value)
                if command not in _ARG_COMMANDS:
                    return f"error: unknown command '{command}'\n"
                if not rest:
                    return f"error: {command} needs an argument\n"
                if command in (":a", ":add"):
                    return self._add_attrs(self._in_scope(rest))
                if command in (":p", ":print"):
                    value = self._in_scope(rest)
                    return ev.run(lambda: repl_print(value, 1_000_000_000)) + "\n"
                if command in (":t", ":type"):
                    return show_type(self._in_scope(rest)) + "\n"
                return f"error: unknown command '{command}'\n"
            binding = _BINDING.match(line)
            if binding is not None:
                self._check_complete(binding.group(2))
                self.scope[binding.group(1)] = self._lazy_in_scope(binding.group(2))
                return ""
            self._check_complete(line)
            value = self._in_scope(line)
            return ev.run(lambda: repl_print(value, 1)) + "\n"
        except _Incomplete:
            self.pending = line
            return ""
        except NixError as e:
            return render_error(e, self.show_trace) + "\n"
        except Exception as e:  # a file that cannot be read, a bad path…
            return f"error: {e}\n"

    def _check_complete(self, source: str) -> None:
        from tvix_eval.syntax import parse

        try:
            parse(source)
        except NixParseError as e:
            if "end of file" in e.message:
                raise _Incomplete() from None

    # ------------------------------------------------------------------ terminal

    def completions(self, text: str) -> list[str]:
        """Names and attribute paths starting with ``text``."""
        if "." in text:
            base, _, partial = text.rpartition(".")
            try:
                value = self._in_scope(base)
            except Exception:
                return []
            if type(value) is not NixAttrs:
                return []
            return [f"{base}.{k}" for k in value.sorted_keys() if k.startswith(partial)]
        names = set(self.scope) | {
            k for k in self.session.evaluator.globals if not k.startswith("__")
        }
        return sorted(n for n in names if n.startswith(text))

    def loop(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
        """Read, evaluate, print until ``:q`` or end of input; the exit status."""
        stdin = stdin or sys.stdin
        stdout = stdout or sys.stdout
        history = _setup_readline(self) if stdin.isatty() else None
        try:
            while True:
                prompt = CONTINUATION if self.pending else PROMPT
                try:
                    if stdin is sys.stdin and stdin.isatty():
                        line = input(prompt)
                    else:
                        stdout.write(prompt)
                        stdout.flush()
                        line = stdin.readline()
                        if not line:
                            raise EOFError
                        line = line.rstrip("\n")
                except EOFError:
                    stdout.write("\n")
                    return 0
                except KeyboardInterrupt:
                    self.pending = ""
                    stdout.write("\n")
                    continue
                out = self.handle(line)
                if out is None:
                    return 0
                stdout.write(out)
                stdout.flush()
        finally:
            if history is not None:
                _save_history(history)
            self.session.close()


class _Incomplete(Exception):
    """The input so far is the start of an expression."""


def repl_print(value: Value, max_depth: int) -> str:
    """A value as ``nix repl`` shows it: sets and lists ``max_depth`` levels deep, derivations
    as ``«derivation /nix/store/….drv»``, functions as ``«lambda @ pos»``/``«primop»``."""
    out: list[str] = []
    _repl_print(value, max_depth, out, set())
    return "".join(out)


def _repl_print(v: Value, depth: int, out: list[str], seen: set[int]) -> None:
    from tvix_eval.runtime.ops import is_derivation
    from tvix_eval.runtime.printer import attr_name, format_float, quote_string
    from tvix_eval.runtime.values import Lambda, NixPath, NixString, PrimOp, PrimOpApp

    v = force(v)
    t = type(v)
    if t is NixAttrs:
        seen.add(id(v))
        if is_derivation(v):
            drv = v.d.get("drvPath")
            shown = str.__str__(force(drv)) if drv is not None else "???"
            out.append(f"«derivation {shown}»")
        elif depth > 0:
            out.append("{ ")
            for name, item in v.sorted_items():
                out.append(attr_name(name) + " = ")
                forced = force(item)
                if id(forced) in seen and type(forced) in (NixAttrs, list):
                    out.append("«repeated»")
                else:
                    _repl_print(forced, depth - 1, out, seen)
                out.append("; ")
            out.append("}")
        else:
            out.append("{ ... }")
    elif t is list:
        seen.add(id(v))
        out.append("[ ")
        if depth > 0:
            for item in v:
                forced = force(item)
                if id(forced) in seen and type(forced) in (NixAttrs, list):
                    out.append("«repeated»")
                else:
                    _repl_print(forced, depth - 1, out, seen)
                out.append(" ")
        else:
            out.append("... ")
        out.append("]")
    elif t is Lambda:
        node = v.pos
        source = getattr(node, "source", None)
        if source is not None:
            line, col = source.position(node.start)
            out.append(f"«lambda @ {source.name}:{line}:{col}»")
        else:
            out.append("«lambda»")
    elif t is PrimOp:
        out.append("«primop»")
    elif t is PrimOpApp:
        out.append("«primop-app»")
    elif t is str or t is NixString:
        out.append(quote_string(v))
    elif t is float:
        out.append(format_float(v))
    elif t is NixPath:
        out.append(v.path)
    else:
        out.append(print_value(v))


def history_path() -> str:
    """``$XDG_DATA_HOME/tvix/history.txt``."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return os.path.join(base, "tvix", "history.txt")


def _setup_readline(repl: Repl) -> str | None:
    try:
        import readline
    except ImportError:
        return None
    path = history_path()
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    matches: list[str] = []

    def complete(text: str, state: int) -> str | None:
        nonlocal matches
        if state == 0:
            matches = repl.completions(text)
        return matches[state] if state < len(matches) else None

    readline.set_completer_delims(" \t\n()[]{};=+-*/<>!&|,")
    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")
    return path


def _save_history(path: str) -> None:
    try:
        import readline

        os.makedirs(os.path.dirname(path), exist_ok=True)
        readline.write_history_file(path)
    except (ImportError, OSError):
        pass
