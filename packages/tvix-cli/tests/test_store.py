"""The store glue: the default embedded store, --store URLs, the in-memory fallback, and
reading store paths back through the evaluator."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from nix_compat.store_path import StorePath, build_text_path
from tvix_cli.store import open_store

Tvix = Callable[..., Any]

DRV = 'derivation { name = "foo"; builder = "/bin/sh"; system = "x86_64-linux"; }'
FOO_DRV = "/nix/store/"  # prefix check only


def test_instantiate_writes_into_default_store(tvix: Tvix, isolated_env: Path) -> None:
    r = tvix("instantiate", "-E", DRV)
    assert r.code == 0, r.err
    drv_path = r.out.strip()
    assert drv_path.startswith(FOO_DRV) and drv_path.endswith("-foo.drv")
    assert (isolated_env / "tvix" / "store").is_dir()
    # a later evaluation reads the .drv back from the store
    text = tvix("eval", "--raw", "-E", f'builtins.readFile "{drv_path}"')
    assert text.out.startswith('Derive([("out","/nix/store/xpcvxsx5sw4rbq666blz6sxqlmsqphmr-foo"')


def test_eval_does_not_write_drv(tvix: Tvix, isolated_env: Path) -> None:
    r = tvix("eval", "-E", f"({DRV}).drvPath")
    assert r.code == 0
    assert not (isolated_env / "tvix" / "store").exists()


def test_memory_store(tvix: Tvix, isolated_env: Path) -> None:
    r = tvix("instantiate", "--store", "memory://", "-E", DRV)
    assert r.code == 0
    assert not (isolated_env / "tvix").exists()


def test_import_of_copied_source_reads_from_store(tvix: Tvix, tmp_path: Path) -> None:
    (tmp_path / "x.nix").write_text("{ v = 41 + 1; }")
    r = tvix("eval", "--store", "memory://", "-E", '(import "${./x.nix}").v')
    assert (r.code, r.out) == (0, "42\n"), r.err
    r = tvix("eval", "--store", "memory://", "--strict", "-E", 'builtins.readDir "${./.}"')
    assert r.code == 0
    assert '"x.nix" = "regular";' in r.out


def test_to_file_is_written_and_readable(tvix: Tvix) -> None:
    r = tvix("eval", "--raw", "-E", 'builtins.readFile (builtins.toFile "t.txt" "hi")')
    assert (r.code, r.out) == (0, "hi")


def test_dummy_store_falls_back_once(tvix: Tvix, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIX_REMOTE", "dummy://")
    r = tvix("eval", "-E", '"${builtins.toFile "a" "b"}${builtins.toFile "c" "d"}"')
    assert r.code == 0
    assert r.err.count("in-memory store") == 1
    failed = tvix("instantiate", "-E", DRV)
    assert failed.code == 1
    assert failed.err.startswith("error: ")
    assert "Traceback" not in failed.err


def test_unwritable_home_falls_back(
    tvix: Tvix, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.geteuid() == 0:
        target = "/proc/tvix-cannot-exist"
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = str(ro / "data")
    monkeypatch.setenv("XDG_DATA_HOME", target)
    r = tvix("eval", "-E", f"({DRV}).outPath")
    assert r.code == 0
    assert r.out == '"/nix/store/xpcvxsx5sw4rbq666blz6sxqlmsqphmr-foo"\n'
    r = tvix("eval", "-E", 'builtins.toFile "a" "b"')
    assert r.code == 0
    assert "in-memory store" in r.err


def test_explicit_bad_store_is_an_error(tvix: Tvix) -> None:
    r = tvix("eval", "--store", "bogus://x", "-E", 'builtins.toFile "a" "b"')
    assert r.code == 1
    assert r.err.startswith("error: ")


def test_store_text_and_paths(tmp_path: Path) -> None:
    store = open_store("memory://")
    path = store.add_text("hello.txt", b"hello", [])
    assert path == build_text_path("hello.txt", b"hello").to_absolute_path()
    assert store.read_file(path) == b"hello"
    assert store.read_file("/nix/store/00000000000000000000000000000000-x") is None
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("f")
    src = store.add_path(str(tmp_path / "d"), "d")
    assert store.read_dir(src) == [("f", "regular")]
    assert store.read_file(src + "/f") == b"f"
    assert store.is_dir(src) is True
    assert store.references(path) == []


def test_grpc_store_daemon(tvix: Tvix) -> None:
    import shutil
    import tempfile

    from tvix_castore.registry import blob_service_from_url, directory_service_from_url
    from tvix_store.pathinfoservice import path_info_service_from_url
    from tvix_store.server import start_store_daemon

    blobs = blob_service_from_url("memory://")
    dirs = directory_service_from_url("memory://")
    infos = path_info_service_from_url("memory://", blobs, dirs)
    sock_dir = tempfile.mkdtemp(prefix="tvc-")
    sock = os.path.join(sock_dir, "s.sock")
    daemon = start_store_daemon(blobs, dirs, infos, f"unix://{sock}")
    try:
        r = tvix("instantiate", "--store", f"grpc+unix://{sock}", "-E", DRV)
        assert r.code == 0, r.err
        drv_path = r.out.strip()
        assert infos.get(StorePath.from_absolute_path(drv_path).digest) is not None
    finally:
        daemon.stop()
        shutil.rmtree(sock_dir, ignore_errors=True)


def test_unreachable_daemon_is_a_user_error(tvix: Tvix, tmp_path: Path) -> None:
    url = f"grpc+unix://{tmp_path}/nobody.sock"
    r = tvix("eval", "--store", url, "-E", 'builtins.toFile "a" "b"')
    assert r.code == 1
    assert r.err.startswith("error: ")
    assert "internal error" not in r.err
    r = tvix("instantiate", "--store", url, "-E", DRV)
    assert r.code == 1
    assert "internal error" not in r.err


def test_store_address_from_environment(
    tvix: Tvix, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TVIX_STORE_ADDR", "memory://")
    r = tvix("instantiate", "-E", DRV)
    assert r.code == 0
    assert not (isolated_env / "tvix").exists()


def test_eval_read_write_mode_writes(tvix: Tvix, isolated_env: Path) -> None:
    r = tvix("instantiate", "--eval", "--read-write-mode", "-E", f"({DRV}).drvPath")
    assert r.code == 0
    drv_path = r.out.strip().strip('"')
    store = open_store(f"lmdb://{isolated_env / 'tvix' / 'store'}")
    try:
        assert store.read_file(drv_path) is not None
    finally:
        store.close()


def test_filter_errors_stay_nix_errors(tvix: Tvix, tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("f")
    expr = 'builtins.tryEval (builtins.filterSource (p: t: throw "no") ./d)'
    r = tvix("eval", "--store", "memory://", "-E", expr)
    assert (r.code, r.out) == (0, "{ success = false; value = false; }\n")
    kept = 'builtins.readDir (builtins.filterSource (p: t: t != "regular") ./d)'
    assert tvix("eval", "--store", "memory://", "--strict", "-E", kept).out == "{ }\n"
