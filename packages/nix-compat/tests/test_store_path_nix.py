"""Differential tests: our hashes and store paths against C++ Nix's own tools.

Every Nix command runs against a throwaway store (``NIX_REMOTE=local?root=<tmp>``), never the
machine's ``/nix``. NAR hashes come from ``nix-hash``, so these tests check the hash encodings
and the store path computation independently of our NAR code.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nix_compat import nixbase32
from nix_compat.nixhash import (
    FlatHash,
    HashAlgo,
    HashParseError,
    NarHash,
    NixHash,
    ca_hash_from_output_hash,
    parse_hash,
)
from nix_compat.store_path import (
    StorePath,
    build_ca_path,
    build_nar_based_store_path,
    build_text_path,
)

pytestmark = pytest.mark.nix

NIX_TOOLS = ("nix-hash", "nix-store", "nix-instantiate", "nix")
MISSING = [tool for tool in NIX_TOOLS if shutil.which(tool) is None]
requires_nix = pytest.mark.skipif(
    bool(MISSING), reason=f"C++ Nix tools not installed: {', '.join(MISSING)}"
)

DIFFERENTIAL = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


class Nix:
    """Runs Nix commands against a private store rooted in a temporary directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {
            **os.environ,
            "NIX_REMOTE": f"local?root={root / 'store-root'}",
            "NIX_CONFIG": "experimental-features = nix-command",
            "HOME": str(root / "home"),
            "XDG_CACHE_HOME": str(root / "cache"),
        }

    def run(self, *args: str) -> str:
        result = subprocess.run(
            args, env=self.env, capture_output=True, text=True, check=False, timeout=60
        )
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def lines(self, *args: str) -> list[str]:
        return self.run(*args).split()

    def fails(self, *args: str) -> bool:
        result = subprocess.run(
            args, env=self.env, capture_output=True, text=True, check=False, timeout=60
        )
        return result.returncode != 0

    def workdir(self) -> Path:
        return Path(tempfile.mkdtemp(dir=self.root / "work"))


@pytest.fixture(scope="module")
def nix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nix]:
    if MISSING:
        pytest.skip(f"C++ Nix tools not installed: {', '.join(MISSING)}")
    root = tmp_path_factory.mktemp("nix")
    (root / "work").mkdir()
    runner = Nix(root)
    yield runner
    # the store marks its files read-only; make them deletable again
    for directory, _, _ in os.walk(root):
        os.chmod(directory, 0o755)


# --- hash encodings ---


@st.composite
def digest_batches(draw: st.DrawFn) -> list[NixHash]:
    algo = draw(st.sampled_from(list(HashAlgo)))
    size = algo.digest_size
    digests = draw(st.lists(st.binary(min_size=size, max_size=size), min_size=1, max_size=6))
    return [NixHash(algo, d) for d in digests]


@requires_nix
@DIFFERENTIAL
@given(digest_batches())
def test_hash_encodings_match_nix(nix: Nix, hashes: list[NixHash]) -> None:
    algo = hashes[0].algo.value
    hexes = [h.hex() for h in hashes]
    nix32s = [h.nix32() for h in hashes]
    assert nix.lines("nix-hash", "--type", algo, "--to-base32", *hexes) == nix32s
    assert nix.lines("nix-hash", "--type", algo, "--to-base16", *nix32s) == hexes
    assert nix.lines("nix", "hash", "to-sri", "--type", algo, *nix32s) == [h.sri() for h in hashes]
    assert nix.lines("nix", "hash", "to-base64", "--type", algo, *hexes) == [
        h.base64() for h in hashes
    ]
    # Nix reads every form we write the way we read it back.
    mixed = [h.sri().rstrip("=") for h in hashes] + [f"{algo}:{h.base64()}" for h in hashes]
    ours = [parse_hash(text).hex() for text in mixed]
    assert nix.lines("nix", "hash", "to-base16", *mixed) == ours


SHA256_HEX = hashlib.sha256(b"x").hexdigest()
SHA256_NIX32 = nixbase32.encode(hashlib.sha256(b"x").digest())


