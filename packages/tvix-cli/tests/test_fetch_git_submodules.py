"""``builtins.fetchGit { …; submodules = true; }``: the superproject's tree with every submodule
checked out at the commit it records (recursively, no ``.git`` files), as Nix 2.8 fetches it.

Git ≥ 2.38.1 refuses to clone submodules from local paths unless ``protocol.file.allow`` is
``always``, and Nix 2.8 does not set it, so on such a Git both Nix and ``tvix`` fail on the
repositories below (``test_stock_git_protocol_setting_matches_nix``). The other tests set it for
both through ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_0``/``GIT_CONFIG_VALUE_0``.

Submodule URLs are relative (``../sub``) and commit dates fixed, so every revision and hash
below is the same on every machine; the constants were checked against ``nix-instantiate``.
"""

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

DAY1 = "2021-01-02T03:04:05Z"
DAY2 = "2021-01-03T03:04:05Z"
DAY3 = "2021-01-04T03:04:05Z"

#: a Nix function: the fetched tree as nested attribute sets of file contents
WALK = (
    "walk = dir: builtins.mapAttrs (n: type: "
    'if type == "directory" then walk "${dir}/${n}" '
    'else if type == "regular" then builtins.readFile "${dir}/${n}" '
    "else type) (builtins.readDir dir);"
)


