"""Fetchers: ``fetchurl``, ``fetchTarball``, ``fetchGit``, ``fetchMercurial``, ``fetchTree``.

Arguments are checked as C++ Nix 2.8 checks them. ``file://`` URLs are fetched locally (the
store path is computed as Nix computes it; see :mod:`._store`). Anything needing the network or a
version control tool goes to the optional ``EvalIO.fetch(kind, args)`` method (a store path, or
for ``fetchGit``/``fetchMercurial``/``fetchTree`` a dict with ``outPath``, ``rev``, …);
without one, the result is an error naming the URL (never a hang).
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


def _expected_sha256(text: str) -> str:
    from nix_compat.nixhash import HashParseError, parse_hash

    try:
        return parse_hash(text, "sha256").hex()
    except HashParseError as e:
        raise EvalError(str(e)) from None


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
                sha256 = _expected_sha256(no_context(value))
            elif key == "name":
                name = no_context(value)
            else:
                raise EvalError(f"unsupported argument '{key}' to '{what}'")
        if url is None:
            raise EvalError("'url' argument required")
    else:
        url = str.__str__(expect_string(arg))
    return url, sha256, name


def _no_network(url: str) -> EvalError:
    return EvalError(f"unable to download '{url}': network access is not available")


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
        raise EvalError(f"unable to download '{url}': Couldn't read a file:// file (37)") from None


def _hook(kind: str, args: dict[str, Any]) -> Any:
    """``EvalIO.fetch(kind, args)``: a store path, or for trees a dict with ``outPath``."""
    io = _context.current().io
    fetch: Any = getattr(io, "fetch", None)
    if fetch is None:
        return None
    try:
        return fetch(kind, args)
    except EvalIOError as e:
        raise EvalError(str(e)) from None


def _result(path: str) -> NixString:
    return NixString(path, (path,))


def _tree_result(hooked: Any) -> NixAttrs:
    """A source tree's attributes: ``outPath`` plus whatever the fetch reported (rev, …)."""
    if isinstance(hooked, dict):
        attrs = dict(hooked)
        attrs["outPath"] = _result(str(attrs["outPath"]))
        return NixAttrs(attrs)
    return NixAttrs({"outPath": _result(str(hooked))})


@builtin("fetchurl", 1)
def _fetchurl(arg: Value) -> NixString:
    """Download a file (unpacked: no) into the store."""
    url, sha256, name = _parse_fetch_args("fetchurl", arg)
    name = name or base_name_of(url)
    hooked = _hook("fetchurl", {"url": url, "sha256": sha256, "name": name})
    if hooked is not None:
        return _result(str(hooked))
    local = _local_file(url)
    if local is None:
        raise _no_network(url)
    digest = hashlib.sha256(_read_local(url, local)).hexdigest()
    if sha256 is not None and sha256 != digest:
        raise EvalError(f"hash mismatch in file downloaded from '{url}':")
    return _result(_store.flat_path(digest, name, _context.current().io.store_dir))


@builtin("fetchTarball", 1, global_=True)
def _fetch_tarball(arg: Value) -> NixString:
    """Download and unpack a tarball into the store (its single top-level directory)."""
    url, sha256, name = _parse_fetch_args("fetchTarball", arg)
    name = name or "source"
    hooked = _hook("fetchTarball", {"url": url, "sha256": sha256, "name": name})
    if hooked is not None:
        return _result(str(hooked))
    local = _local_file(url)
    if local is None:
        raise _no_network(url)
    digest = _unpacked_nar_sha256(url, local)
    if sha256 is not None and sha256 != digest:
        raise EvalError(f"hash mismatch in file downloaded from '{url}':")
    return _result(_store.source_path(digest, name, _context.current().io.store_dir))


def _unpacked_nar_sha256(url: str, archive: str) -> str:
    import tarfile
    import tempfile

    if not os.path.exists(archive):
        raise EvalError(f"unable to download '{url}': Couldn't read a file:// file (37)")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="tar")
        except (tarfile.TarError, OSError) as e:
            raise EvalError(f"unpacking '{url}': {e}") from None
        entries = os.listdir(tmp)
        if len(entries) != 1:
            raise EvalError(f"tarball '{url}' contains an unexpected number of top-level files")
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
        else:
            raise EvalError(f"unsupported argument '{key}' to '{what}'")
    if "url" not in args:
        raise EvalError(
            "input attribute 'url' is missing" if what == "fetchGit" else "'url' argument required"
        )
    return args


@builtin("fetchGit", 1, global_=True)
def _fetch_git(arg: Value) -> Value:
    """Fetch a Git repository (through the IO's ``fetch``; there is no network here)."""
    args = _vcs_args("fetchGit", arg, ("name", "rev", "ref", "submodules", "allRefs", "shallow"))
    hooked = _hook("fetchGit", args)
    if hooked is None:
        raise EvalError(
            f"unable to fetch Git repository '{args['url']}': network access is not available"
        )
    return _tree_result(hooked)


@builtin("fetchMercurial", 1, global_=True)
def _fetch_mercurial(arg: Value) -> Value:
    """Fetch a Mercurial repository (through the IO's ``fetch``)."""
    args = _vcs_args("fetchMercurial", arg, ("name", "rev", "ref"))
    hooked = _hook("fetchMercurial", args)
    if hooked is None:
        raise EvalError(
            f"unable to fetch Mercurial repository '{args['url']}': network access is not available"
        )
    return _tree_result(hooked)


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
    hooked = _hook("fetchTree", args)
    if hooked is None:
        raise EvalError(
            f"unable to fetch '{args.get('url', args.get('type', ''))}': "
            "network access is not available"
        )
    return _tree_result(hooked)