@requires_nix
@pytest.mark.parametrize(
    ("text", "algo"),
    [
        (SHA256_HEX[:-1], "sha256"),
        (SHA256_NIX32[:-1] + "e", "sha256"),
        ("z" + SHA256_NIX32[1:], "sha256"),
        (f"sha256:{SHA256_HEX}", "sha1"),
        (SHA256_HEX, None),
        (f"SHA256:{SHA256_HEX}", None),
        ("sha384-o4UVSl89mIB0sFUK+3jQbG+C9Zc9dRlV/Xd3KAvXEbhqxu0J5OAdg6b6VHKHwQ7U", None),
        ("sha256-" + SHA256_HEX, None),
    ],
)
def test_nix_rejects_what_we_reject(nix: Nix, text: str, algo: str | None) -> None:
    with pytest.raises(HashParseError):
        parse_hash(text, algo)
    type_args = ["--type", algo] if algo else []
    assert nix.fails("nix", "hash", "to-base16", *type_args, text)


@requires_nix
def test_uppercase_hex_accepted_like_nix(nix: Nix) -> None:
    upper = SHA256_HEX.upper()
    assert nix.lines("nix", "hash", "to-base16", "--type", "sha256", upper) == [SHA256_HEX]
    assert parse_hash(upper, "sha256").hex() == SHA256_HEX


# --- store paths of added files and trees ---

NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?="
# File names, so never "." or ".." (which Nix accepts as store path names, e.g. for toFile).
store_names = st.text(alphabet=NAME_CHARS, min_size=1, max_size=40).filter(
    lambda n: n not in {".", ".."}
)
other_algos = st.sampled_from([HashAlgo.MD5, HashAlgo.SHA1, HashAlgo.SHA512])


def nar_hashes(nix: Nix, algo: HashAlgo, paths: list[Path]) -> list[NixHash]:
    """NAR hashes of ``paths`` as C++ Nix computes them."""
    out = nix.lines("nix-hash", "--type", algo.value, "--base32", *map(str, paths))
    return [NixHash(algo, nixbase32.decode(line)) for line in out]


def added(nix: Nix, *args: str) -> list[StorePath]:
    return [StorePath.from_absolute_path(line) for line in nix.lines("nix-store", *args)]


@requires_nix
@DIFFERENTIAL
@given(
    st.dictionaries(
        store_names, st.tuples(st.binary(max_size=300), st.booleans()), min_size=1, max_size=4
    ),
    other_algos,
)
def test_added_file_paths_match_nix(
    nix: Nix, files: dict[str, tuple[bytes, bool]], algo: HashAlgo
) -> None:
    workdir = nix.workdir()
    paths = []
    for name, (content, executable) in files.items():
        path = workdir / name
        path.write_bytes(content)
        path.chmod(0o755 if executable else 0o644)
        paths.append(path)
    args = [str(p) for p in paths]
    names = list(files)
    contents = [content for content, _ in files.values()]
    nar_sha256 = nar_hashes(nix, HashAlgo.SHA256, paths)
    nar_other = nar_hashes(nix, algo, paths)

    assert added(nix, "--add", *args) == [
        build_nar_based_store_path(h.digest, n) for h, n in zip(nar_sha256, names, strict=True)
    ]
    assert added(nix, "--add-fixed", "--recursive", "sha256", *args) == [
        build_ca_path(n, NarHash(h)) for h, n in zip(nar_sha256, names, strict=True)
    ]
    assert added(nix, "--add-fixed", "sha256", *args) == [
        build_ca_path(n, FlatHash(NixHash.hash_bytes(HashAlgo.SHA256, c)))
        for c, n in zip(contents, names, strict=True)
    ]
    assert added(nix, "--add-fixed", algo.value, *args) == [
        build_ca_path(n, FlatHash(NixHash.hash_bytes(algo, c)))
        for c, n in zip(contents, names, strict=True)
    ]
    assert added(nix, "--add-fixed", "--recursive", algo.value, *args) == [
        build_ca_path(n, NarHash(h)) for h, n in zip(nar_other, names, strict=True)
    ]


# A tree: file contents with an executable flag, a symlink target, or a directory.
Tree = dict[str, Union[tuple[bytes, bool], str, "Tree"]]
entry_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/\0"),
    min_size=1,
    max_size=12,
).filter(lambda n: n not in (".", "..") and len(n.encode()) < 200)
leaves = st.one_of(
    st.tuples(st.binary(max_size=200), st.booleans()),
    st.text(alphabet="abc/.-", min_size=1, max_size=20),
)
trees: st.SearchStrategy[Tree] = st.recursive(
    st.dictionaries(entry_names, leaves, max_size=4),
    lambda children: st.dictionaries(entry_names, st.one_of(leaves, children), max_size=4),
    max_leaves=12,
)


