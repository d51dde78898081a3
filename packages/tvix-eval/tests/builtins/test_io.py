# ruff: noqa: E501  (expected outputs are kept verbatim)
"""The builtins' use of :class:`~tvix_eval.io.EvalIO`: its store and fetch methods (defaults and
overrides), and failed file operations reported as C++ Nix 2.8 reports them (without a position)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from tvix_eval.api import Evaluator
from tvix_eval.io import EvalIO, EvalIOError, FilesystemIO, PathFilter, PureIO

from .conftest import NIX_INSTANTIATE
from .test_core_errors import nix_report, render

# (expression, what ``nix-instantiate --eval --strict -E`` prints: stdout, or all of stderr)
CASES: list[tuple[str, str]] = [
    (
        "builtins.readFile /nonexistent",
        "error: opening file '/nonexistent': No such file or directory",
    ),
    (
        'builtins.hashFile "sha256" /nonexistent',
        "error: opening file '/nonexistent': No such file or directory",
    ),
    (
        "builtins.readDir /nonexistent",
        "error: opening directory '/nonexistent': No such file or directory",
    ),
    ("builtins.readFile /proc", "error: reading from file: Is a directory"),
    ('builtins.hashFile "sha256" /proc', "error: reading from file: Is a directory"),
    ("import /nonexistent", "error: getting status of '/nonexistent': No such file or directory"),
    (
        "builtins.scopedImport { } /nonexistent",
        "error: getting status of '/nonexistent': No such file or directory",
    ),
    (
        "builtins.path { path = /nonexistent; }",
        "error: getting status of '/nonexistent': No such file or directory\n(use '--show-trace' to show detailed location information)",
    ),
    (
        "builtins.filterSource (p: t: true) /nonexistent",
        "error: getting status of '/nonexistent': No such file or directory\n(use '--show-trace' to show detailed location information)",
    ),
    (
        'builtins.toFile "a b" "x"',
        "error: store path 'dm85kbl5cy82j2dzvy1874s14y3salv3-a b' contains illegal character ' '",
    ),
    (
        "builtins.storePath /nonexistent/x",
        "error: getting status of '/nonexistent': No such file or directory",
    ),
    (
        'builtins.path { path = /proc/version; sha256 = "abc"; }',
        "error: hash 'abc' has wrong length for hash type 'sha256'",
    ),
    (
        'builtins.path { path = /proc/version; sha256 = "sha256:xyz"; }',
        "error: hash 'xyz' has wrong length for hash type 'sha256'",
    ),
    (
        'builtins.path { path = /proc/version; sha256 = "md5:00000000000000000000000000000000"; }',
        "error: hash 'md5:00000000000000000000000000000000' should have type 'sha256'",
    ),
    ('builtins.toFile "a" "b"', '"/nix/store/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a"'),
    (
        "builtins.path { path = /proc/version; foo = 1; }",
        "error: unsupported argument 'foo' to 'addPath'\n\n       at «string»:1:39:\n\n            1| builtins.path { path = /proc/version; foo = 1; }\n             |                                       ^",
    ),
    ('builtins.fetchGit { url = "x"; foo = 1; }', "error: unsupported Git input attribute 'foo'"),
    (
        'builtins.fetchMercurial { url = "x"; foo = 1; }',
        "error: unsupported argument 'foo' to 'fetchMercurial'\n\n       at «string»:1:38:\n\n            1| builtins.fetchMercurial { url = \"x\"; foo = 1; }\n             |                                      ^",
    ),
    (
        'builtins.fetchurl { url = "file:///proc/version"; foo = 1; }',
        "error: unsupported argument 'foo' to 'fetchurl'\n\n       at «string»:1:51:\n\n            1| builtins.fetchurl { url = \"file:///proc/version\"; foo = 1; }\n             |                                                   ^",
    ),
    (
        'builtins.fetchurl { url = "file:///proc/version"; sha256 = "abc"; }',
        "error: hash 'abc' has wrong length for hash type 'sha256'",
    ),
    (
        'builtins.fetchTarball { url = "file:///proc/version"; sha256 = "sha256:abc"; }',
        "error: hash 'abc' has wrong length for hash type 'sha256'",
    ),
]


@pytest.mark.parametrize(("src", "want"), CASES, ids=[c[0][:50] for c in CASES])
def test_report(evaluator: Evaluator, src: str, want: str) -> None:
    assert render(evaluator, src) == want


@pytest.mark.nix
@pytest.mark.skipif(NIX_INSTANTIATE is None, reason="nix-instantiate is not installed")
@pytest.mark.parametrize(("src", "want"), CASES, ids=[c[0][:50] for c in CASES])
def test_cases_are_what_nix_prints(src: str, want: str) -> None:
    assert nix_report(src) == want


class RecordingIO(FilesystemIO):
    """A store-backed IO stand-in: records what the builtins ask of it."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def add_path_to_store(
        self, path: str, name: str, recursive: bool, keep: PathFilter | None
    ) -> str:
        kept = None if keep is None else keep(path + "/f", "regular")
        self.calls.append(("path", path, name, recursive, kept))
        return "/nix/store/00000000000000000000000000000000-" + name

    def add_text_to_store(self, name: str, data: bytes, references: list[str]) -> str:
        self.calls.append(("text", name, data, references))
        return "/nix/store/11111111111111111111111111111111-" + name

    def fetch(self, kind: str, args: dict[str, Any]) -> str | dict[str, Any]:
        self.calls.append(("fetch", kind, args))
        if kind == "fetchGit":
            return {"outPath": "/nix/store/22222222222222222222222222222222-source", "rev": "r"}
        return "/nix/store/33333333333333333333333333333333-" + str(args["name"])


