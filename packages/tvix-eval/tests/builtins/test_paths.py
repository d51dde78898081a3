"""File, store-path and fetcher builtins against a temporary directory tree."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest
from tvix_eval.api import Evaluator
from tvix_eval.io import FilesystemIO

from .conftest import Run, batch


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (d / "f").write_text("hello\n")
    (d / "x").write_text("#!/bin/sh\n")
    os.chmod(d / "x", 0o755)
    (d / "sub" / "g").write_bytes(b"\xff\xfe binary")
    (d / "l").symlink_to("f")
    top = tmp_path / "tb" / "top"
    top.mkdir(parents=True)
    (top / "a").write_text("x\n")
    with tarfile.open(tmp_path / "t.tar.gz", "w:gz") as tar:
        tar.add(top, arcname="top")
    return tmp_path


def cases(t: Path) -> list[str]:
    d = t / "d"
    return [
        f"builtins.readFile {d}/f",
        f'builtins.readFile "{d}/sub/g"',
        f"builtins.readDir {d}",
        f"builtins.pathExists {d}/nope",
        f'builtins.pathExists "{d}/"',
        f'builtins.pathExists "{d}/f/"',
        f"builtins.path {{ path = {d}; }}",
        f'builtins.path {{ path = {d}; name = "renamed"; }}',
        f'builtins.path {{ path = {d}; filter = p: t: t != "symlink"; }}',
        f"builtins.path {{ path = {d}/f; recursive = false; }}",
        f"builtins.filterSource (p: t: true) {d}",
        f'builtins.filterSource (p: t: baseNameOf p != "sub") {d}',
        'builtins.toFile "foo" "bar"',
        f'builtins.toFile "foo" "${{{d}/f}}"',
        f'builtins.getContext (builtins.toFile "foo" "${{{d}/f}}")',
        'builtins.placeholder "out"',
        'builtins.placeholder "dev"',
        'builtins.findFile [] "nix/fetchurl.nix"',
        f'builtins.findFile [{{ path = "{t}"; prefix = "foo"; }}] "foo/d/f"',
        f'builtins.findFile [{{ path = "{t}"; prefix = ""; }}] "d"',
        f'builtins.findFile [{{ path = "{d}"; }}] "sub"',
        f'builtins.fetchurl "file://{d}/f"',
        f'builtins.fetchurl {{ url = "file://{d}/f"; name = "foo"; }}',
        f'builtins.fetchTarball "file://{t}/t.tar.gz"',
        f'builtins.fetchTarball {{ url = "file://{t}/t.tar.gz"; name = "x"; }}',
        "builtins.storeDir",
        "builtins.langVersion",
        'builtins.getEnv "HOME"',
    ]


@pytest.mark.nix
def test_paths_match_nix(tvix: Run, nix: Run, tree: Path) -> None:
    src = batch(cases(tree))
    assert tvix(src) == nix(src)


ZERO = "0" * 52


def errors(t: Path) -> list[str]:
    d = t / "d"
    return [
        f"builtins.readFile {d}/nope",
        f"builtins.readDir {d}/f",
        f"builtins.readFile {d}",
        f'builtins.hashFile "md5" {d}',
        "builtins.path { }",
        'builtins.path { path = "rel"; }',
        f"builtins.filterSource 1 {d}",
        f"builtins.filterSource (x: true) {d}",
        'builtins.getContext (builtins.head (builtins.split "a" "${builtins.toFile "x" "y"}"))',
        'builtins.pathExists "rel"',
        "builtins.pathExists 1",
        'builtins.toFile "foo/" "bar"',
        "builtins.placeholder 1",
        'builtins.storePath "/nonexistent/x"',
        f'builtins.storePath "{d}"',
        'builtins.findFile [] "nixpkgs"',
        f'builtins.path {{ path = {d}; sha256 = "{ZERO}"; }}',
        f"builtins.path {{ path = {d}/f; foo = 1; }}",
        f'builtins.fetchurl {{ url = "file://{d}/f"; sha256 = "{ZERO}"; }}',
        f'builtins.fetchurl {{ url = "file://{d}/f"; foo = 1; }}',
        "builtins.fetchurl { }",
        "builtins.fetchurl 1",
        f'builtins.fetchurl "file://{d}/nope"',
        "builtins.fetchGit { }",
        'builtins.fetchTree { type = "path"; }',
    ]


@pytest.mark.nix
def test_path_errors_match_nix(tvix: Run, nix: Run, tree: Path) -> None:
    for src in errors(tree):
        assert tvix(src) == nix(src), src


def test_read_file_type(tvix: Run, tree: Path) -> None:
    d = tree / "d"
    src = f'map builtins.readFileType [ {d} {d}/f {d}/l "{d}/sub/" ]'
    assert tvix(src) == '[ "directory" "regular" "symlink" "directory" ]'


def test_network_fetch_is_a_clear_error(tvix: Run) -> None:
    assert tvix('builtins.fetchurl "https://example.invalid/x"') == (
        "error: unable to download 'https://example.invalid/x': network access is not available"
    )
    assert "https://example.invalid/r.git" in tvix(
        'builtins.fetchGit "https://example.invalid/r.git"'
    )


def test_nix_path_lists_the_search_path() -> None:
    ev = Evaluator(search_path=["nixpkgs=/a/b", "/c"])
    assert ev.print(ev.evaluate("builtins.nixPath", strict=True)) == (
        '[ { path = "/a/b"; prefix = "nixpkgs"; } { path = "/c"; prefix = ""; } ]'
    )


def test_pure_evaluation_refuses_files(tree: Path) -> None:
    ev = Evaluator()
    from tvix_eval.errors import NixError

    with pytest.raises(NixError, match="forbidden in pure evaluation mode"):
        ev.evaluate(f"builtins.readFile {tree}/d/f", strict=True)
    with pytest.raises(NixError, match="forbidden in pure evaluation mode"):
        ev.evaluate(f"builtins.filterSource (p: t: true) {tree}/d", strict=True)


class StoreIO(FilesystemIO):
    """An IO with the optional store methods, recording what the builtins ask of it."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def add_text_to_store(self, name: str, contents: bytes, references: list[str]) -> str:
        self.calls.append(("text", name, contents, tuple(references)))
        return "/nix/store/00000000000000000000000000000000-" + name

    def add_path_to_store(self, path: str, name: str, recursive: bool, keep: object) -> str:
        self.calls.append(("path", path, name, recursive, keep is not None))
        return "/nix/store/11111111111111111111111111111111-" + name

    def fetch(self, kind: str, args: dict[str, object]) -> object:
        self.calls.append(("fetch", kind, args["url"]))
        if kind == "fetchGit":
            return {"outPath": "/nix/store/22222222222222222222222222222222-source", "rev": "abc"}
        return "/nix/store/33333333333333333333333333333333-x"


def test_store_hooks(tree: Path) -> None:
    io = StoreIO()
    ev = Evaluator(io=io, impure=True)

    def run(src: str) -> str:
        return str(ev.print(ev.evaluate(src, strict=True)))

    assert run('builtins.toFile "a" "b"') == '"/nix/store/00000000000000000000000000000000-a"'
    assert run(f"builtins.filterSource (p: t: true) {tree}/d") == (
        '"/nix/store/11111111111111111111111111111111-d"'
    )
    assert run('builtins.fetchurl "https://example.invalid/x"') == (
        '"/nix/store/33333333333333333333333333333333-x"'
    )
    assert run('(builtins.fetchGit "https://example.invalid/r").rev') == '"abc"'
    assert io.calls == [
        ("text", "a", b"b", ()),
        ("path", f"{tree}/d", "d", True, True),
        ("fetch", "fetchurl", "https://example.invalid/x"),
        ("fetch", "fetchGit", "https://example.invalid/r"),
    ]
