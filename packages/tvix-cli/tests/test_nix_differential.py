# ruff: noqa: E501 - the corpus is Nix source, kept on one line per case
"""Differential tests: the same programs through ``tvix`` and C++ Nix's ``nix-instantiate``.

Outputs must be identical; for instantiation, the ``.drv`` paths must be the same and our
``.drv`` files byte-identical to the ones Nix writes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.nix

Run = Callable[..., Any]

EVAL_CORPUS = [
    "1 + 2 * 3",
    '"x${toString 12}y"',
    "{ a = 1; b = { c = [ 1 2 ]; }; }",
    "[ 1 (2 + 3) { x = 1 + 1; } ]",
    "builtins.attrNames { b = 1; a = 2; }",
    "let f = { a ? 1, ... }: a; in f",
    "builtins.toJSON { a = [ 1 2.5 null true ]; }",
    '(derivation { name = "foo"; builder = "/bin/sh"; system = "x86_64-linux"; }).outPath',
    '(derivation { name = "foo"; builder = "/bin/sh"; system = "x86_64-linux"; }).drvPath',
    'builtins.placeholder "out"',
    'builtins.toFile "hello.txt" "hello"',
    'builtins.unsafeDiscardStringContext (builtins.toFile "a" "${builtins.toFile "b" "c"}")',
    '(import <nix/fetchurl.nix> { url = "http://example.org/a.tar"; '
    'sha256 = "0000000000000000000000000000000000000000000000000000"; }).drvPath',
    "[ (builtins.pathExists <nix/fetchurl.nix>) (builtins.isFunction (import <nix/fetchurl.nix>)) (builtins.length builtins.nixPath) ]",
]


@pytest.mark.parametrize("expr", EVAL_CORPUS)
@pytest.mark.parametrize("flags", [(), ("--strict",), ("--strict", "--json")])
def test_eval_matches_nix(tvix: Run, nix: Run, expr: str, flags: tuple[str, ...]) -> None:
    theirs = nix("--eval", *flags, "-E", expr)
    ours = tvix("instantiate", "--eval", *flags, "-E", expr)
    assert (ours.code, ours.out) == (theirs.code, theirs.out)


def test_xml_without_location_matches_nix(tvix: Run, nix: Run) -> None:
    expr = "{ a = 1; f = { x, y ? 1, ... }: x; g = x: x; l = [ true null 1.5 ]; }"
    args = ("--eval", "--strict", "--xml", "--no-location", "-E", expr)
    assert tvix("instantiate", *args).out == nix(*args).out


DRV_CORPUS = r"""
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
  whole = mk { name = "whole"; d = builtins.unsafeDiscardOutputDependency dep.drvPath; };
  sources = mk { name = "sources"; s = src; f = "${./src/file.txt}"; filtered = builtins.filterSource (p: t: baseNameOf p != "skip") ./src; named = builtins.path { path = ./src; name = "renamed"; }; flatfile = builtins.path { path = ./src/file.txt; recursive = false; }; };
  passAsFile = mk { name = "paf"; passAsFile = [ "big" ]; big = "data"; };
  ph = mk { name = "ph"; outputs = [ "out" "doc" ]; cmd = "${placeholder "doc"}/share"; };
  sNulls = mk { name = "s-nulls"; __structuredAttrs = true; __ignoreNulls = true; gone = null; f = 1.5; s = "x\ny\"z"; };
  prefixed = mk { name = "prefixed"; outputHash = "sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"; };
  md5rec = mk { name = "md5rec"; outputHashMode = "recursive"; outputHashAlgo = "md5"; outputHash = "d41d8cd98f00b204e9800998ecf8427e"; };
  onFod = mk { name = "on-fod"; inherit flat md5rec prefixed; };
  onFod2 = mk { name = "on-fod2"; x = flatAlgo; y = rec512.out; };
  plainDrv = mk { name = "plain-drv"; p = builtins.unsafeDiscardOutputDependency a.drvPath; };
  nested = mk { name = "nested"; deps = [ dep onFod [ whole ] ]; txt = builtins.toFile "refs" "${builtins.toFile "inner2" "x"} ${src}"; };
  viaStorePath = mk { name = "via-store-path"; t = builtins.storePath (builtins.toFile "sp" "z"); };
  unicode = mk { name = "unicode"; s = "héllo ✓ \t tab"; };
  fetched = import <nix/fetchurl.nix> { url = "http://example.org/a.tar.gz"; sha256 = "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"; };
  unpacked = import <nix/fetchurl.nix> { url = "http://example.org/b.tar.gz"; hash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; unpack = true; name = "b"; };
  onFetched = mk { name = "on-fetched"; inherit fetched unpacked; };
