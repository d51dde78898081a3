"""Fetchers behind ``builtins.fetchurl``, ``fetchTarball`` and ``fetchGit``.

``file://`` and ``http(s)://`` URLs are downloaded with the standard library; the result goes into
the store with the path C++ Nix computes (a flat fixed-output path for ``fetchurl``, a source
path for an unpacked tarball or a Git checkout).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from tvix_eval.io import EvalIOError

if TYPE_CHECKING:
    from tvix_cli.store_io import StoreIO

#: seconds before a download gives up
TIMEOUT = 60


class Fetcher:
    """Downloads into a temporary directory and adds the result to the IO's store."""

    def __init__(self, io: StoreIO) -> None:
        self._io = io
        self._cache: dict[tuple[str, str], str] = {}

    def fetch(self, kind: str, args: dict[str, Any]) -> str:
        """The store path for a fetch request (``kind``: fetchurl, fetchTarball, fetchGit)."""
        key = (kind, repr(sorted(args.items())))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if kind == "fetchurl":
            result = self._fetchurl(args)
        elif kind == "fetchTarball":
            result = self._fetch_tarball(args)
        elif kind == "fetchGit":
            result = self._fetch_git(args)
        else:
            raise EvalIOError(f"unable to fetch '{args.get('url', '')}': {kind} is not supported")
        self._cache[key] = result
        return result

    def _download(self, url: str, target: str) -> None:
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response, open(target, "wb") as f:
                shutil.copyfileobj(response, f)
        except urllib.error.HTTPError as e:
            raise EvalIOError(
                f"unable to download '{url}': HTTP error {e.code} ({e.reason})"
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            reason = getattr(e, "reason", e)
            raise EvalIOError(f"unable to download '{url}': {reason}") from None

    def _fetchurl(self, args: dict[str, Any]) -> str:
        url: str = args["url"]
        with tempfile.TemporaryDirectory(prefix="tvix-fetch-") as tmp:
            target = os.path.join(tmp, "download")
            self._download(url, target)
            with open(target, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            _check_hash(url, args.get("sha256"), digest)
            return self._io.add_path_to_store(target, args["name"], False, None)

    def _fetch_tarball(self, args: dict[str, Any]) -> str:
        url: str = args["url"]
        with tempfile.TemporaryDirectory(prefix="tvix-fetch-") as tmp:
            archive = os.path.join(tmp, "archive")
            self._download(url, archive)
            unpacked = os.path.join(tmp, "unpacked")
            os.mkdir(unpacked)
            try:
                with tarfile.open(archive) as tar:
                    tar.extractall(unpacked, filter="tar")
            except (tarfile.TarError, OSError) as e:
                raise EvalIOError(f"unpacking '{url}': {e}") from None
            entries = os.listdir(unpacked)
            if len(entries) != 1:
                raise EvalIOError(
                    f"tarball '{url}' contains an unexpected number of top-level files"
                )
            top = os.path.join(unpacked, entries[0])
            path = self._io.add_path_to_store(top, args["name"], True, None)
            expected = args.get("sha256")
            if expected is not None:
                from nix_compat.store_path import build_nar_based_store_path

                if (
                    build_nar_based_store_path(
                        bytes.fromhex(expected), args["name"]
                    ).to_absolute_path()
                    != path
                ):
                    raise EvalIOError(f"hash mismatch in file downloaded from '{url}'")
            return path

    def _fetch_git(self, args: dict[str, Any]) -> str:
        url: str = args["url"]
        name = args.get("name") or "source"
        ref = args.get("rev") or args.get("ref") or "HEAD"
        with tempfile.TemporaryDirectory(prefix="tvix-fetch-") as tmp:
            checkout = os.path.join(tmp, "checkout")
            try:
                subprocess.run(
                    ["git", "clone", "--quiet", "--no-checkout", url, checkout],
                    check=True,
                    capture_output=True,
                    timeout=TIMEOUT,
                )
                subprocess.run(
                    ["git", "-C", checkout, "checkout", "--quiet", ref],
                    check=True,
                    capture_output=True,
                    timeout=TIMEOUT,
                )
            except (OSError, subprocess.SubprocessError) as e:
                detail = getattr(e, "stderr", b"") or b""
                raise EvalIOError(
                    f"unable to fetch Git repository '{url}': "
                    f"{detail.decode(errors='replace').strip() or e}"
                ) from None
            shutil.rmtree(os.path.join(checkout, ".git"))
            return self._io.add_path_to_store(checkout, name, True, None)


def _check_hash(url: str, expected: str | None, actual_hex: str) -> None:
    if expected is not None and expected != actual_hex:
        from nix_compat.nixhash import HashAlgo, NixHash

        want = NixHash(HashAlgo.SHA256, bytes.fromhex(expected)).sri()
        got = NixHash(HashAlgo.SHA256, bytes.fromhex(actual_hex)).sri()
        raise EvalIOError(
            f"hash mismatch in file downloaded from '{url}':\n"
            f"         specified: {want}\n         got:       {got}"
        )
