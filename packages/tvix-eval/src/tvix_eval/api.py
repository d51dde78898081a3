"""The public entry points: :func:`evaluate`, :class:`Evaluator` and :func:`to_python`.

Evaluation runs on a worker thread with a large stack and a high recursion limit, so deeply
recursive Nix programs work; running out anyway is the Nix error ``stack overflow``.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

from tvix_eval.errors import NixError
from tvix_eval.runtime import context as _context
from tvix_eval.runtime.collector import young_threshold
from tvix_eval.runtime.errors import EvalError, InternalError, StackOverflow

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, TypeVar

    from tvix_eval.io import EvalIO
    from tvix_eval.runtime.values import Value
    from tvix_eval.stats import EvalStats

    T = TypeVar("T")

#: C stack of the evaluation thread (virtual memory; only touched pages are used).
STACK_BYTES = 1 << 30
#: Python frames the evaluation thread may nest (a Nix call level takes a handful).
RECURSION_LIMIT = 1_500_000

_stack_lock = threading.Lock()

#: Python-frame memory (in pointer-sized words) reserved at the base of the evaluation thread;
#: see :func:`_call_on_roomy_frame_stack`
FRAME_STACK_WORDS = 1 << 20


def _call_on_roomy_frame_stack(fn: Callable[[], T]) -> T:
    """Call ``fn`` with the thread's Python frames in one 16 MiB block of address space.

    CPython (3.11 to 3.13) keeps frames in 16 KiB chunks, allocated with ``mmap`` when the stack
    grows past one and unmapped as soon as it shrinks back: evaluation that goes up and down
    across a chunk boundary pays two system calls and fresh page faults each time (65k of them,
    a fifth of the CPU time, on the module-system benchmark). A chunk is sized to fit the frame
    that needs it, so this function's frame, whose code claims an oversized value stack, gets a
    chunk with 8 MiB to spare, and the frames of the evaluation below it fit there. Pages of
    the block that are never used are never touched.
    """
    return fn()


_call_on_roomy_frame_stack.__code__ = _call_on_roomy_frame_stack.__code__.replace(
    co_stacksize=FRAME_STACK_WORDS + 64
)


def run_in_deep_thread(
    fn: Callable[[], T], recursion_limit: int = RECURSION_LIMIT, *, keep_collector: bool = False
) -> T:
    """Run ``fn`` on a thread with a large stack; RecursionError becomes ``stack overflow``.

    The cyclic collector runs with the evaluation budget of :mod:`tvix_eval.runtime.collector`
    meanwhile, and afterwards as before unless ``keep_collector``."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        previous_limit = sys.getrecursionlimit()
        previous_gc = gc.get_threshold()
        try:
            sys.setrecursionlimit(recursion_limit)
            # see runtime.collector: collect only once a sizeable heap is in use
            gc.set_threshold(max(previous_gc[0], young_threshold()), *previous_gc[1:])
            result.append(_call_on_roomy_frame_stack(fn))
        except RecursionError:
            error.append(StackOverflow())
        except MemoryError:
            error.append(EvalError("out of memory"))
        except BaseException as exc:
            error.append(exc)
        finally:
            sys.setrecursionlimit(previous_limit)
            if not keep_collector:
                gc.set_threshold(*previous_gc)

    with _stack_lock:
        previous = threading.stack_size(STACK_BYTES)
        try:
            thread = threading.Thread(target=target, name="nix-eval", daemon=True)
            thread.start()
        finally:
            threading.stack_size(previous)
    thread.join()
    if error:
        raise error[0]
    return result[0]


def _tier_threshold() -> int | None:
    from tvix_eval.compiler.tiering import DEFAULT_THRESHOLD

    setting = os.environ.get("TVIX_TIER_THRESHOLD", "")
    if setting == "never":
        return None
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    return DEFAULT_THRESHOLD


