"""The cache proven with the real C++ Nix client: copy to, copy from, substitute, verify.

Every Nix store here is a throwaway chroot store under the test's temporary
directory, the server listens on a free 127.0.0.1 port, and Nix's narinfo
disk cache is redirected (XDG_CACHE_HOME) so no test sees another's answers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from nix_compat.narinfo import parse_narinfo
from nix_compat.signing import SecretKey
from nix_compat.store_path import StorePath
from tvix_castore.registry import blob_service_from_url, directory_service_from_url
from tvix_store.http import CacheConfig, Compression, create_app
from tvix_store.http.server import RunningServer, start_in_thread
from tvix_store.pathinfo import path_info_root_node
from tvix_store.pathinfoservice import path_info_service_from_url

pytestmark = [
    pytest.mark.nix,
    pytest.mark.skipif(shutil.which("nix") is None, reason="C++ Nix (nix) is not installed"),
]

NIX_EXPR = """
let
  src = builtins.toFile "src.txt" "hello from the source\\n";
in derivation {
  name = "hello-out";
  system = builtins.currentSystem;
  builder = "/bin/sh";
  args = [ "-c" "read x < ${src}; echo \\"$x ${src}\\" > $out" ];
}
"""


@dataclass
class Closure:
    """Paths built in a source Nix store: a derivation, its output (referring to a text
    file) and a ``nix-store --add``-ed tree."""

    root: Path
    drv: str
    out: str
    tree: str
    env: dict[str, str]

    @property
    def all(self) -> list[str]:
        return [self.drv, self.out, self.tree]


def nix(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a Nix command (``copy``/``path-info`` through ``nix``); ``--store=X`` is split."""
    argv: list[str] = []
    for arg in args:
        argv += arg.split("=", 1) if arg.startswith("--store=") else [arg]
    if argv[0] in {"copy", "path-info"}:
        argv = ["nix", "--extra-experimental-features", "nix-command", *argv]
    done = subprocess.run(
        argv,
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done


def copy(env: dict[str, str], *args: str) -> None:
    """``nix copy``; a ``.drv`` is copied itself (``--derivation``), not its outputs."""
    paths = [arg for arg in args if arg.startswith("/nix/store/")]
    options = [arg for arg in args if not arg.startswith("/nix/store/")]
    drvs = [path for path in paths if path.endswith(".drv")]
    others = [path for path in paths if not path.endswith(".drv")]
    if others:
        nix(env, "copy", *options, *others)
    if drvs:
        nix(env, "copy", *options, "--derivation", *drvs)


@pytest.fixture(scope="module")
def closure(tmp_path_factory: pytest.TempPathFactory) -> Closure:
    base = tmp_path_factory.mktemp("nix")
    env = {**os.environ, "XDG_CACHE_HOME": str(base / "cache"), "NIX_PATH": ""}
    root = base / "source"
    expr = base / "hello.nix"
    expr.write_text(NIX_EXPR)
    store = f"--store={root}"
    drv = nix(env, "nix-instantiate", store, str(expr)).stdout.strip()
    out = nix(
        env,
        "nix-store",
        store,
        "--realise",
        drv,
        "--option",
        "substituters",
        "",
        "--option",
        "extra-sandbox-paths",
        "/bin /lib /lib64 /usr",
    ).stdout.strip()
    tree = base / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "data").write_bytes(os.urandom(200_000))
    (tree / "run").write_text("#!/bin/sh\necho hi\n")
    (tree / "run").chmod(0o755)
    os.symlink("sub/data", tree / "link")
    added = nix(env, "nix-store", store, "--add", str(tree)).stdout.strip()
    return Closure(root, drv, out, added, env)


