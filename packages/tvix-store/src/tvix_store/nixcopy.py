"""Reading store paths out of an installed C++ Nix, for ``tvix-store copy-from-nix``.

Metadata comes from ``nix-store --query`` and contents from ``nix-store
--dump``, so this works with any Nix that has those commands. ``root`` names a
chroot store (``nix-store --store ROOT``), whose files lie under ``ROOT/nix/store``.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from nix_compat.errors import NixCompatError
from nix_compat.nixhash import CAHash, HashAlgo, NarHash, NixHash, TextHash, parse_hash
from nix_compat.store_path import StorePath, build_ca_path
from tvix_castore.blobservice.base import CHUNK_SIZE, BlobService
from tvix_castore.digests import B3Digest
from tvix_castore.directory import FileNode
from tvix_castore.directoryservice.base import DirectoryService
from tvix_castore.errors import InvalidRequestError, StorageError

from tvix_store.errors import NarIngestError
from tvix_store.nar.ingest import IngestResult, ingest_nar
from tvix_store.pathinfo import PathInfo, build_path_info
from tvix_store.pathinfoservice.base import PathInfoService

__all__ = ["NixStore", "copy_closure"]


@dataclass(frozen=True)
class NixStore:
    """The C++ Nix store reached through ``nix-store`` (optionally a chroot store at ``root``)."""

    root: str | None = None
    program: str = "nix-store"

    def _base(self) -> list[str]:
        exe = shutil.which(self.program)
        if exe is None:
            raise InvalidRequestError(f"{self.program} not found: is Nix installed?")
        return [exe, *(["--store", self.root] if self.root else [])]

    def _query(self, *args: str) -> list[str]:
        try:
            done = subprocess.run(
                [*self._base(), "--query", *args], capture_output=True, text=True, check=False
            )
        except OSError as e:
            raise StorageError(f"unable to run {self.program}: {e}") from None
        if done.returncode != 0:
            message = done.stderr.strip().removeprefix("error: ")
            raise InvalidRequestError(f"nix-store --query failed: {message}")
        return [line for line in done.stdout.splitlines() if line]

    def closure(self, paths: Iterable[StorePath]) -> list[StorePath]:
        """``paths`` and everything they refer to, dependencies first."""
        abs_paths = [p.to_absolute_path() for p in paths]
        if not abs_paths:
            return []
        found = [StorePath.from_absolute_path(p) for p in self._query("--requisites", *abs_paths)]
        # --requisites lists a path's references before the path itself.
        return list(dict.fromkeys(found))

    def references(self, path: StorePath) -> list[StorePath]:
        """The direct references of ``path``."""
        return [
            StorePath.from_absolute_path(p)
            for p in self._query("--references", path.to_absolute_path())
        ]

    def nar_hash(self, path: StorePath) -> bytes:
        """The sha256 NAR hash Nix recorded for ``path``."""
        (text,) = self._query("--hash", path.to_absolute_path())
        return parse_hash(text).digest

    def deriver(self, path: StorePath) -> StorePath | None:
        """The .drv that built ``path``, if Nix knows it."""
        (text,) = self._query("--deriver", path.to_absolute_path())
        if text == "unknown-deriver":
            return None
        try:
            return StorePath.from_absolute_path(text)
        except NixCompatError:
            return None

    def physical_path(self, path: StorePath) -> str:
        """Where the files of ``path`` lie on disk."""
        return (self.root or "") + path.to_absolute_path()

    def dump(self, path: StorePath) -> subprocess.Popen[bytes]:
        """A running ``nix-store --dump`` of ``path``; read its stdout."""
        exe = shutil.which(self.program)
        if exe is None:
            raise InvalidRequestError(f"{self.program} not found: is Nix installed?")
        return subprocess.Popen(
            [exe, "--dump", self.physical_path(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=1 << 20,
        )


def infer_content_address(
    path: StorePath,
    result: IngestResult,
    references: list[StorePath],
    blob_service: BlobService,
) -> CAHash | None:
    """The content address of ``path`` if its name proves one, else None.

    ``nix-store --query`` does not tell content addresses, but a content-addressed
    path's name is computed from it: a "source" path (``nix-store --add``) from its
    NAR hash, a text path (``builtins.toFile``, ``.drv``) from its contents. Each
    candidate is recomputed and kept only if it yields exactly ``path``.
    """
    others = [ref for ref in references if ref != path]
    self_reference = len(others) != len(references)
    nar = NarHash(NixHash(HashAlgo.SHA256, result.nar_sha256))
    try:
        if build_ca_path(path.name, nar, others, self_reference) == path:
            return nar
    except NixCompatError:
        pass
    root = result.root
    if isinstance(root, FileNode) and not root.executable and not self_reference:
        reader = blob_service.open_read(B3Digest(root.digest))
        if reader is not None:
            hasher = hashlib.sha256()
            with reader:
                while data := reader.read(CHUNK_SIZE):
                    hasher.update(data)
            text = TextHash(hasher.digest())
            if build_ca_path(path.name, text, others) == path:
                return text
    return None


def copy_closure(
    nix: NixStore,
    paths: Iterable[StorePath],
    blob_service: BlobService,
    directory_service: DirectoryService,
    path_info_service: PathInfoService,
    *,
    on_copied: Callable[[StorePath, PathInfo | None], None] | None = None,
) -> list[StorePath]:
    """Copy ``paths`` with their closures; paths already present are skipped.

    Dependencies are copied before the paths that refer to them, so a PathInfo
    never refers to a path the store lacks. Each NAR is checked against the
    hash Nix recorded. ``on_copied`` hears of each path (None when skipped).
    """
    order = nix.closure(paths)
    for path in order:
        if path_info_service.get(path.digest) is not None:
            if on_copied is not None:
                on_copied(path, None)
            continue
        references = nix.references(path)
        nar_sha256 = nix.nar_hash(path)
        deriver = nix.deriver(path)
        process = nix.dump(path)
        assert process.stdout is not None
        failure: NarIngestError | None = None
        try:
            result = ingest_nar(
                process.stdout,
                blob_service,
                directory_service,
                str(path).encode(),
                expected_sha256=nar_sha256,
            )
        except NarIngestError as e:
            failure = e
        finally:
            process.stdout.close()
            _, stderr = process.communicate()
        if process.returncode != 0:
            # A dump that failed explains a truncated NAR better than the NAR reader can.
            raise StorageError(
                f"nix-store --dump {path.to_absolute_path()} failed: {stderr.decode().strip()}"
            )
        if failure is not None:
            raise failure
        ca = infer_content_address(path, result, references, blob_service)
        info = path_info_service.put(
            build_path_info(
                result.root,
                result.nar_size,
                result.nar_sha256,
                references=references,
                deriver=deriver,
                ca=ca,
            )
        )
        if on_copied is not None:
            on_copied(path, info)
    return order
