"""Checking blobs against their digests on a worker thread, while the reader goes on.

A read session that hands out a large blob's chunks as views into the store
would otherwise hash every chunk on the consumer's thread before passing it
on. blake3 releases the GIL, so the hashing can run on a second core while
the consumer writes the chunk out and reads the next one; the consumer learns
of a corrupt blob at the latest from :meth:`BackgroundChecker.wait`, which it
calls before it presents the data as complete.
"""

from __future__ import annotations

import queue
import threading

import blake3

from tvix_castore.digests import B3Digest
from tvix_castore.errors import StorageError

_Job = tuple[blake3.blake3, memoryview | None, B3Digest]


class BackgroundChecker:
    """Hashes the pieces of blobs on a worker thread and compares each blob's digest at its end.

    The caller hands over every piece of a blob in order (:meth:`feed`), then
    its end (:meth:`end`). Pieces are hashed where they are, not copied: each
    must stay valid and unchanged until :meth:`wait` or :meth:`close` returned.
    The first corrupt blob is raised as StorageError from ``wait`` and from the
    next ``feed``/``end``. Used from one thread at a time (besides the worker).
    """

    def __init__(self, source: str) -> None:
        self._source = source
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._failure: StorageError | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stopping = False

    @staticmethod
    def hasher() -> blake3.blake3:
        """A fresh hasher for one blob, to pass to :meth:`feed` and :meth:`end`."""
        return blake3.blake3()

    def feed(self, hasher: blake3.blake3, piece: memoryview, digest: B3Digest) -> None:
        """Queue the next piece of the blob ``digest`` for hashing."""
        self._submit((hasher, piece, digest))

    def end(self, hasher: blake3.blake3, digest: B3Digest) -> None:
        """Queue the check of the blob whose pieces went to ``hasher``."""
        self._submit((hasher, None, digest))

    def _submit(self, job: _Job) -> None:
        if self._failure is not None:
            raise self._failure.with_traceback(None)
        if self._closed:
            raise ValueError("the background checker is closed")
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="blob-check", daemon=True)
            self._thread.start()
        self._jobs.put(job)

    def _run(self) -> None:
        get, done = self._jobs.get, self._jobs.task_done
        while (job := get()) is not None:
            try:
                hasher, piece, digest = job
                if self._failure is not None or self._stopping:
                    continue  # nobody will ask about the rest
                if piece is not None:
                    hasher.update(piece)
                elif hasher.digest() != digest:
                    actual = B3Digest(hasher.digest())
                    self._failure = StorageError(
                        f"blob {digest} from {self._source} is corrupt: "
                        f"its contents hash to {actual}"
                    )
            except BaseException as e:  # reported to the reading thread, never lost
                self._failure = StorageError(f"checking blobs from {self._source} failed: {e}")
            finally:
                done()
        done()

    def wait(self) -> None:
        """Return once everything queued was checked; raise StorageError if a blob was corrupt."""
        if self._thread is not None:
            self._jobs.join()
        if self._failure is not None:
            raise self._failure.with_traceback(None)

    def close(self) -> None:
        """Stop the worker (dropping what it has not hashed yet) once it lets go of the pieces."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._stopping = True
            self._jobs.put(None)
            self._thread.join()