@pytest.fixture(scope="module")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A key pair made by nix-store --generate-binary-cache-key: the secret file, the public key."""
    base = tmp_path_factory.mktemp("keys")
    subprocess.run(
        [
            "nix-store",
            "--generate-binary-cache-key",
            "tvix-test-1",
            str(base / "secret"),
            str(base / "public"),
        ],
        check=True,
    )
    return base / "secret", (base / "public").read_text().strip()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[object]:
    running: list[RunningServer] = []

    def start(**config: object) -> RunningServer:
        url = f"lmdb://{tmp_path / 'tvix'}"
        blobs = blob_service_from_url(url)
        dirs = directory_service_from_url(url)
        infos = path_info_service_from_url(url, blobs, dirs)
        app = create_app(blobs, dirs, infos, CacheConfig(**config))  # type: ignore[arg-type]
        server = start_in_thread(app)
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()


def path_info(env: dict[str, str], root: Path, path: str) -> dict[str, object]:
    out = nix(env, "path-info", f"--store={root}", "--json", path).stdout
    [info] = json.loads(out)
    return info  # type: ignore[no-any-return]


def fresh_env(closure: Closure, tmp_path: Path, machine: str) -> dict[str, str]:
    """The environment of one Nix user, with a narinfo disk cache of its own.

    The uploader and the client must not share one: Nix caches the (unsigned)
    narinfo it uploaded and would not ask the server for the signed one.
    """
    return {**closure.env, "XDG_CACHE_HOME": str(tmp_path / f"xdg-cache-{machine}")}


@pytest.mark.parametrize("compression", ["none", "xz", "zstd", "bzip2"])
def test_copy_to_and_from_signed(
    closure: Closure,
    key_files: tuple[Path, str],
    server_factory: object,
    tmp_path: Path,
    compression: str,
) -> None:
    secret, public = key_files
    served = Compression.NONE if compression == "none" else Compression.ZSTD
    cache = server_factory(  # type: ignore[operator]
        sign_key=SecretKey.parse(secret.read_text()), compression=served
    )
    env = fresh_env(closure, tmp_path, "uploader")
    copy(
        env,
        f"--store={closure.root}",
        "--to",
        f"{cache.url}?compression={compression}",
        closure.out,
        closure.drv,
        closure.tree,
    )
    env = fresh_env(closure, tmp_path, "client")
    target = tmp_path / "target"
    copy(
        env,
        f"--store={target}",
        "--from",
        cache.url,
        "--option",
        "trusted-public-keys",
        public,
        *closure.all,
    )
    for path in (*closure.all, *_references(closure, closure.out)):
        nix(env, "nix-store", f"--store={target}", "--verify-path", path)
        ours, theirs = path_info(env, target, path), path_info(env, closure.root, path)
        for field in ("narHash", "narSize", "references", "ca"):
            assert ours.get(field) == theirs.get(field), (path, field)
        assert any(sig.startswith("tvix-test-1:") for sig in ours["signatures"])  # type: ignore[attr-defined]
    assert (target / closure.tree[1:] / "sub" / "data").read_bytes() == (
        closure.root / closure.tree[1:] / "sub" / "data"
    ).read_bytes()


def _references(closure: Closure, path: str) -> list[str]:
    out = nix(closure.env, "nix-store", f"--store={closure.root}", "--query", "--references", path)
    return out.stdout.split()


def test_unsigned_cache_needs_no_check_sigs(
    closure: Closure, key_files: tuple[Path, str], server_factory: object, tmp_path: Path
) -> None:
    # Content-addressed paths need no signature; the derivation output does.
    cache = server_factory()  # type: ignore[operator]
    env = fresh_env(closure, tmp_path, "uploader")
    copy(env, f"--store={closure.root}", "--to", cache.url, closure.out)
    env = fresh_env(closure, tmp_path, "client")
    target = tmp_path / "target"
    refused = nix(
        env,
        "copy",
        f"--store={target}",
        "--from",
        cache.url,
        "--option",
        "trusted-public-keys",
        key_files[1],
        closure.out,
        check=False,
    )
    assert refused.returncode != 0
    assert refused.stderr.endswith(
        f"error: cannot add path '{closure.out}' because it lacks a valid signature\n"
    )
    copy(env, f"--store={target}", "--from", cache.url, "--no-check-sigs", closure.out)
    nix(env, "nix-store", f"--store={target}", "--verify-path", closure.out)


def test_substitution_by_realise(
    closure: Closure, key_files: tuple[Path, str], server_factory: object, tmp_path: Path
) -> None:
    secret, public = key_files
    cache = server_factory(  # type: ignore[operator]
        sign_key=SecretKey.parse(secret.read_text()), compression=Compression.XZ
    )
    env = fresh_env(closure, tmp_path, "uploader")
    copy(env, f"--store={closure.root}", "--to", cache.url, closure.out, closure.drv)
    env = fresh_env(closure, tmp_path, "client")
    trust = ["--option", "trusted-public-keys", public]
    substitute = ["--option", "substituters", cache.url, *trust]
    # A store path realised from the cache, as a substituter.
    target = tmp_path / "target"
    plain = nix(env, "nix-store", f"--store={target}", "--realise", closure.out, *substitute)
    assert plain.stdout.strip() == closure.out
    assert (target / closure.out[1:]).read_text() == (closure.root / closure.out[1:]).read_text()
    # A derivation realised by substituting its output (building would fail: no /bin/sh).
    drv_target = tmp_path / "drv-target"
    copy(env, f"--store={drv_target}", "--from", cache.url, *trust, closure.drv)
    built = nix(env, "nix-store", f"--store={drv_target}", "--realise", closure.drv, *substitute)
    assert built.stdout.strip() == closure.out
    nix(env, "nix-store", f"--store={drv_target}", "--verify-path", closure.out)


def test_file_cache_through_nix_file_backend(closure: Closure, tmp_path: Path) -> None:
    env = fresh_env(closure, tmp_path, "uploader")
    file_cache = tmp_path / "file-cache"
    copy(env, f"--store={closure.root}", "--to", f"file://{file_cache}", closure.out)
    blobs = blob_service_from_url("memory://")
    dirs = directory_service_from_url("memory://")
    with path_info_service_from_url(f"nix+file://{file_cache}", blobs, dirs) as backend:
        for path in (closure.out, *_references(closure, closure.out)):
            info = backend.get(StorePath.from_absolute_path(path).digest)
            assert info is not None
            size, sha = backend.calculate_nar(path_info_root_node(info))
            theirs = path_info(env, closure.root, path)
            assert size == theirs["narSize"]
            assert f"sha256-{base64.b64encode(sha).decode()}" == theirs["narHash"]


@pytest.mark.parametrize("compression", [Compression.XZ, Compression.ZSTD, Compression.BZIP2])
def test_copy_from_with_exact_file_size_and_hash(
    closure: Closure,
    key_files: tuple[Path, str],
    server_factory: object,
    tmp_path: Path,
    compression: Compression,
) -> None:
    """Once a compressed NAR has been sent, narinfos announce its FileSize and FileHash;
    Nix reads them as the download size and hash, and copies from the cache as before."""
    secret, public = key_files
    cache = server_factory(  # type: ignore[operator]
        sign_key=SecretKey.parse(secret.read_text()), compression=compression
    )
    env = fresh_env(closure, tmp_path, "uploader")
    copy(env, f"--store={closure.root}", "--to", cache.url, closure.out, closure.tree)
    files: dict[str, tuple[int, str]] = {}
    for path in (closure.out, closure.tree, *_references(closure, closure.out)):
        hash_part = StorePath.from_absolute_path(path).hash_part
        narinfo = parse_narinfo(httpx.get(f"{cache.url}/{hash_part}.narinfo").content)
        assert narinfo.file_size is None
        nar = httpx.get(f"{cache.url}/{narinfo.url}")
        assert nar.status_code == 200
        assert int(nar.headers["content-length"]) == len(nar.content)
        sha = base64.b64encode(hashlib.sha256(nar.content).digest()).decode()
        files[path] = (len(nar.content), f"sha256-{sha}")
    env = fresh_env(closure, tmp_path, "client")
    out = nix(env, "path-info", f"--store={cache.url}", "--json", *files).stdout
    for info in json.loads(out):
        assert (info["downloadSize"], info["downloadHash"]) == files[info["path"]]
    target = tmp_path / "target"
    copy(
        env,
        f"--store={target}",
        "--from",
        cache.url,
        "--option",
        "trusted-public-keys",
        public,
        closure.out,
        closure.tree,
    )
    for path in files:
        nix(env, "nix-store", f"--store={target}", "--verify-path", path)
    assert (target / closure.tree[1:] / "sub" / "data").read_bytes() == (
        closure.root / closure.tree[1:] / "sub" / "data"
    ).read_bytes()
