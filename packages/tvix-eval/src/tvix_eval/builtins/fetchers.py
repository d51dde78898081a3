"""Fetchers: ``fetchurl``, ``fetchTarball``, ``fetchGit``, ``fetchMercurial``, ``fetchTree``.

Arguments are checked as C++ Nix 2.8 checks them; the fetching itself is
:meth:`EvalIO.fetch <tvix_eval.io.EvalIO.fetch>` (a store path, or for ``fetchGit``/
``fetchMercurial``/``fetchTree`` a dict with ``outPath``, ``rev``, …). Its default,
:func:`fetch_without_store`, reads ``file://`` URLs locally and computes the store path as Nix
computes it (see :mod:`._store`); anything needing the network or a version control tool is an
error naming the URL (never a hang).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from tvix_eval.builtins import _store
from tvix_eval.builtins.registry import builtin
from tvix_eval.builtins.strings import base_name_of, no_context
from tvix_eval.io import EvalIOError
from tvix_eval.runtime import context as _context
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import coerce_to_string, expect_bool, expect_string
from tvix_eval.runtime.values import NixAttrs, NixString, Value


def _parse_fetch_args(what: str, arg: Value) -> tuple[str, str | None, str | None]:
    """``(url, expected sha256 hex, name)`` of a ``fetchurl``/``fetchTarball`` argument."""
    url: str | None = None
    sha256: str | None = None
    name: str | None = None
    if type(arg) is NixAttrs:
        for key, value in arg.sorted_items():
            if key == "url":
                url = str.__str__(coerce_to_string(value, copy_to_store=False))
            elif key == "sha256":
                sha256 = _store.expected_sha256_hex(no_context(value))
            elif key == "name":
                name = no_context(value)
            else:
                error = EvalError(f"unsupported argument '{key}' to '{what}'")
                raise error.at(arg.pos.get(key) if arg.pos is not None else None)
        if url is None:
            raise EvalError("'url' argument required")
    else:
        url = str.__str__(expect_string(arg))
    return url, sha256, name


def _no_network(url: str) -> EvalIOError:
    return EvalIOError(f"unable to download '{url}': network access is not available")


def _local_file(url: str) -> str | None:
    from urllib.parse import unquote, urlparse

    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    return unquote(parsed.path)


def _read_local(url: str, path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        raise EvalIOError(
            f"unable to download '{url}': Couldn't read a file:// file (37)"
        ) from None


def _check_hash(url: str, expected: str | None, got: str) -> None:
    if expected is not None and expected != got:
        from nix_compat import nixbase32

        raise EvalIOError(
            f"hash mismatch in file downloaded from '{url}':\n"
            f"         specified: sha256:{nixbase32.encode(bytes.fromhex(expected))}\n"
            f"         got:       sha256:{nixbase32.encode(bytes.fromhex(got))}"
        )


def fetch_without_store(kind: str, args: dict[str, Any], store_dir: str) -> str:
    """What :meth:`EvalIO.fetch <tvix_eval.io.EvalIO.fetch>` does by default: ``file://`` URLs
    of ``fetchurl``/``fetchTarball`` are read locally and their store path computed (nothing is
    written); anything else raises :class:`~tvix_eval.io.EvalIOError` naming the URL."""
    url = str(args.get("url", ""))
    if kind == "fetchGit":
        raise EvalIOError(
            f"unable to fetch Git repository '{url}': network access is not available"
        )
    if kind == "fetchMercurial":
        raise EvalIOError(
            f"unable to fetch Mercurial repository '{url}': network access is not available"
        )
    if kind not in {"fetchurl", "fetchTarball"}:
        raise EvalIOError(
            f"unable to fetch '{args.get('url', args.get('type', ''))}': "
            "network access is not available"
        )
    local = _local_file(url)
    if local is None:
        raise _no_network(url)
    name = str(args["name"])
    if kind == "fetchurl":
        digest = hashlib.sha256(_read_local(url, local)).hexdigest()
        _check_hash(url, args.get("sha256"), digest)
        return _store.flat_path(digest, name, store_dir)
    digest = _unpacked_nar_sha256(url, local)
    _check_hash(url, args.get("sha256"), digest)
    return _store.source_path(digest, name, store_dir)


def _fetch(kind: str, args: dict[str, Any]) -> str | dict[str, Any]:
    """``EvalIO.fetch(kind, args)``: a store path, or for trees a dict with ``outPath``."""
    try:
        return _context.current().io.fetch(kind, args)
    except EvalIOError as e:
        # download and store errors: C++ Nix reports them without a position
        raise EvalError(str(e), positioned=False) from None


def _result(path: str) -> NixString:
    return NixString(path, (path,))


def _tree_result(fetched: str | dict[str, Any]) -> NixAttrs:
    """A source tree's attributes: ``outPath`` plus whatever the fetch reported (rev, …)."""
    if isinstance(fetched, dict):
        attrs = {k: NixString(v, ()) if type(v) is str else v for k, v in fetched.items()}
        attrs["outPath"] = _result(str(fetched["outPath"]))
        return NixAttrs(attrs)
    return NixAttrs({"outPath": _result(str(fetched))})