in { inherit a flat flatAlgo rec1 rec512 structured nulls dep whole sources passAsFile ph sNulls prefixed md5rec onFod onFod2 plainDrv nested viaStorePath unicode fetched unpacked onFetched; }
"""


def _write_corpus(root: Path) -> Path:
    (root / "src").mkdir()
    (root / "src" / "file.txt").write_text("hello\n")
    (root / "src" / "skip").write_text("skipped\n")
    (root / "src" / "sub").mkdir()
    (root / "src" / "sub" / "x").write_text("x\n")
    (root / "src" / "tool").write_text("#!/bin/sh\n")
    (root / "src" / "tool").chmod(0o755)
    (root / "src" / "link").symlink_to("file.txt")
    path = root / "corpus.nix"
    path.write_text(DRV_CORPUS)
    return path


def _our_drv(path: str) -> bytes:
    from tvix_cli.store import default_store_url, open_store

    store = open_store(default_store_url())
    try:
        data = store.read_file(path)
    finally:
        store.close()
    assert data is not None, f"{path} is not in our store"
    return data


def test_instantiate_corpus_matches_nix(
    tvix: Run, nix: Run, nix_store: Path, tmp_path: Path
) -> None:
    corpus = _write_corpus(tmp_path)
    theirs = nix(str(corpus))
    assert theirs.code == 0, theirs.err
    ours = tvix("instantiate", str(corpus))
    assert ours.code == 0, ours.err
    assert ours.out == theirs.out
    paths = ours.out.split()
    assert len(paths) == 24
    for path in paths:
        expected = (nix_store / path.lstrip("/")).read_bytes()
        assert _our_drv(path) == expected, path


def test_instantiate_attr_and_output_suffix(tvix: Run, nix: Run, tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path)
    for args in (("-A", "a.dev"), ("-A", "dep"), ("-A", "structured.bin")):
        theirs = nix(str(corpus), *args)
        assert tvix("instantiate", str(corpus), *args).out == theirs.out


def test_bench_drv_matches_nix(tvix: Run, nix: Run, nix_store: Path) -> None:
    bench = Path(__file__).parents[3].parent / "shared" / "bench" / "drv.nix"
    if not bench.exists():
        pytest.skip(f"{bench} is not present")
    theirs = nix(str(bench), "--argstr", "seed", "t")
    ours = tvix("instantiate", str(bench), "--argstr", "seed", "t")
    assert ours.out == theirs.out
    from tvix_cli.store import default_store_url, open_store

    theirs_dir = nix_store / "nix" / "store"
    drvs = sorted(p for p in theirs_dir.iterdir() if p.name.endswith(".drv"))
    assert len(drvs) == 1001
    store = open_store(default_store_url())
    try:
        for drv in drvs:
            assert store.read_file(f"/nix/store/{drv.name}") == drv.read_bytes(), drv.name
    finally:
        store.close()


@pytest.mark.parametrize(
    "expr",
    [
        '(derivation { name = "t"; builder = "b"; system = "s"; outputHashMode = "text"; outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; }).outPath',
        '(derivation { name = "t"; builder = "b"; system = "s"; outputs = [ "a" "a" ]; }).outPath',
        '(derivation { name = "t.drv"; builder = "b"; system = "s"; }).outPath',
        '(derivation { name = "t"; system = "s"; }).outPath',
        '(derivation { name = "t"; builder = "b"; }).outPath',
        '(derivation { builder = "b"; system = "s"; }).outPath',
        '(derivation { name = "t"; builder = "b"; system = "s"; outputs = [ "out" "bin" ]; outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; }).outPath',
        '(derivation { name = "t t"; builder = "b"; system = "s"; }).outPath',
        '(derivation { name = "t"; builder = "b"; system = "s"; outputs = [ ]; }).outPath',
        '(derivation { name = "t"; builder = "b"; system = "s"; outputs = [ "drv" ]; }).outPath',
        'let a = derivation { name = "a"; builder = "b"; system = "s"; }; in (derivation { name = "x${a}"; builder = "b"; system = "s"; }).outPath',
        '(derivation { name = "t"; builder = "b"; system = "s"; x = { }; }).outPath',
        '(derivation { name = "t"; builder = "b"; system = "s"; __contentAddressed = true; }).outPath',
        '(derivation { name = "t"; builder = "b"; system = "s"; outputHash = "abc"; }).outPath',
        '(derivation { name = "t"; builder = "b"; system = "s"; __structuredAttrs = true; f = x: x; }).outPath',
    ],
)
def test_derivation_errors_match_nix(tvix: Run, nix: Run, expr: str) -> None:
    theirs = nix("--eval", "-E", expr)
    ours = tvix("eval", "-E", expr)
    assert theirs.code == 1
    assert ours.code == 1
    first_line = theirs.err.splitlines()[0]
    assert ours.err.splitlines()[0] == first_line


def test_add_root_matches_nix(tvix: Run, nix: Run, tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path)
    theirs = nix(str(corpus), "-A", "dep", "-A", "a", "--add-root", str(tmp_path / "theirs"))
    ours = tvix("instantiate", str(corpus), "-A", "dep", "-A", "a", "--add-root", "ours")
    assert ours.out == theirs.out.replace("theirs", "ours")
    for suffix in ("", "-2"):
        mine = (tmp_path / f"ours{suffix}").readlink()
        assert mine == (tmp_path / f"theirs{suffix}").readlink()


@pytest.mark.parametrize(
    "expr",
    [
        'builtins.toFile "a b" "x"',
        'builtins.toFile "" "x"',
        'builtins.toFile "a b" "${builtins.toFile "q" "r"}"',
        'builtins.path { path = ./f.txt; name = "a b"; }',
        'builtins.path { path = ./f.txt; name = "a b"; recursive = false; }',
        '"${./. + "/sp ace"}"',
        '(derivation { name = "t t"; builder = "b"; system = "s"; outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; }).outPath',
        '(derivation { name = "t t"; builder = "b"; system = "s"; outputHashMode = "recursive"; outputHash = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; }).outPath',
    ],
)
def test_invalid_names_match_nix(tvix: Run, nix: Run, tmp_path: Path, expr: str) -> None:
    (tmp_path / "f.txt").write_text("f\n")
    (tmp_path / "sp ace").mkdir()
    (tmp_path / "sp ace" / "x").write_text("x\n")
    theirs = nix("--eval", "-E", expr)
    ours = tvix("eval", "-E", expr)
    assert (ours.code, ours.err.splitlines()[0]) == (1, theirs.err.splitlines()[0])


@pytest.mark.parametrize("strict", [(), ("--strict",)])
def test_xml_with_locations_matches_nix(
    tvix: Run, nix: Run, tmp_path: Path, strict: tuple[str, ...]
) -> None:
    f = tmp_path / "x.nix"
    f.write_text(
        "{\n  a = 1;\n  b = { c = x: x; d = [ (1 + 1) ]; };\n"
        '  f = { x, y ? 2, ... }@args: x;\n  s = "str";\n}\n'
    )
    for source in ((str(f),), ("-E", "{ a = 1 + 1; f = x: x; }")):
        args = ("--eval", "--xml", *strict, *source)
        assert tvix("instantiate", *args).out == nix(*args).out


@pytest.mark.parametrize(
    "expr",
    [
        '{ type = "derivation"; drvPath = "/nix/store/9d794zbx10n43fa6zaqf33pfymdrm4r2-foo.drv"; }',
        '{ type = "derivation"; name = "x"; drvPath = "/nix/store/9d794zbx10n43fa6zaqf33pfymdrm4r2-foo.drv"; }',
        '{ type = "derivation"; name = "x"; outputName = "dev"; drvPath = "/nix/store/9d794zbx10n43fa6zaqf33pfymdrm4r2-foo.drv"; }',
        "1",
        "[ 1 ]",
        "{ a = 1; }",
    ],
)
def test_get_derivations_matches_nix(tvix: Run, nix: Run, expr: str) -> None:
    theirs = nix("-E", expr)
    ours = tvix("instantiate", "--store", "memory://", "-E", expr)
    assert (ours.code, ours.out) == (theirs.code, theirs.out)
    if theirs.code:
        assert ours.err.splitlines()[-1] == theirs.err.splitlines()[-1]


@pytest.mark.parametrize(
    "expr",
    [
        'let d = derivation { name = "t"; builder = "b"; system = "s"; x = {}; }; in d.outPath',
        'let d = derivation { name = "t"; builder = "b"; system = "s"; outputs = [ "a" "a" ]; }; in d.outPath',
        'let d = derivation { name = "t"; system = "s"; }; in d.outPath',
        'let d = derivation { name = "t"; builder = "b"; system = "s"; outputHash = "abc"; }; in d.outPath',
    ],
)
def test_derivation_error_positions_match_nix(tvix: Run, nix: Run, expr: str) -> None:
    def first_position(err: str) -> str | None:
        return next((line for line in err.splitlines() if line.strip().startswith("at ")), None)

    theirs = nix("--eval", "-E", expr)
    ours = tvix("eval", "-E", expr)
    assert first_position(ours.err) == first_position(theirs.err)
