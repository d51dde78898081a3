"""Fetchers behind ``builtins.fetchurl``, ``fetchTarball`` and ``fetchGit``.

``file://`` and ``http(s)://`` URLs are downloaded with the standard library; the result goes into
the store with the path C++ Nix computes (a flat fixed-output path for ``fetchurl``, a source
path for an unpacked tarball or a Git checkout).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from tvix_eval.io import EvalIOError

from tvix_cli import gitrepo

if TYPE_CHECKING:
    from tvix_cli.store_io import StoreIO

#: seconds before a download gives up
TIMEOUT = 60


class Fetcher:
    """Downloads into a temporary directory and adds the result to the IO's store."""

    def __init__(self, io: StoreIO) -> None:
        self._io = io
        self._cache: dict[tuple[str, str], str | dict[str, Any]] = {}

    def fetch(self, kind: str, args: dict[str, Any]) -> str | dict[str, Any]:
        """The store path for a fetch request (``kind``: fetchurl, fetchTarball, fetchGit), or
        for ``fetchGit`` a dict of the tree's attributes."""
        key = (kind, repr(sorted(args.items())))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if kind == "fetchurl":
            result: str | dict[str, Any] = self._fetchurl(args)
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

    def _fetch_git(self, args: dict[str, Any]) -> dict[str, Any]:
        """A Git checkout as Nix 2.8's ``fetchGit`` gives it: the tree at the revision (or, for
        a local repository with uncommitted changes and no ``rev``/``ref``, its tracked files)
        in the store, and ``rev``, ``revCount``, ``lastModified``… beside it. With
        ``submodules = true`` the submodules' trees are part of it, without ``.git`` files."""
        url: str = args["url"]
        name = args.get("name") or "source"
        local = gitrepo.local_repo(url)
        with tempfile.TemporaryDirectory(prefix="tvix-fetch-") as tmp:
            tree = os.path.join(tmp, "tree")
            os.mkdir(tree)
            if (
                local is not None
                and not args.get("rev")
                and not args.get("ref")
                and gitrepo.is_dirty(url, local, bool(args.get("submodules")))
            ):
                sys.stderr.write(f"warning: Git tree '{local}' is dirty\n")
                return self._git_dirty(url, local, tree, name, args)
            return self._git_commit(url, local, tmp, name, args)

    def _git_commit(
        self, url: str, local: str | None, tmp: str, name: str, args: dict[str, Any]
    ) -> dict[str, Any]:
        """The tree of the commit ``rev``/``ref``/HEAD names (a bare clone first when the
        repository is not local), unpacked into ``tmp``'s ``tree``."""
        repo = local
        if repo is None:
            repo = os.path.join(tmp, "clone")
            gitrepo.git(url, "clone", "--quiet", "--bare", url, repo)
        rev = args.get("rev") or gitrepo.resolve_ref(url, repo, args.get("ref"))
        tree = os.path.join(tmp, "tree")
        if args.get("submodules"):
            git_dir = os.path.join(tmp, "git")
            gitrepo.checkout_with_submodules(
                url, repo, rev, tree, origin=local or url, git_dir=git_dir
            )
        else:
            gitrepo.unpack_archive(url, repo, rev, tree)
        rev_count = int(gitrepo.git(url, "-C", repo, "rev-list", "--count", rev))
        last_modified = int(gitrepo.git(url, "-C", repo, "log", "-1", "--format=%ct", rev))
        return self._git_result(tree, name, args, rev, rev_count, last_modified)

    def _git_dirty(
        self, url: str, repo: str, tree: str, name: str, args: dict[str, Any]
    ) -> dict[str, Any]:
        """The working tree's files Git lists (with submodules': those of each checked-out
        submodule, recursively), as they are on disk; no revision, and the time of HEAD."""
        argv = ["-C", repo, "ls-files", "-z"]
        if args.get("submodules"):
            argv.append("--recurse-submodules")
        listed = set(filter(None, gitrepo.git(url, *argv, strip=False).split("\0")))
        gitrepo.copy_listed(repo, tree, listed, gitrepo.parents(listed))
        last_modified = 0
        if gitrepo.has_head(url, repo):
            last_modified = int(gitrepo.git(url, "-C", repo, "log", "-1", "--format=%ct", "HEAD"))
        return self._git_result(tree, name, args, "0" * 40, 0, last_modified)

    def _git_result(  # noqa: PLR0917
        self,
        tree: str,
        name: str,
        args: dict[str, Any],
        rev: str,
        rev_count: int,
        last_modified: int,
    ) -> dict[str, Any]:
        from nix_compat.nar import nar_hash_path
        from nix_compat.nixhash import HashAlgo, NixHash

        out_path = self._io.add_path_to_store(tree, name, True, None)
        nar_hash = NixHash(HashAlgo.SHA256, nar_hash_path(tree)[1]).sri()
        return {
            "outPath": out_path,
            "rev": rev,
            "shortRev": rev[:7],
            "revCount": rev_count,
            "lastModified": last_modified,
            "lastModifiedDate": time.strftime("%Y%m%d%H%M%S", time.gmtime(last_modified)),
            "submodules": bool(args.get("submodules", False)),
            "narHash": nar_hash,
        }


def _check_hash(url: str, expected: str | None, actual_hex: str) -> None:
    if expected is not None and expected != actual_hex:
        from nix_compat.nixhash import HashAlgo, NixHash

        want = NixHash(HashAlgo.SHA256, bytes.fromhex(expected)).sri()
        got = NixHash(HashAlgo.SHA256, bytes.fromhex(actual_hex)).sri()
        raise EvalIOError(
            f"hash mismatch in file downloaded from '{url}':\n"
            f"         specified: {want}\n         got:       {got}"
        )
