"""``builtins.fetchGit`` on a local repository: the attributes Nix 2.8 gives, the same values."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Tvix = Callable[..., Any]

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(repo: Path, *args: str, date: str = "2021-01-02T03:04:05Z") -> str:
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_DATE=date,
        GIT_COMMITTER_DATE=date,
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    cmd = ["git", "-c", "user.name=T", "-c", "user.email=t@example.org", "-C", str(repo), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway repository with two commits on ``main`` (and a private HOME and cache)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    path = tmp_path / "repo"
    path.mkdir()
    _git(path, "init", "-q", "-b", "main")
    (path / "a.txt").write_text("hi\n")
    (path / "d").mkdir()
    (path / "d" / "b").write_text("x\n")
    (path / "run.sh").write_text("#!/bin/sh\n")
    (path / "run.sh").chmod(0o755)
    _git(path, "add", ".")
    _git(path, "commit", "-qm", "one")
    (path / "c").write_text("more\n")
    _git(path, "add", "c")
    _git(path, "commit", "-qm", "two", date="2021-01-03T03:04:05Z")
    return path


def _exprs(repo: Path) -> list[str]:
    first = _git(repo, "rev-parse", "HEAD~1")
    return [
        f"builtins.fetchGit {repo}",
        f'builtins.fetchGit "file://{repo}"',
        f'builtins.fetchGit {{ url = {repo}; rev = "{first}"; }}',
        f'builtins.fetchGit {{ url = "file://{repo}"; ref = "main"; name = "foo"; }}',
        f"builtins.readDir (builtins.fetchGit {repo})",
    ]


def test_fetch_git_attributes(tvix: Tvix, repo: Path) -> None:
    head = _git(repo, "rev-parse", "HEAD")
    expr = (
        f'let t = builtins.fetchGit {repo}; in removeAttrs t [ "outPath" ] // {{ p = t.outPath; }}'
    )

    r = tvix("eval", "--store", "memory://", "--strict", "--json", "-E", expr)
    assert r.code == 0, r.err
    got = json.loads(r.out)
    assert got["rev"] == head
    assert got["shortRev"] == head[:7]
    assert got["revCount"] == 2
    assert got["lastModified"] == 1609643045
    assert got["lastModifiedDate"] == "20210103030405"
    assert got["submodules"] is False
    assert got["narHash"].startswith("sha256-")
    assert got["p"].endswith("-source")


def test_fetch_git_dirty_tree_uses_tracked_files(tvix: Tvix, repo: Path) -> None:
    (repo / "a.txt").write_text("changed\n")
    (repo / "untracked").write_text("no\n")
    expr = (
        f"let t = builtins.fetchGit {repo}; in [ t.rev t.revCount "
        '(builtins.attrNames (builtins.readDir t)) (builtins.readFile (t + "/a.txt")) ]'
    )
    r = tvix("eval", "--store", "memory://", "--strict", "-E", expr)
    assert r.code == 0, r.err
    assert r.out == f'[ "{"0" * 40}" 0 [ "a.txt" "c" "d" "run.sh" ] "changed\\n" ]\n'
    assert f"warning: Git tree '{repo}' is dirty" in r.err


def test_fetch_git_unknown_rev_is_an_error(tvix: Tvix, repo: Path) -> None:
    r = tvix(
        "eval", "--store", "memory://", "-E", f'builtins.fetchGit {{ url = {repo}; ref = "nope"; }}'
    )
    assert r.code == 1
    assert "unable to fetch Git repository" in r.err
    assert "Traceback" not in r.err


@pytest.mark.nix
def test_fetch_git_matches_nix(tvix: Tvix, nix: Tvix, repo: Path) -> None:
    for expr in _exprs(repo):
        theirs = nix("--eval", "--strict", "-E", expr)
        assert theirs.code == 0, theirs.err
        assert tvix("instantiate", "--eval", "--strict", "-E", expr).out == theirs.out


@pytest.mark.nix
def test_fetch_git_dirty_matches_nix(tvix: Tvix, nix: Tvix, repo: Path) -> None:
    (repo / "a.txt").write_text("changed\n")
    (repo / "untracked").write_text("no\n")
    expr = f"builtins.fetchGit {repo}"
    theirs = nix("--eval", "--strict", "-E", expr)
    assert theirs.code == 0, theirs.err
    ours = tvix("instantiate", "--eval", "--strict", "-E", expr)
    assert ours.out == theirs.out
    assert ours.err == theirs.err


def _change(repo: Path, change: str) -> Path:
    """Put ``repo`` (or a fresh repository beside it) into a state Nix 2.8 has to classify."""
    if change == "staged-then-reverted":
        (repo / "a.txt").write_text("staged\n")
        _git(repo, "add", "a.txt")
        (repo / "a.txt").write_text("hi\n")
    elif change == "deleted-directory":
        shutil.rmtree(repo / "d")
    else:
        repo = repo.parent / "fresh"
        repo.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        (repo / "f").write_text("f\n")
        if change == "no-commits":
            _git(repo, "add", "f")
    return repo


@pytest.mark.nix
@pytest.mark.parametrize(
    "change", ["staged-then-reverted", "deleted-directory", "no-commits", "nothing-staged"]
)
def test_fetch_git_dirtiness_matches_nix(tvix: Tvix, nix: Tvix, repo: Path, change: str) -> None:
    """Nix 2.8 calls a tree dirty when ``git diff HEAD`` reports a change or there is no HEAD
    commit, and copies the listed files that are still on disk."""
    expr = f"let t = builtins.fetchGit {_change(repo, change)}; in [ t (builtins.readDir t) ]"
    theirs = nix("--eval", "--strict", "-E", expr)
    assert theirs.code == 0, theirs.err
    ours = tvix("instantiate", "--eval", "--strict", "-E", expr)
    assert (ours.out, ours.err) == (theirs.out, theirs.err)
