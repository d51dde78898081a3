"""Git plumbing for ``fetchGit``, step by step as C++ Nix 2.8's Git fetcher does it.

Every Git command runs through :func:`git` (or :func:`_run_git` where its exit status is the
answer), so a missing Git, a timeout or a failing command is an :class:`EvalIOError` naming
the repository, never a traceback.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile

from tvix_eval.io import EvalIOError

#: seconds any one Git command may take
TIMEOUT = 60


def local_repo(url: str) -> str | None:
    """The directory of a local repository URL (a path or ``file://``), else None."""
    if url.startswith("/"):
        return url
    if url.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(url).path)
    return None


def has_head(url: str, repo: str) -> bool:
    """Whether HEAD names a commit (a repository without one counts as dirty in Nix 2.8)."""
    verify = ("rev-parse", "--verify", "--quiet", "--no-revs", "HEAD^{commit}")
    return _run_git(url, "-C", repo, *verify).returncode == 0


def is_dirty(url: str, repo: str, submodules: bool) -> bool:
    """Whether the working tree differs from HEAD, checked as Nix 2.8 does (``git diff HEAD``):
    changed submodules count only when their contents are fetched too."""
    if not has_head(url, repo):
        return True
    ignore = () if submodules else ("--ignore-submodules",)
    proc = _run_git(url, "-C", repo, "diff", "HEAD", "--quiet", *ignore, "--")
    if proc.returncode not in {0, 1}:
        raise _git_error(url, proc.stderr)
    return proc.returncode == 1


def parents(listed: set[str]) -> set[str]:
    """Every directory (relative, ``/``-separated) that holds one of the ``listed`` paths."""
    parents: set[str] = set()
    for rel in listed:
        parts = rel.split("/")[:-1]
        parents.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return parents


def copy_listed(
    source: str, target: str, listed: set[str], parents: set[str], prefix: str = ""
) -> None:
    """Copy what Nix 2.8's filter keeps of a dirty working tree: listed files and symlinks
    as they are on disk, and real directories that hold a listed path (even if it is gone)."""
    with os.scandir(source) as entries:
        for entry in entries:
            rel = prefix + entry.name
            dest = os.path.join(target, entry.name)
            if entry.is_dir(follow_symlinks=False):
                if rel in parents:
                    os.mkdir(dest)
                    copy_listed(entry.path, dest, listed, parents, rel + "/")
            elif rel not in listed:
                continue
            elif entry.is_symlink():
                os.symlink(os.readlink(entry.path), dest)
            elif entry.is_file(follow_symlinks=False):
                shutil.copy2(entry.path, dest)


def unpack_archive(url: str, repo: str, rev: str, tree: str) -> None:
    """Unpack ``rev``'s tree (no submodule contents) into ``tree`` with ``git archive``."""
    archive = _run_git(url, "-C", repo, "archive", "--format=tar", rev)
    if archive.returncode != 0:
        raise _git_error(url, archive.stderr)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="tar")


def checkout_with_submodules(
    url: str, repo: str, rev: str, tree: str, *, origin: str, git_dir: str
) -> None:
    """Check ``rev`` out into ``tree`` with its submodules, recursively, the way Nix 2.8 does:
    fetch all of ``repo``'s refs into a fresh repository whose ``.git`` lives in ``git_dir``,
    check out, name ``origin`` the remote (relative submodule URLs are resolved against it),
    let ``git submodule update`` clone each submodule, then drop every ``.git`` entry."""
    init = ("-c", "init.defaultBranch=__nix_dummy_branch", "init", "--quiet")
    git(url, *init, tree, "--separate-git-dir", git_dir)
    refs = ("fetch", "--quiet", "--force", "--update-head-ok", "--", repo, "refs/*:refs/*")
    git(url, "-C", tree, *refs)
    git(url, "-C", tree, "checkout", "--quiet", rev)
    git(url, "-C", tree, "remote", "add", "origin", origin)
    git(url, "-C", tree, "submodule", "--quiet", "update", "--init", "--recursive")
    _remove_dot_git(tree)


def _remove_dot_git(tree: str) -> None:
    """Delete every entry named ``.git`` under ``tree`` (Nix's ``isNotDotGitDirectory``)."""
    for top, dirs, files in os.walk(tree):
        if ".git" in dirs:
            dirs.remove(".git")
            path = os.path.join(top, ".git")
            if os.path.islink(path):
                os.unlink(path)
            else:
                shutil.rmtree(path)
        if ".git" in files:
            os.unlink(os.path.join(top, ".git"))


def resolve_ref(url: str, repo: str, ref: str | None) -> str:
    """The commit a ``ref`` names (``HEAD`` when none; a bare name is a branch, as in Nix)."""
    if ref is None:
        ref = "HEAD"
    elif not ref.startswith("refs/") and ref != "HEAD":
        ref = "refs/heads/" + ref
    return git(url, "-C", repo, "rev-parse", "--verify", "--quiet", ref + "^{commit}")


def git(url: str, *argv: str, strip: bool = True) -> str:
    """Run ``git argv…``; its stdout, or an error naming the repository."""
    proc = _run_git(url, *argv)
    if proc.returncode != 0:
        raise _git_error(url, proc.stderr)
    out = proc.stdout.decode(errors="surrogateescape")
    return out.strip() if strip else out


def _run_git(url: str, *argv: str) -> subprocess.CompletedProcess[bytes]:
    """Run ``git argv…`` whatever its exit status; only a Git that cannot run is an error."""
    try:
        return subprocess.run(["git", *argv], capture_output=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        raise EvalIOError(f"unable to fetch Git repository '{url}': {e}") from None


def _git_error(url: str, stderr: bytes) -> EvalIOError:
    """The error for a failed Git command: the repository and what Git said."""
    detail = stderr.decode(errors="replace").strip()
    return EvalIOError(
        f"unable to fetch Git repository '{url}'" + (f": {detail}" if detail else "")
    )