def test_builtins_call_the_io_methods(tmp_path: Path) -> None:
    io = RecordingIO()
    ev = Evaluator(io=io, trace=lambda s: None)
    d = tmp_path / "d"
    d.mkdir()

    def run(src: str) -> str:
        return ev.print(ev.evaluate(src, strict=True))

    assert run('builtins.toFile "t" "x${builtins.toFile "u" "y"}"') == (
        '"/nix/store/11111111111111111111111111111111-t"'
    )
    assert io.calls[-1] == (
        "text",
        "t",
        b"x/nix/store/11111111111111111111111111111111-u",
        ["/nix/store/11111111111111111111111111111111-u"],
    )
    assert run(f'builtins.filterSource (p: t: t != "regular") {d}') == (
        '"/nix/store/00000000000000000000000000000000-d"'
    )
    assert io.calls[-1] == ("path", str(d), "d", True, False)
    assert run(f'builtins.path {{ path = {d}; name = "n"; recursive = false; }}') == (
        '"/nix/store/00000000000000000000000000000000-n"'
    )
    assert io.calls[-1] == ("path", str(d), "n", False, None)
    assert run('builtins.fetchurl "https://example.org/f"') == (
        '"/nix/store/33333333333333333333333333333333-f"'
    )
    assert io.calls[-1] == (
        "fetch",
        "fetchurl",
        {"url": "https://example.org/f", "sha256": None, "name": "f"},
    )
    assert run('(builtins.fetchGit "https://example.org/r").rev') == '"r"'
    assert io.calls[-1] == ("fetch", "fetchGit", {"url": "https://example.org/r"})


def test_default_methods_compute_paths_and_write_nothing(tmp_path: Path) -> None:
    io = FilesystemIO()
    # the path nix-instantiate gives builtins.toFile "a" "b" (see CASES)
    assert io.add_text_to_store("a", b"b", []) == "/nix/store/g76zcpqc540lrc8i6g7xy6ip0npn2hnp-a"
    f = tmp_path / "f"
    f.write_bytes(b"hello")
    flat = io.add_path_to_store(str(f), "f", False, None)
    digest = hashlib.sha256(b"hello").hexdigest()
    assert flat.endswith("-f")
    assert list(tmp_path.iterdir()) == [f]
    # file:// URLs are read locally: a flat file, as builtins.path { recursive = false; }
    url = f"file://{f}"
    assert io.fetch("fetchurl", {"url": url, "name": "f", "sha256": digest}) == flat
    with pytest.raises(EvalIOError, match="hash mismatch in file downloaded from"):
        io.fetch("fetchurl", {"url": url, "name": "f", "sha256": "00" * 32})
    # the base class refuses file access, also through the defaults
    with pytest.raises(EvalIOError, match="forbidden in pure evaluation mode"):
        EvalIO().add_path_to_store(str(f), "f", False, None)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("fetchurl", "unable to download 'https://x.invalid/f': network access is not available"),
        (
            "fetchGit",
            "unable to fetch Git repository 'https://x.invalid/f': network access is not available",
        ),
        (
            "fetchMercurial",
            "unable to fetch Mercurial repository 'https://x.invalid/f': network access is not available",
        ),
        ("fetchTree", "unable to fetch 'https://x.invalid/f': network access is not available"),
    ],
)
def test_default_fetch_without_network(kind: str, message: str) -> None:
    with pytest.raises(EvalIOError) as info:
        PureIO().fetch(kind, {"url": "https://x.invalid/f", "name": "f", "sha256": None})
    assert str(info.value) == message


def test_error_in_the_filter_gets_the_adding_frame(evaluator: Evaluator, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    src = f'builtins.path {{ path = {tmp_path}; filter = p: t: 1 + "a"; }}'
    column = src.index('"a"') + 1
    # C++ Nix: the error where the filter fails (at the string added), and the "while adding
    # path" frame, hinted at
    assert render(evaluator, src) == (
        "error: cannot add a string to an integer\n\n"
        f"       at «string»:1:{column}:\n\n"
        f"            1| {src}\n"
        f"             |{' ' * column}^\n"
        "(use '--show-trace' to show detailed location information)"
    )
