# ruff: noqa: E501 - the corpus is Nix source, kept on one line per case
"""Derivations against C++ Nix: the same ``.drv`` and output paths, byte-identical ``.drv`` files."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from tvix_eval.api import Evaluator
from tvix_eval.io import FilesystemIO

from .conftest import NIX_INSTANTIATE

pytestmark = [
    pytest.mark.nix,
    pytest.mark.skipif(NIX_INSTANTIATE is None, reason="nix-instantiate is not installed"),
]

CORPUS = r"""
let
  sys = "x86_64-linux";
  mk = attrs: derivation ({ system = sys; builder = "/bin/sh"; } // attrs);
  src = ./src;
  a = mk { name = "a"; outputs = [ "out" "dev" "lib" ]; args = [ "-c" "echo" 1 null true 2.5 ]; };
  flat = mk { name = "flat"; outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; };
  flatAlgo = mk { name = "flat-algo"; outputHashAlgo = "sha1"; outputHash = "0000000000000000000000000000000000000000"; };
  rec1 = mk { name = "rec"; outputHashMode = "recursive"; outputHashAlgo = "sha256"; outputHash = "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"; };
  rec512 = mk { name = "rec512"; outputHashMode = "recursive"; outputHash = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="; };
  structured = mk { name = "structured"; __structuredAttrs = true; outputs = [ "out" "bin" ]; n = null; x = [ 1 "s" a.dev ]; y = { z = true; }; p = src; };
  nulls = mk { name = "nulls"; __ignoreNulls = true; gone = null; kept = "k"; };
  dep = mk { name = "dep"; inherit a flat rec1; lib = a.lib; file = builtins.toFile "f.txt" "${src}/x ${builtins.toFile "inner" "i"}"; };
  whole = mk { name = "whole"; d = onFod.drvPath; };
  discarded = mk { name = "discarded"; d = builtins.unsafeDiscardOutputDependency dep.drvPath; };
  sources = mk { name = "sources"; s = src; f = "${./src/file.txt}"; filtered = builtins.filterSource (p: t: baseNameOf p != "skip") ./src; flatfile = builtins.path { path = ./src/file.txt; recursive = false; }; };
  ph = mk { name = "ph"; outputs = [ "out" "doc" ]; cmd = "${placeholder "doc"}/share"; };
  sNulls = mk { name = "s-nulls"; __structuredAttrs = true; __ignoreNulls = true; gone = null; f = 1.5; s = "x\ny\"z"; };
  md5rec = mk { name = "md5rec"; outputHashMode = "recursive"; outputHashAlgo = "md5"; outputHash = "d41d8cd98f00b204e9800998ecf8427e"; };
  onFod = mk { name = "on-fod"; inherit flat md5rec; x = flatAlgo; y = rec512.out; };
  nested = mk { name = "nested"; deps = [ dep onFod [ whole ] ] ++ [ [ [ a.dev ] ] ]; };
  unicode = mk { name = "unicode"; s = "héllo ✓ \t tab"; };
  fetched = import <nix/fetchurl.nix> { url = "http://example.org/a.tar.gz"; sha256 = "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"; };
  unpacked = import <nix/fetchurl.nix> { url = "http://example.org/b.tar.gz"; hash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; unpack = true; name = "b"; };
  onFetched = mk { name = "on-fetched"; inherit fetched unpacked; };
in { inherit a flat flatAlgo rec1 rec512 structured nulls dep whole discarded sources ph sNulls md5rec onFod nested unicode fetched unpacked onFetched; }
"""

#: what each derivation of the corpus is printed as: its .drv path and every output path
SHOW = 'builtins.mapAttrs (n: d: [ d.drvPath ] ++ map (o: d.${o}.outPath) (d.outputs or [ "out" ]))'


class RecordingIO(FilesystemIO):
    """The file system, plus the text files (``.drv``, ``toFile``) the evaluation wrote."""

    def __init__(self) -> None:
        self.written: dict[str, bytes] = {}

    def add_text_to_store(self, name: str, data: bytes, references: list[str]) -> str:
        path = super().add_text_to_store(name, data, references)
        self.written[path] = data
        return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "file.txt").write_text("hello\n")
    (src / "skip").write_text("skipped\n")
    (src / "sub").mkdir()
    (src / "sub" / "x").write_text("x\n")
    (src / "tool").write_text("#!/bin/sh\n")
    (src / "tool").chmod(0o755)
    (src / "link").symlink_to("file.txt")
    path = tmp_path / "corpus.nix"
    path.write_text(CORPUS)
    return path


def nix_instantiate(*args: str, root: Path) -> str:
    assert NIX_INSTANTIATE is not None
    env = dict(os.environ, NIX_REMOTE=f"local?root={root}")
    env.pop("NIX_PATH", None)
    r = subprocess.run(
        [NIX_INSTANTIATE, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_paths_match_nix(corpus: Path, tmp_path: Path) -> None:
    expr = f"{SHOW} (import {corpus})"
    root = tmp_path / "nix-root"
    # a ``drvPath`` in a string needs the closure of that .drv, which --eval reads from the store
    nix_instantiate(str(corpus), root=root)
    theirs = nix_instantiate("--eval", "--strict", "-E", expr, root=root)
    ev = Evaluator(io=FilesystemIO(), impure=True, trace=lambda s: None)
    ours = ev.print(ev.evaluate(expr, strict=True))
    assert ours == theirs.strip()


def test_drv_files_are_byte_identical(corpus: Path, tmp_path: Path) -> None:
    root = tmp_path / "nix-root"
    drv_paths = nix_instantiate(str(corpus), root=root).split()
    assert len(drv_paths) == 20
    io = RecordingIO()
    ev = Evaluator(io=io, impure=True, trace=lambda s: None)
    ev.evaluate(f"{SHOW} (import {corpus})", strict=True)
    for drv_path in drv_paths:
        theirs = (root / drv_path.lstrip("/")).read_bytes()
        assert io.written.get(drv_path) == theirs, drv_path
    # every text file Nix wrote (.drv and toFile), we wrote with the same contents
    for path, data in io.written.items():
        assert (root / path.lstrip("/")).read_bytes() == data, path


def test_closure_through_to_file_references(corpus: Path, tmp_path: Path) -> None:
    expr = (
        f'let c = import {corpus}; in (derivation {{ name = "w"; builder = "b"; '
        'system = "s"; d = c.dep.drvPath; }).drvPath'
    )
    root = tmp_path / "nix-root"
    nix_instantiate(str(corpus), "-A", "dep", root=root)
    theirs = nix_instantiate("--eval", "-E", expr, root=root)
    ev = Evaluator(io=FilesystemIO(), impure=True, trace=lambda s: None)
    assert ev.print(ev.evaluate(expr, strict=True)) == theirs.strip()