def write_tree(path: Path, tree: Tree) -> None:
    path.mkdir()
    for name, node in tree.items():
        child = path / name
        if isinstance(node, dict):
            write_tree(child, node)
        elif isinstance(node, str):
            child.symlink_to(node)
        else:
            content, executable = node
            child.write_bytes(content)
            child.chmod(0o755 if executable else 0o644)


@requires_nix
@DIFFERENTIAL
@given(store_names, trees, other_algos)
def test_added_tree_paths_match_nix(nix: Nix, name: str, tree: Tree, algo: HashAlgo) -> None:
    root = nix.workdir() / name
    write_tree(root, tree)
    [nar_sha256] = nar_hashes(nix, HashAlgo.SHA256, [root])
    [nar_other] = nar_hashes(nix, algo, [root])
    source_path = build_nar_based_store_path(nar_sha256.digest, name)
    assert added(nix, "--add", str(root)) == [source_path]
    assert added(nix, "--add-fixed", "--recursive", "sha256", str(root)) == [source_path]
    assert added(nix, "--add-fixed", "--recursive", algo.value, str(root)) == [
        build_ca_path(name, NarHash(nar_other))
    ]


# --- paths computed by the evaluator ---

TO_FILE_EXPR = """{ name, content, other }:
let
  a = builtins.toFile name content;
  b = builtins.toFile "b" other;
in [ a b (builtins.toFile "refs" "${b}${a} and ${a}") ]
"""


@requires_nix
@DIFFERENTIAL
@given(
    store_names,
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\0"), max_size=200),
)
def test_text_paths_match_nix(nix: Nix, name: str, content: str) -> None:
    out = nix.run(
        "nix-instantiate", "--eval", "--strict", "--json",
        "--argstr", "name", name, "--argstr", "content", content, "--argstr", "other", name,
        "-E", TO_FILE_EXPR,
    )  # fmt: skip
    a = build_text_path(name, content, [])
    b = build_text_path("b", name, [])
    text = f"{b.to_absolute_path()}{a.to_absolute_path()} and {a.to_absolute_path()}"
    refs = build_text_path("refs", text, [a.to_absolute_path(), b.to_absolute_path()])
    assert json.loads(out) == [p.to_absolute_path() for p in (a, b, refs)]


FOD_EXPR = """{ spec }:
map (s: (derivation {
  inherit (s) name;
  builder = ":";
  system = ":";
  outputHash = s.hash;
  outputHashAlgo = s.algo;
  outputHashMode = s.mode;
}).outPath) (builtins.fromJSON spec)
"""


@st.composite
def output_hash_specs(draw: st.DrawFn) -> dict[str, str]:
    algo = draw(st.sampled_from(list(HashAlgo)))
    h = NixHash(algo, draw(st.binary(min_size=algo.digest_size, max_size=algo.digest_size)))
    hash_str, algo_str = draw(
        st.sampled_from(
            [
                (h.sri(), ""),
                (h.sri().rstrip("="), ""),
                (h.sri(), algo.value),
                (h.to_nix_string(), ""),
                (h.hex(), algo.value),
                (h.nix32(), algo.value),
                (h.base64(), algo.value),
                ("", algo.value),
            ]
        )
    )
    mode = draw(st.sampled_from(["flat", "recursive"]))
    # C++ Nix's derivation refuses names ending in ".drv" (store paths may have them)
    name = draw(store_names.filter(lambda n: not n.endswith(".drv")))
    return {"name": name, "hash": hash_str, "algo": algo_str, "mode": mode}


@requires_nix
@DIFFERENTIAL
@given(st.lists(output_hash_specs(), min_size=1, max_size=8))
def test_fixed_output_derivation_paths_match_nix(nix: Nix, specs: list[dict[str, str]]) -> None:
    out = nix.run(
        "nix-instantiate", "--eval", "--read-write-mode", "--strict", "--json",
        "--argstr", "spec", json.dumps(specs), "-E", FOD_EXPR,
    )  # fmt: skip
    ours = [
        build_ca_path(s["name"], ca_hash_from_output_hash(s["hash"], s["algo"], s["mode"]))
        for s in specs
    ]
    assert json.loads(out) == [p.to_absolute_path() for p in ours]