def _git(repo: Path, *args: str, date: str = DAY1) -> str:
    env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    cmd = ["git", "-c", "user.name=T", "-c", "user.email=t@example.org", "-C", str(repo), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(autouse=True)
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private HOME and cache (Nix keeps its fetcher cache there), no user or system Git
    configuration, and local submodule URLs allowed, for both ``tvix`` and ``nix-instantiate``."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "protocol.file.allow")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "always")


def _init(path: Path, files: dict[str, str]) -> Path:
    path.mkdir()
    _git(path, "init", "-q", "-b", "main")
    _write(path, files)
    return path


def _write(repo: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)


def _commit(repo: Path, message: str, date: str = DAY1) -> str:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", message, date=date)
    return _git(repo, "rev-parse", "HEAD")


def _add_submodule(repo: Path, url: str, path: str) -> None:
    _git(repo, "submodule", "--quiet", "add", url, path)


@pytest.fixture
def superproject(tmp_path: Path) -> Path:
    """``super`` with two commits: the first records ``sub`` at its first commit, the second
    at its second (a changed file, a new executable and a symlink)."""
    sub = _init(tmp_path / "sub", {"s.txt": "one\n"})
    _commit(sub, "s1")
    top = _init(tmp_path / "super", {"a.txt": "hi\n"})
    _add_submodule(top, "../sub", "sub")
    _commit(top, "one")
    _write(sub, {"s.txt": "two\n", "bin/run": "#!/bin/sh\n"})
    (sub / "bin" / "run").chmod(0o755)
    (sub / "link").symlink_to("s.txt")
    _commit(sub, "s2", date=DAY2)
    _git(top / "sub", "pull", "-q", "origin", "main")
    _commit(top, "two", date=DAY3)
    return top


@pytest.fixture
def nested(tmp_path: Path) -> Path:
    """``top`` ⊃ ``deps/mid`` ⊃ ``leaf``: a submodule inside a submodule."""
    leaf = _init(tmp_path / "leaf", {"l.txt": "leaf\n"})
    _commit(leaf, "l")
    mid = _init(tmp_path / "mid", {"m.txt": "mid\n"})
    _add_submodule(mid, "../leaf", "leaf")
    _commit(mid, "m")
    top = _init(tmp_path / "top", {"t.txt": "top\n"})
    _add_submodule(top, "../mid", "deps/mid")
    _commit(top, "t", date=DAY2)
    _git(top, "submodule", "--quiet", "update", "--init", "--recursive")
    return top


def _fetch(url: str, extra: str = "", submodules: bool = True) -> str:
    flag = "true" if submodules else "false"
    return f"builtins.fetchGit {{ url = {url}; submodules = {flag}; {extra}}}"


def _summary(fetch: str) -> str:
    """The fetch's attributes (``p`` for ``outPath``) and its whole tree, for ``--json``."""
    return (
        f"let t = {fetch}; {WALK} in "
        'removeAttrs t [ "outPath" ] // { p = t.outPath; tree = walk "${t}"; }'
    )


def _tvix_json(tvix: Tvix, expr: str) -> Any:
    r = tvix("eval", "--store", "memory://", "--strict", "--json", "-E", expr)
    assert r.code == 0, r.err
    return json.loads(r.out)


def _same_as_nix(tvix: Tvix, nix: Tvix, expr: str) -> None:
    """``--eval --strict`` of ``expr`` (all attributes) and of its summary print alike."""
    for args in (("--eval", "--strict"), ("--eval", "--strict", "--json")):
        e = expr if "--json" not in args else _summary(expr)
        theirs = nix(*args, "-E", e)
        assert theirs.code == 0, theirs.err
        ours = tvix("instantiate", *args, "-E", e)
        assert (ours.code, ours.out, ours.err) == (0, theirs.out, theirs.err)


GITMODULES_SUB = '[submodule "sub"]\n\tpath = sub\n\turl = ../sub\n'


def test_submodule_at_recorded_commit(tvix: Tvix, superproject: Path) -> None:
    got = _tvix_json(tvix, _summary(_fetch(str(superproject))))
    assert got == {
        "lastModified": 1609729445,
        "lastModifiedDate": "20210104030405",
        "narHash": "sha256-w+U2pbTII3Au41rjCfiC5VZM802dpZXBhOErT1YkFjI=",
        "p": "/nix/store/ywf6545a9qjh8ishqa6pq7r71b5lwhf8-source",
        "rev": "50496bac25fdffdaece78b30bf41f5001a283660",
        "revCount": 2,
        "shortRev": "50496ba",
        "submodules": True,
        "tree": {
            ".gitmodules": GITMODULES_SUB,
            "a.txt": "hi\n",
            "sub": {"bin": {"run": "#!/bin/sh\n"}, "link": "symlink", "s.txt": "two\n"},
        },
    }


def test_older_rev_has_older_submodule_commit(tvix: Tvix, superproject: Path) -> None:
    first = _git(superproject, "rev-parse", "HEAD~1")
    got = _tvix_json(tvix, _summary(_fetch(f'"file://{superproject}"', f'rev = "{first}";')))
    assert got["rev"] == first
    assert got["revCount"] == 1
    assert got["lastModified"] == 1609556645
    assert got["tree"] == {
        ".gitmodules": GITMODULES_SUB,
        "a.txt": "hi\n",
        "sub": {"s.txt": "one\n"},
    }


def test_without_submodules_the_directory_is_empty(tvix: Tvix, superproject: Path) -> None:
    got = _tvix_json(tvix, _summary(_fetch(str(superproject), submodules=False)))
    assert got["submodules"] is False
    assert got["tree"] == {".gitmodules": GITMODULES_SUB, "a.txt": "hi\n", "sub": {}}


def test_nested_submodules(tvix: Tvix, nested: Path) -> None:
    got = _tvix_json(tvix, _summary(_fetch(str(nested))))
    assert got["revCount"] == 1
    assert got["tree"] == {
        ".gitmodules": '[submodule "deps/mid"]\n\tpath = deps/mid\n\turl = ../mid\n',
        "deps": {
            "mid": {
                ".gitmodules": '[submodule "leaf"]\n\tpath = leaf\n\turl = ../leaf\n',
                "leaf": {"l.txt": "leaf\n"},
                "m.txt": "mid\n",
            }
        },
        "t.txt": "top\n",
    }


def _make_dirty(top: Path) -> None:
    """Change the superproject and its submodule, delete a file and add untracked ones."""
    _write(top, {"a.txt": "changed\n", "new.txt": "untracked\n"})
    _write(top / "sub", {"s.txt": "edited\n", "u.txt": "untracked\n"})
    (top / "sub" / "bin" / "run").unlink()


def test_dirty_tree_copies_listed_submodule_files(tvix: Tvix, superproject: Path) -> None:
    _make_dirty(superproject)
    r = tvix(
        "eval",
        "--store",
        "memory://",
        "--strict",
        "--json",
        "-E",
        _summary(_fetch(str(superproject))),
    )
    assert r.code == 0, r.err
    assert r.err == f"warning: Git tree '{superproject}' is dirty\n"
    got = json.loads(r.out)
    assert (got["rev"], got["revCount"], got["lastModified"]) == ("0" * 40, 0, 1609729445)
    assert got["tree"] == {
        ".gitmodules": GITMODULES_SUB,
        "a.txt": "changed\n",
        "sub": {"bin": {}, "link": "symlink", "s.txt": "edited\n"},
    }


def test_dirty_submodule_only_counts_when_fetched(tvix: Tvix, superproject: Path) -> None:
    _write(superproject / "sub", {"s.txt": "edited\n"})
    clean = _tvix_json(tvix, _summary(_fetch(str(superproject), submodules=False)))
    assert clean["revCount"] == 2
    assert clean["tree"]["sub"] == {}
    dirty = _tvix_json(tvix, _summary(_fetch(str(superproject))))
    assert dirty["revCount"] == 0
    assert dirty["tree"]["sub"]["s.txt"] == "edited\n"


def test_unfetchable_submodule_is_an_error(tvix: Tvix, superproject: Path, tmp_path: Path) -> None:
    (tmp_path / "sub").rename(tmp_path / "gone")
    r = tvix("eval", "--store", "memory://", "-E", _fetch(str(superproject)))
    assert r.code == 1
    assert r.err.startswith(f"error: unable to fetch Git repository '{superproject}': ")
    assert "Traceback" not in r.err


@pytest.mark.nix
@pytest.mark.parametrize("case", ["path", "file-url", "old-rev", "ref", "no-submodules", "name"])
def test_matches_nix(tvix: Tvix, nix: Tvix, superproject: Path, case: str) -> None:
    first = _git(superproject, "rev-parse", "HEAD~1")
    expr = {
        "path": _fetch(str(superproject)),
        "file-url": _fetch(f'"file://{superproject}"'),
        "old-rev": _fetch(str(superproject), f'rev = "{first}";'),
        "ref": _fetch(f'"file://{superproject}"', 'ref = "main";'),
        "no-submodules": _fetch(str(superproject), submodules=False),
        "name": _fetch(str(superproject), 'name = "foo";'),
    }[case]
    _same_as_nix(tvix, nix, expr)


@pytest.mark.nix
def test_nested_matches_nix(tvix: Tvix, nix: Tvix, nested: Path) -> None:
    _same_as_nix(tvix, nix, _fetch(str(nested)))


@pytest.mark.nix
@pytest.mark.parametrize("submodules", [True, False])
def test_dirty_matches_nix(tvix: Tvix, nix: Tvix, superproject: Path, submodules: bool) -> None:
    _make_dirty(superproject)
    _same_as_nix(tvix, nix, _fetch(str(superproject), submodules=submodules))


@pytest.mark.nix
@pytest.mark.parametrize("submodules", [True, False])
def test_dirty_submodule_only_matches_nix(
    tvix: Tvix, nix: Tvix, superproject: Path, submodules: bool
) -> None:
    _write(superproject / "sub", {"s.txt": "edited\n"})
    _same_as_nix(tvix, nix, _fetch(str(superproject), submodules=submodules))


@pytest.mark.nix
def test_unfetchable_submodule_fails_in_nix_too(
    tvix: Tvix, nix: Tvix, superproject: Path, tmp_path: Path
) -> None:
    (tmp_path / "sub").rename(tmp_path / "gone")
    expr = _fetch(str(superproject))
    assert nix("--eval", "-E", expr).code == 1
    assert tvix("instantiate", "--eval", "-E", expr).code == 1


@pytest.mark.nix
def test_stock_git_protocol_setting_matches_nix(
    tvix: Tvix, nix_store: Path, superproject: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``protocol.file.allow=always`` both succeed or both fail (Git ≥ 2.38.1)."""
    nix_instantiate = shutil.which("nix-instantiate")
    if nix_instantiate is None:
        pytest.skip("nix-instantiate is not installed")
    monkeypatch.delenv("GIT_CONFIG_COUNT")
    expr = _fetch(str(superproject))
    env = dict(os.environ, NIX_REMOTE=f"local?root={nix_store}")
    theirs = subprocess.run(
        [nix_instantiate, "--eval", "-E", expr], env=env, capture_output=True, check=False
    )
    ours = tvix("instantiate", "--eval", "-E", expr)
    assert ours.code == theirs.returncode
    if ours.code:
        assert f"error: unable to fetch Git repository '{superproject}'" in ours.err


@pytest.mark.nix
def test_export_ignore_matches_nix(tvix: Tvix, nix: Tvix, superproject: Path) -> None:
    """``git archive`` honours ``export-ignore``; the checkout made for submodules does not."""
    _write(superproject, {".gitattributes": "a.txt export-ignore\n"})
    _commit(superproject, "attributes", date=DAY3)
    for submodules in (True, False):
        _same_as_nix(tvix, nix, _fetch(str(superproject), submodules=submodules))
