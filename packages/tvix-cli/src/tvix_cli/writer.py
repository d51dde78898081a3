"""Writing ``.drv`` files to the store on a background thread while evaluation goes on.

Every store write is made durable before it is acknowledged, so writing a thousand derivations
is mostly waiting for the disk. The path of a text file is known without the store, so
instantiation hands the write to this writer and carries on; :meth:`DrvWriter.flush` waits for
every write (and reports the first failure) before results are printed.
"""

from __future__ import annotations

import threading

from tvix_cli.store import LazyStore, StoreError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import queue

_STOP = None
#: concurrent writers: each write waits for the disk, and waits overlap
WRITERS = 8


class DrvWriter:
    """Queues text files (``name``, ``data``, ``references``) for the store."""

    #: made with the threads, by the first write (an evaluation may have none)
    _queue: queue.Queue[tuple[str, bytes, list[str], str] | None]

    def __init__(self, store: LazyStore) -> None:
        self._store = store
        self._pending: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._error: StoreError | None = None
        self._threads: list[threading.Thread] = []

    def add_text(
        self, name: str, data: bytes, references: list[str], path: str | None = None
    ) -> str:
        """Schedule the write; returns the text store path (``path``, if the caller knows it)."""
        if path is None:
            from nix_compat.store_path import build_text_path

            path = build_text_path(name, data, references).to_absolute_path()
        self._store.get()  # opening failures surface here, synchronously
        with self._lock:
            if path in self._pending:
                return path
            self._pending[path] = data
        if not self._threads:
            self._start()
        self._queue.put((name, data, references, path))
        return path

    def _start(self) -> None:
        import queue

        self._queue = queue.Queue()
        for i in range(WRITERS):
            thread = threading.Thread(target=self._run, name=f"tvix-drv-writer-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def pending(self, path: str) -> bytes | None:
        """The contents of a file written but maybe not yet stored (None if unknown)."""
        with self._lock:
            return self._pending.get(path)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                if self._error is None:
                    try:
                        self._store.get().add_text(*item)
                    except StoreError as e:
                        self._error = e
                    except Exception as e:  # a backend failure: report it, do not hang
                        self._error = StoreError(f"writing to the store failed: {e}")
            finally:
                self._queue.task_done()

    def flush(self) -> None:
        """Wait until everything queued is stored; raises the first failure."""
        if self._threads:
            self._queue.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self) -> None:
        """Flush, then stop the thread."""
        try:
            self.flush()
        finally:
            for _ in self._threads:
                self._queue.put(_STOP)
            for thread in self._threads:
                thread.join()
            self._threads = []