def parse_search_path(entries: Iterable[str]) -> list[tuple[str | None, str]]:
    """``-I``/``NIX_PATH`` entries (``prefix=path`` or ``path``) as ``(prefix, path)`` pairs."""
    out: list[tuple[str | None, str]] = []
    for entry in entries:
        for part in entry.split(":"):
            if not part:
                continue
            if "=" in part:
                prefix, path = part.split("=", 1)
                out.append((prefix, path))
            else:
                out.append((None, part))
    return out


class Evaluator:
    """Evaluates Nix code; keeps the builtins and the import cache across calls.

    ``io`` decides what file access is allowed (default: none); ``impure=True`` also enables the
    impure builtins (``getEnv``, ``currentTime``…) and, without an explicit ``io``, real
    file-system access.
    """

    def __init__(
        self,
        *,
        io: EvalIO | None = None,
        search_path: Iterable[str] = (),
        impure: bool = False,
        trace: Callable[[str], None] | None = None,
        recursion_limit: int = RECURSION_LIMIT,
        trace_runtime: Callable[[str], None] | None = None,
        parse_cache: bool = True,
        one_shot: bool = False,
        tier_threshold: int | None = -1,
        stats: bool = False,
    ) -> None:
        from tvix_eval.builtins import make_globals
        from tvix_eval.corepkgs import install as install_corepkgs
        from tvix_eval.io import FilesystemIO, PureIO
        from tvix_eval.syntax.cache_switch import cache_enabled

        #: parse imported files through the on-disk cache (off also with ``TVIX_PARSE_CACHE=0``)
        self.parse_cache = parse_cache and cache_enabled()
        #: the process ends once this evaluator's work is done (a command): after compiling a
        #: file, everything alive moves into the cyclic collector's permanent generation
        #: (``gc.freeze``: spares a full collection over the new code, which takes seconds for
        #: a big file, but nothing frozen is ever collected), and the collector keeps its
        #: evaluation budget (runtime.collector) between runs instead of collecting everything
        #: the last run left behind before the next one (the printing) starts
        self.one_shot = one_shot
        self._code_cache_dir: str | None = None
        self._global_names: str | None = None

        #: calls after which a lambda's body is compiled to Python source (None: never);
        #: ``TVIX_TIER_THRESHOLD`` (a number, or ``never``) overrides the default
        self.tier_threshold = _tier_threshold() if tier_threshold == -1 else tier_threshold
        #: what the evaluations did, counted when asked for (see :mod:`tvix_eval.stats`);
        #: counting runs every lambda as closures, through its ``invoke``
        self.stats: EvalStats | None = None
        if stats:
            from tvix_eval.stats import EvalStats

            self.stats = EvalStats()
            self.tier_threshold = None
        #: how many Python frames evaluation may nest before ``stack overflow``
        self.recursion_limit = recursion_limit
        #: told about every call and forced thunk, with its location (None: not traced, and
        #: compiled code contains no tracing)
        self.trace_runtime = trace_runtime
        if io is None:
            io = FilesystemIO() if impure else PureIO()
        self.io = io
        self.state = _context.EvalState(io=io, search_path=parse_search_path(search_path))
        self.state.current_time = int(time.time())
        if trace is not None:
            self.state.trace_out = trace
        self.state.import_file = self._import_file
        previous = _context.activate(self.state)
        try:
            self.globals = make_globals(self.state, impure=impure)
        finally:
            _context.activate(previous)
        install_corepkgs(self.state)

    def define_builtin(self, name: str, value: Value, *, global_: bool = False) -> None:
        """Add ``builtins.<name>`` (and the global ``name`` with ``global_``) before evaluating.

        Hosts use this for builtins that need more than the evaluator has (``derivation`` needs a
        store); code compiled earlier does not see the new name.
        """
        builtins_set = self.state.builtins
        builtins_set.d[name] = value
        builtins_set._keys = None
        self.globals["__" + name] = value
        if global_:
            self.globals[name] = value
        self._global_names = None

    def define_builtin_source(self, name: str, source: str, *, global_: bool = False) -> None:
        """Like :meth:`define_builtin`, with the value given as Nix source (evaluated lazily)."""
        from tvix_eval.runtime.values import Thunk

        def code(_: object) -> Value:
            return self._compile(source, None)([None])

        self.define_builtin(name, Thunk(code, None), global_=global_)

    # ------------------------------------------------------------------ internals

    def _compile(
        self, source: str, path: str | None, scope_names: list[str] | None = None
    ) -> Callable[[list[Any]], Value]:
        from tvix_eval.compiler.compiler import Compiler
        from tvix_eval.compiler.scope import Scope
        from tvix_eval.syntax import ast

        base = os.path.dirname(path) if path is not None else os.getcwd()
        scope = None
        if scope_names is not None:
            scope = Scope(None, {name: i + 1 for i, name in enumerate(scope_names)})
        eager = bool(self.state.extra.get("strict"))

        def compile_tree(tree: ast.Expr, lazy: bool = False) -> Callable[[list[Any]], Value]:
            compiler = Compiler(
                self.globals,
                base,
                eager,
                self.trace_runtime,
                tier_threshold=self.tier_threshold,
                code_cache=self._code_cache(),
                calls_through_invoke=self.stats is not None,
                lazy_bodies=lazy,
            )
            return compiler.compile(tree, scope).ev

        # Parsing and compiling build many long-lived objects and almost no garbage; the cyclic
        # collector would re-scan them over and over (seconds for a 40k-line file).
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            if path is not None and self.parse_cache:
                from tvix_eval.syntax.cache import (
                    CacheEntryCorrupt,
                    compiles_cleanly,
                    parse_cached,
                )

                clean = compiles_cleanly(source, self._names_in_scope(scope_names))
                lazy = bool(clean)
                try:
                    # an eager compile visits every node, so a bad chunk shows up here (or,
                    # for a lambda compiled later, when it is compiled)
                    ev = compile_tree(parse_cached(source, path), lazy)
                except CacheEntryCorrupt as e:
                    e.discard()  # so this parses afresh and stores a good entry
                    ev = compile_tree(parse_cached(source, path), lazy)
                if not lazy:
                    clean.set()
            else:
                from tvix_eval.syntax.parser import parse

                ev = compile_tree(parse(source, file=path))
            if self.one_shot:
                gc.freeze()
            return ev
        finally:
            if was_enabled:
                gc.enable()

    def _names_in_scope(self, scope_names: list[str] | None) -> str:
        """What decides whether a file has undefined variables, besides its text: the names
        of the globals (and of ``scopedImport``'s set)."""
        if self._global_names is None:
            self._global_names = "\0".join(sorted(self.globals))
        if scope_names is None:
            return self._global_names
        return self._global_names + "\0\0" + "\0".join(scope_names)

    def _code_cache(self) -> str | None:
        """Where compiled hot lambdas are kept between runs (with the parse cache)."""
        if not self.parse_cache:
            return None
        if self._code_cache_dir is None:
            from tvix_eval.syntax.cache_switch import cache_dir_name

            self._code_cache_dir = cache_dir_name()
        return self._code_cache_dir

    def _import_file(self, source: str, path: str, scope: Any = None) -> Value:
        """A thunk evaluating a file; ``scope`` (a set) adds outermost variables (scopedImport)."""
        from tvix_eval.runtime.values import Thunk

        if scope is None:
            return Thunk(self._compile(source, path), [None])
        names = scope.sorted_keys()
        ev = self._compile(source, path, names)
        return Thunk(ev, [None, *(scope.d[n] for n in names)])

    def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the evaluation thread with this evaluator's state active."""

        def call() -> T:
            previous = _context.activate(self.state)
            counting = None
            if self.stats is not None:
                from tvix_eval.stats import Counter

                counter = Counter(self.stats)
                counting = counter.install()
            try:
                return fn()
            finally:
                if self.stats is not None:
                    Counter.remove(counting)
                _context.activate(previous)

        try:
            return run_in_deep_thread(call, self.recursion_limit, keep_collector=self.one_shot)
        except NixError:
            raise
        except Exception as exc:  # a bug in the evaluator, not in the Nix code
            raise InternalError(f"internal error: {type(exc).__name__}: {exc}") from exc

    # ------------------------------------------------------------------ API

    def evaluate(self, source: str, *, path: str | None = None, strict: bool = False) -> Value:
        """Evaluate ``source`` (from file ``path``, if given) to weak head normal form, or fully
        with ``strict``. Raises :class:`~tvix_eval.errors.NixError` for errors in the program."""
        from tvix_eval.runtime.ops import force_deep

        def go() -> Value:
            self.state.extra["strict"] = strict
            ev = self._compile(source, path)
            value = ev([None])
            if strict:
                value = force_deep(value)
            return value

        return self.run(go)

    def evaluate_file(self, path: str, *, strict: bool = False) -> Value:
        """Evaluate the file at ``path`` (read through this evaluator's IO; a relative path is
        taken from the working directory, as are the paths written in the file)."""
        from tvix_eval.io import EvalIOError

        path = os.path.abspath(path)
        try:
            data = self.io.read_file(path)
        except EvalIOError as e:
            raise EvalError(str(e), positioned=False) from None
        return self.evaluate(data.decode("utf-8", "surrogateescape"), path=path, strict=strict)

    def print(self, value: Value) -> str:
        """``value`` as ``nix-instantiate --eval`` prints it."""
        from tvix_eval.runtime.printer import print_value

        return self.run(lambda: print_value(value))

    def to_python(self, value: Value) -> Any:
        """``value`` fully evaluated as plain Python data (see :func:`to_python`)."""
        return self.run(lambda: _to_python(value))