@builtin("fetchurl", 1)
def _fetchurl(arg: Value) -> NixString:
    """Download a file (unpacked: no) into the store."""
    url, sha256, name = _parse_fetch_args("fetchurl", arg)
    name = name or base_name_of(url)
    return _result(str(_fetch("fetchurl", {"url": url, "sha256": sha256, "name": name})))


@builtin("fetchTarball", 1, global_=True)
def _fetch_tarball(arg: Value) -> NixString:
    """Download and unpack a tarball into the store (its single top-level directory)."""
    url, sha256, name = _parse_fetch_args("fetchTarball", arg)
    name = name or "source"
    return _result(str(_fetch("fetchTarball", {"url": url, "sha256": sha256, "name": name})))


def _unpacked_nar_sha256(url: str, archive: str) -> str:
    import tarfile
    import tempfile

    if not os.path.exists(archive):
        raise EvalIOError(f"unable to download '{url}': Couldn't read a file:// file (37)")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="tar")
        except (tarfile.TarError, OSError) as e:
            raise EvalIOError(f"unpacking '{url}': {e}") from None
        entries = os.listdir(tmp)
        if len(entries) != 1:
            raise EvalIOError(f"tarball '{url}' contains an unexpected number of top-level files")
        return _store.nar_sha256(os.path.join(tmp, entries[0]))


def _vcs_args(what: str, arg: Value, allowed: tuple[str, ...]) -> dict[str, Any]:
    if type(arg) is not NixAttrs:
        return {"url": str.__str__(coerce_to_string(arg, copy_to_store=False))}
    args: dict[str, Any] = {}
    for key, value in arg.sorted_items():
        if key == "url":
            args["url"] = str.__str__(coerce_to_string(value, copy_to_store=False))
        elif key in allowed:
            if key in ("submodules", "allRefs", "shallow"):
                args[key] = expect_bool(value)
            else:
                args[key] = no_context(value)
        elif what == "fetchGit":
            # C++ Nix 2.8 checks fetchGit's attributes as those of a Git input
            raise EvalError(f"unsupported Git input attribute '{key}'", positioned=False)
        else:
            error = EvalError(f"unsupported argument '{key}' to '{what}'")
            raise error.at(arg.pos.get(key) if arg.pos is not None else None)
    if "url" not in args:
        raise EvalError(
            "input attribute 'url' is missing" if what == "fetchGit" else "'url' argument required"
        )
    return args


@builtin("fetchGit", 1, global_=True)
def _fetch_git(arg: Value) -> Value:
    """Fetch a Git repository (through the IO's ``fetch``; there is no network here)."""
    args = _vcs_args("fetchGit", arg, ("name", "rev", "ref", "submodules", "allRefs", "shallow"))
    return _tree_result(_fetch("fetchGit", args))


@builtin("fetchMercurial", 1, global_=True)
def _fetch_mercurial(arg: Value) -> Value:
    """Fetch a Mercurial repository (through the IO's ``fetch``)."""
    args = _vcs_args("fetchMercurial", arg, ("name", "rev", "ref"))
    return _tree_result(_fetch("fetchMercurial", args))


@builtin("fetchTree", 1, global_=True)
def _fetch_tree(arg: Value) -> Value:
    """Fetch a flake input; needs the experimental ``flakes`` feature, as in C++ Nix."""
    features = _context.current().extra.get("experimental_features", ())
    if "flakes" not in features:
        raise EvalError(
            "experimental Nix feature 'flakes' is disabled; use "
            "'--extra-experimental-features flakes' to override"
        )
    if type(arg) is NixAttrs:
        args = {k: coerce_to_string(v, strong=True) for k, v in arg.sorted_items()}
    else:
        args = {"url": str.__str__(expect_string(arg))}
    return _tree_result(_fetch("fetchTree", args))
