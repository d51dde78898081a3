"""The tvix-store command: results on stdout, one-line errors on stderr, exit codes."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nix_compat.nar import dump_path
from tvix_store.cli import app
from typer.testing import CliRunner


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    store = f"lmdb://{tmp_path / 'store'}"
    return {
        "BLOB_SERVICE_ADDR": store,
        "DIRECTORY_SERVICE_ADDR": store,
        "PATH_INFO_SERVICE_ADDR": store,
    }


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    (root / "sub").mkdir(parents=True)
    (root / "hello.txt").write_bytes(b"Hello World!")
    (root / "sub" / "run.sh").write_bytes(b"#!/bin/sh\necho hi\n")
    (root / "sub" / "run.sh").chmod(0o755)
    os.symlink("hello.txt", root / "link")
    return root


def run(env: dict[str, str], *args: str) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout_bytes, result.stderr


def _nar(path: Path) -> bytes:
    out = io.BytesIO()
    dump_path(path, out)
    return out.getvalue()


def _source_path(path: Path) -> str:
    from nix_compat.store_path import build_nar_based_store_path

    digest = hashlib.sha256(_nar(path)).digest()
    return build_nar_based_store_path(digest, path.name).to_absolute_path()


def test_import_then_inspect(env: dict[str, str], tree: Path) -> None:
    code, out, err = run(env, "import", str(tree))
    assert (code, err) == (0, "")
    store_path = _source_path(tree)
    assert out.decode() == store_path + "\n"

    code, out, _ = run(env, "list")
    assert out.decode() == store_path + "\n"

    code, out, _ = run(env, "export", store_path)
    assert code == 0
    assert out == _nar(tree)

    code, out, _ = run(env, "cat", store_path + "/sub/run.sh")
    assert out == b"#!/bin/sh\necho hi\n"

    code, out, _ = run(env, "ls", store_path)
    assert out.decode() == "./hello.txt\n./link\n./sub\n"
    code, out, _ = run(env, "ls", "-lR", store_path)
    assert out.decode() == (
        "-r--r--r--                   12 ./hello.txt\n"
        "lrwxrwxrwx                    0 ./link -> hello.txt\n"
        "dr-xr-xr-x                    0 ./sub\n"
        "-r-xr-xr-x                   18 ./sub/run.sh\n"
    )
    code, out, _ = run(env, "ls", "-l", store_path + "/sub/run.sh")
    assert out.decode() == "-r-xr-xr-x                   18 run.sh\n"

    nar = _nar(tree)
    nix32 = _nix32(hashlib.sha256(nar).digest())
    code, out, _ = run(env, "info", store_path)
    assert out.decode() == (
        f"StorePath: {store_path}\n"
        f"NarHash: sha256:{nix32}\n"
        f"NarSize: {len(nar)}\n"
        "References: \n"
        f"CA: fixed:r:sha256:{nix32}\n"
    )
    code, out, _ = run(env, "info", "--json", store_path)
    [obj] = json.loads(out)
    assert obj["path"] == store_path
    assert obj["narSize"] == len(nar)
    assert obj["root"]["type"] == "directory"


def _nix32(digest: bytes) -> str:
    from nix_compat import nixbase32

    return nixbase32.encode(digest)


def test_import_single_file_and_symlink(env: dict[str, str], tree: Path) -> None:
    code, out, _ = run(env, "import", str(tree / "hello.txt"), str(tree / "link"))
    assert code == 0
    assert out.decode().splitlines() == [
        _source_path(tree / "hello.txt"),
        _source_path(tree / "link"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["info", "nonsense"], "error: store path 'nonsense' is too short"),
        (["info", "/nix/store/00000000000000000000000000000000-x"], "is not in the store"),
        (["export", "/tmp/x"], "is not in the Nix store"),
        (["cat", "/nix/store/00000000000000000000000000000000-x/a"], "is not in the store"),
        (["import", "/does/not/exist"], "No such file or directory"),
        (["list", "--path-info-service-addr", "bogus://"], "unknown scheme: bogus"),
        (["list", "--path-info-service-addr", "memory:///x"], "does not take a path"),
    ],
)
def test_user_errors_are_one_line(env: dict[str, str], args: list[str], message: str) -> None:
    code, out, err = run(env, *args)
    assert code == 1
    assert out == b""
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err
    assert err.count("\n") == 1


def test_import_invalid_name(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "with space"
    bad.write_text("x")
    code, _, err = run(env, "import", str(bad))
    assert code == 1
    assert "illegal character" in err


def test_cat_and_ls_errors(env: dict[str, str], tree: Path) -> None:
    run(env, "import", str(tree))
    store_path = _source_path(tree)
    code, _, err = run(env, "cat", store_path + "/sub")
    assert (code, err) == (1, f"error: path '{store_path}/sub' is not a regular file\n")
    code, _, err = run(env, "cat", store_path + "/missing")
    assert (code, err) == (1, f"error: path '{store_path}/missing' does not exist\n")
    code, _, err = run(env, "ls", store_path + "/hello.txt/x")
    assert code == 1


def test_list_empty(env: dict[str, str]) -> None:
    assert run(env, "list") == (0, b"", "")


def test_export_of_path_with_missing_content(env: dict[str, str], tmp_path: Path) -> None:
    """A PathInfo whose directory vanished: a one-line error, nothing on stdout."""
    from tvix_castore.directory import DirectoryNode
    from tvix_castore.registry import blob_service_from_url, directory_service_from_url
    from tvix_store.pathinfo import build_path_info
    from tvix_store.pathinfoservice import path_info_service_from_url

    url = env["PATH_INFO_SERVICE_ADDR"]
    blobs, dirs = blob_service_from_url(url), directory_service_from_url(url)
    infos = path_info_service_from_url(url, blobs, dirs)
    name = "00000000000000000000000000000000-gone"
    infos.put(
        build_path_info(DirectoryNode(name=name.encode(), digest=bytes(32), size=1), 1, bytes(32))
    )
    infos.close()
    dirs.close()
    blobs.close()
    code, out, err = run(env, "export", "/nix/store/" + name)
    assert (code, out) == (1, b"")
    assert err.startswith("error: unable to find directory b3:")
    code, out, err = run(env, "ls", "/nix/store/" + name)
    assert (code, out) == (1, b"")
    assert err.startswith("error: directory b3:")


def _command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    """``tvix-store ARGS`` in a fresh interpreter; stderr ends with the modules it loaded."""
    script = (
        "import sys\n"
        "from tvix_store.cli import main\n"
        f"sys.argv = ['tvix-store', *{list(args)!r}]\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    sys.stderr.write('\\nloaded:' + ' '.join(sorted(sys.modules)))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **env},
        capture_output=True,
        check=False,
    )


def test_plain_export_skips_the_command_line_framework(env: dict[str, str], tree: Path) -> None:
    assert run(env, "import", str(tree))[0] == 0
    store_path = _source_path(tree)
    expected = _nar(tree)
    url = env["BLOB_SERVICE_ADDR"]
    for args in (
        ("export", store_path),
        ("export", "--blob-service-addr", url, store_path, "--directory-service-addr=" + url),
    ):
        result = _command(env, *args)
        err, _, loaded = result.stderr.decode().rpartition("\nloaded:")
        assert (result.returncode, result.stdout, err) == (0, expected, "")
        assert "typer" not in loaded.split()
    # Errors: the same one line and status as through the full parser.
    for args in (
        ("export", "/nix/store/00000000000000000000000000000000-x"),
        ("export", "/tmp/x"),
        ("export", store_path + "/sub"),
        ("export", "--path-info-service-addr", "bogus://", store_path),
    ):
        result = _command(env, *args)
        err, _, loaded = result.stderr.decode().rpartition("\nloaded:")
        code, out, full_err = run(env, *args)
        assert (result.returncode, result.stdout, err) == (code, out, full_err) == (1, b"", err)
        assert err.startswith("error: ") and err.count("\n") == 1
        assert "typer" not in loaded.split()
    # Anything else goes to the full parser.
    result = _command(env, "export", "--help")
    assert result.returncode == 0 and b"store path" in result.stdout
    assert "typer" in result.stderr.decode().rpartition("\nloaded:")[2].split()
