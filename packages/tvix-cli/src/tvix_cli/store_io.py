"""The evaluator's file access over a tvix store.

Paths inside a store path the store has are read from the store (so ``import`` of a store path
works without a ``/nix/store`` on disk); everything else comes from the file system. Copying
sources, ``toFile`` and ``.drv`` files land in the store with the paths C++ Nix gives them; in
read-only mode (``--eval``) ``.drv`` files only get their paths computed, as in C++ Nix.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tvix_eval.io import EvalIOError, FilesystemIO, FileType

from tvix_cli.names import fixed_output_inner_hash, store_name_error
from tvix_cli.store import LazyStore, Store, StoreError

if TYPE_CHECKING:
    from tvix_cli.writer import DrvWriter

T = TypeVar("T")


class StoreIO(FilesystemIO):
    """:class:`~tvix_eval.io.EvalIO` reading from and writing to a (lazily opened) store.

    ``text_listener(path, references)`` is told about every text file written (``toFile``), so
    derivations depending on it can later find their closure. ``.drv`` files go through
    ``drv_writer`` (written on background threads while evaluation goes on) when one is given;
    with ``read_only`` they are not written, only their paths computed. ``toFile`` texts are
    written in both modes, so an ``--eval`` can read back what it made.
    """

    def __init__(
        self, store: LazyStore, *, read_only: bool = False, drv_writer: DrvWriter | None = None
    ) -> None:
        self.lazy_store = store
        self.read_only = read_only
        self.drv_writer = drv_writer
        self._fetcher: Any = None
        self.text_listener: Any = None
        #: ``--trace-runtime``: told about file reads and store writes
        self.tracer: Any = None
        #: contents of store files queued for writing but maybe not stored yet
        self.pending_reader: Any = drv_writer.pending if drv_writer is not None else None

    @property
    def store(self) -> Store:
        """The store, opened on first use; failures surface as IO errors."""
        try:
            return self.lazy_store.get()
        except StoreError as e:
            raise EvalIOError(str(e)) from None

    def _in_store(self, path: str) -> bool:
        return path.startswith(self.store_dir + "/")

    def _ask_store(self, path: str, question: Callable[[Store], T | None]) -> T | None:
        """The store's answer about ``path``: None when ``path`` is outside the store directory
        or the store does not have it (then the file system answers). Store errors become IO
        errors."""
        if not self._in_store(path):
            return None
        try:
            return question(self.store)
        except StoreError as e:
            raise EvalIOError(str(e)) from None

    # ------------------------------------------------------------------ reading

    def path_exists(self, path: str) -> bool:
        known = self._ask_store(path, lambda store: store.path_exists(path))
        return known if known is not None else super().path_exists(path)

    def read_file(self, path: str) -> bytes:
        if self.tracer is not None:
            self.tracer(f"reading {path}")
        if self.pending_reader is not None:
            data = self.pending_reader(path)
            if data is not None:
                return bytes(data)
        stored = self._ask_store(path, lambda store: store.read_file(path))
        return stored if stored is not None else super().read_file(path)

    def read_dir(self, path: str) -> list[tuple[str, FileType]]:
        entries = self._ask_store(path, lambda store: store.read_dir(path))
        return entries if entries is not None else super().read_dir(path)

    def is_dir(self, path: str) -> bool:
        known = self._ask_store(path, lambda store: store.is_dir(path))
        return known if known is not None else super().is_dir(path)

    def realpath(self, path: str) -> str:
        if self._in_store(path):
            return path
        return super().realpath(path)

    # ------------------------------------------------------------------ writing

    def import_path(self, path: str) -> str:
        if not os.path.lexists(path):
            raise EvalIOError(f"getting status of '{path}': No such file or directory")
        name = os.path.basename(path.rstrip("/"))
        return self.add_path_to_store(path, name, True, None)

    def add_path_to_store(self, path: str, name: str, recursive: bool, keep: Any) -> str:
        """``builtins.path``/``filterSource``/interpolation: copy into the store."""
        if self._in_store(path) and self.store.contains(path):
            raise EvalIOError(f"cannot copy '{path}' from the store into itself")
        _check_path_name(name, path, recursive)
        try:
            result = self.store.add_path(path, name, recursive=recursive, keep=keep)
        except StoreError as e:
            raise EvalIOError(str(e)) from None
        if self.tracer is not None:
            self.tracer(f"copied {path} -> {result}")
        return result

    def add_text_to_store(self, name: str, data: bytes, references: list[str]) -> str:
        """``builtins.toFile`` and ``.drv`` files: a text file with references."""
        error = store_name_error(
            name, ":".join(["text", *sorted(set(references))]), lambda: _sha256_hex(data)
        )
        if error is not None:
            raise EvalIOError(str(error))
        if name.endswith(".drv") and self.read_only:
            from nix_compat.store_path import build_text_path

            return build_text_path(name, data, references).to_absolute_path()
        try:
            if name.endswith(".drv") and self.drv_writer is not None:
                path = self.drv_writer.add_text(name, data, references)
            else:
                path = self.store.add_text(name, data, references)
        except StoreError as e:
            raise EvalIOError(str(e)) from None
        if self.text_listener is not None:
            self.text_listener(path, references)
        if self.tracer is not None:
            self.tracer(f"wrote {path}")
        return path

    def fetch(self, kind: str, args: dict[str, Any]) -> str | dict[str, Any]:
        """``fetchurl``/``fetchTarball``/``fetchGit``: download and add to the store."""
        if self._fetcher is None:
            from tvix_cli.fetch import Fetcher

            self._fetcher = Fetcher(self)
        result: str | dict[str, Any] = self._fetcher.fetch(kind, args)
        return result


def _sha256_hex(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _check_path_name(name: str, path: str, recursive: bool) -> None:
    """Nix's error for an invalid name of a path copied to the store."""

    def nar_hash() -> str:
        from nix_compat.nar import nar_hash_path

        return nar_hash_path(path)[1].hex()

    def flat_hash() -> str:
        with open(path, "rb") as f:
            return fixed_output_inner_hash("", "sha256:" + _sha256_hex(f.read()))

    try:
        if recursive:
            error = store_name_error(name, "source", nar_hash)
        else:
            error = store_name_error(name, "output:out", flat_hash)
    except OSError as e:
        raise EvalIOError(f"getting status of '{path}': {e.strerror}") from None
    if error is not None:
        raise EvalIOError(str(error))