def evaluate(
    source: str,
    *,
    path: str | None = None,
    strict: bool = False,
    search_path: Iterable[str] = (),
    io: EvalIO | None = None,
) -> Value:
    """Evaluate a Nix expression with a fresh :class:`Evaluator`."""
    return Evaluator(io=io, search_path=search_path).evaluate(source, path=path, strict=strict)


def print_value(value: Value) -> str:
    """``value`` as ``nix-instantiate --eval`` prints it (safe for deeply nested values)."""
    from tvix_eval.runtime.printer import print_value as _print

    return run_in_deep_thread(lambda: _print(value))


def to_python(value: Value, evaluator: Evaluator | None = None, *, lazy: bool = False) -> Any:
    """Convert a Nix value to plain Python: ``None``/``bool``/``int``/``float``/``str``, paths as
    ``pathlib.PurePosixPath``, lists as ``list``, sets as ``dict``; functions stay opaque.

    With ``lazy=True`` sets and lists become read-only views
    (:class:`~tvix_eval.views.LazyAttrs`, :class:`~tvix_eval.views.LazyList`) that evaluate an
    element only when it is accessed, for big structures.
    """
    ev = evaluator if evaluator is not None else _evaluator_for_conversion()
    if lazy:
        from tvix_eval.views import to_python_shallow

        return ev.run(lambda: to_python_shallow(value, ev))
    return ev.to_python(value)


_conversion_evaluators: list[Evaluator] = []


def _evaluator_for_conversion() -> Evaluator:
    """The evaluator :func:`to_python` uses when given none (made once)."""
    if not _conversion_evaluators:
        _conversion_evaluators.append(Evaluator())
    return _conversion_evaluators[0]


def _to_python(v: Value) -> Any:
    from pathlib import PurePosixPath

    from tvix_eval.runtime.values import NixAttrs, NixPath, NixString, force

    v = force(v)
    t = type(v)
    if t is NixString:
        return str(v)
    if t is NixPath:
        return PurePosixPath(v.path)
    if t is list:
        return [_to_python(x) for x in v]
    if t is NixAttrs:
        return {k: _to_python(x) for k, x in v.sorted_items()}
    return v
