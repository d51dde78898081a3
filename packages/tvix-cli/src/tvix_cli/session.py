"""One evaluation set up the way the ``tvix`` command runs it: an impure evaluator whose IO is
the store (so ``derivation``, ``toFile`` and friends write into it), ``-I``/``NIX_PATH`` and the
``--arg``/``--argstr`` set.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tvix_eval.api import Evaluator
from tvix_eval.builtins.derivation_nix import WARNINGS_KEY
from tvix_eval.io import EvalIOError
from tvix_eval.known_paths import KnownPaths, set_known_paths
from tvix_eval.runtime.values import NixAttrs, Value

from tvix_cli.store import LazyStore, StoreError
from tvix_cli.store_io import StoreIO
from tvix_cli.writer import DrvWriter


@dataclass
class Settings:
    """What the command line decided about an evaluation."""

    search_path: list[str] = field(default_factory=list)
    store_url: str | None = None
    #: compute store paths of derivations without writing ``.drv`` files
    read_only: bool = True
    #: fall back to an in-memory store when the default store cannot be opened
    store_fallback: bool = True
    pure: bool = False
    #: (name, kind, text): kind "expr" (``--arg``) or "str" (``--argstr``)
    auto_args: list[tuple[str, str, str]] = field(default_factory=list)
    #: print warnings on stderr (``--no-warnings`` turns them off)
    warnings: bool = True
    #: where ``--trace-runtime`` events go (None: not traced)
    tracer: Callable[[str], None] | None = None


def _drop(message: str) -> None:
    del message


def nix_path_entries(cli_entries: Sequence[str]) -> list[str]:
    """``-I`` entries first, then ``NIX_PATH`` (as C++ Nix orders them)."""
    entries = list(cli_entries)
    env = os.environ.get("NIX_PATH")
    if env:
        entries.append(env)
    return entries


class Session:
    """An evaluator wired to a store: ``.drv`` and ``toFile`` files are written into it."""

    def __init__(
        self, settings: Settings, store: LazyStore | None = None, *, one_shot: bool = False
    ) -> None:
        """``one_shot``: the process ends after this session (see ``Evaluator.one_shot``)."""
        self.settings = settings
        self._owns_store = store is None
        warn = None if settings.warnings else _drop
        self.lazy_store = store or LazyStore(
            settings.store_url, fallback=settings.store_fallback, warn=warn
        )
        self.writer = DrvWriter(self.lazy_store)
        self.io = StoreIO(self.lazy_store, read_only=settings.read_only, drv_writer=self.writer)
        self.evaluator = Evaluator(
            io=self.io,
            search_path=nix_path_entries(settings.search_path),
            impure=not settings.pure,
            trace_runtime=settings.tracer,
            one_shot=one_shot,
            stats=os.environ.get("NIX_SHOW_STATS", "0") != "0",
        )
        #: the derivations of this evaluation; derivations made elsewhere come from the store
        self.known = KnownPaths(self._read_store_file, self._read_references)
        set_known_paths(self.evaluator.state, self.known)
        self.io.text_listener = self.known.add_references
        self.evaluator.state.extra[WARNINGS_KEY] = settings.warnings
        if settings.tracer is not None:
            self._install_tracer(settings.tracer)
        self._auto_args: NixAttrs | None = None

    def _install_tracer(self, trace: Callable[[str], None]) -> None:
        """Report instantiations, file reads and store writes (``--trace-runtime``; calls and
        forced thunks are reported by the evaluator)."""

        def instantiated(drv_path: str, drv: object) -> None:
            trace(f"instantiated {drv_path}")

        self.known.listener = instantiated
        self.io.tracer = trace

    # ------------------------------------------------------------------ store glue

    def flush(self) -> None:
        """Wait for queued ``.drv`` writes; raises :class:`StoreError` if one failed."""
        self.writer.flush()

    def _read_store_file(self, path: str) -> bytes | None:
        try:
            return self.io.read_file(path)
        except EvalIOError:
            return None

    def _read_references(self, path: str) -> list[str] | None:
        try:
            return self.lazy_store.get().references(path)
        except StoreError:
            return None

    def close(self) -> None:
        """Finish writing and release the store (unless it was lent by the caller)."""
        try:
            self.writer.close()
        finally:
            if self._owns_store:
                self.lazy_store.close()

    # ------------------------------------------------------------------ arguments

    def auto_args(self) -> NixAttrs:
        """The ``--arg``/``--argstr`` set (call on the evaluation thread).

        ``--arg`` expressions are parsed now and evaluated lazily, as C++ Nix does.
        """
        if self._auto_args is None:
            import_file = self.evaluator.state.import_file
            assert import_file is not None
            members: dict[str, Value] = {}
            for name, kind, text in self.settings.auto_args:
                members[name] = text if kind == "str" else import_file(text, None)
            self._auto_args = NixAttrs(members)
        return self._auto_args
