"""File and store builtins: ``readFile``, ``readDir``, ``readFileType``, ``pathExists``,
``path``, ``filterSource``, ``toFile``, ``storePath``, ``findFile``, ``nixPath``,
``placeholder`` and ``getEnv``.

Files are reached through the evaluation's :class:`~tvix_eval.io.EvalIO`; store paths are
computed as C++ Nix computes them (see :mod:`._store`).
"""

from __future__ import annotations

import os
from typing import Any

from tvix_eval.builtins import _store
from tvix_eval.builtins._util import coerce_path, from_bytes, read_file, realise_path, to_bytes
from tvix_eval.builtins.registry import builtin, constant
from tvix_eval.builtins.strings import base_name_of, no_context
from tvix_eval.io import EvalIO, EvalIOError
from tvix_eval.known_paths import known_paths
from tvix_eval.runtime import context as _context
from tvix_eval.runtime.errors import EvalError, ThrownError, TypeMismatch
from tvix_eval.runtime.ops import (
    call_value,
    canon_path,
    coerce_to_string,
    expect_attrs,
    expect_bool,
    expect_list,
    expect_string,
)
from tvix_eval.runtime.values import (
    NixAttrs,
    NixPath,
    NixString,
    Value,
    force,
    is_function,
    show_type,
    string_context,
)

#: where ``<nix/…>`` resolves when no search path entry has it (C++ Nix's corepkgs)
COREPKGS_PREFIX = "/__corepkgs__/"


def _io() -> EvalIO:
    return _context.current().io


def _io_error(e: EvalIOError) -> EvalError:
    """A failed file operation: C++ Nix reports it without a position."""
    return EvalError(str(e), positioned=False)


# --------------------------------------------------------------------------- reading


@builtin("readFile", 1)
def _read_file(p: Value) -> str:
    """The contents of a file as a string."""
    path = realise_path(p)
    data = read_file(path)
    if b"\0" in data:
        raise EvalError(
            f"the contents of the file '{path}' cannot be represented as a Nix string",
            positioned=False,
        )
    return from_bytes(data)


@builtin("readDir", 1)
def _read_dir(p: Value) -> NixAttrs:
    """``{ name = "regular" | "directory" | "symlink" | "unknown"; }`` for a directory."""
    path = realise_path(p)
    try:
        entries = _io().read_dir(path)
    except EvalIOError as e:
        raise _io_error(e) from None
    return NixAttrs(dict(entries))


@builtin("readFileType", 1)
def _read_file_type(p: Value) -> str:
    """The type of a file: ``regular``, ``directory``, ``symlink`` or ``unknown``."""
    path = canon_path(realise_path(p))
    if path == "/":
        return "directory"
    parent, name = path.rsplit("/", 1)
    try:
        entries = dict(_io().read_dir(parent or "/"))
    except EvalIOError as e:
        raise _io_error(e) from None
    kind = entries.get(name)
    if kind is None:
        raise EvalError(f"getting status of '{path}': No such file or directory")
    return kind


@builtin("pathExists", 1)
def _path_exists(p: Value) -> bool:
    """Whether a path exists."""
    path = realise_path(p)
    try:
        return _io().path_exists(path)
    except EvalIOError:
        return False


# --------------------------------------------------------------------------- adding to the store


def add_path(
    path: str,
    name: str,
    keep: Value | None = None,
    recursive: bool = True,
    expected_sha256: str | None = None,
) -> str:
    """Add ``path`` (filtered by the Nix function ``keep``) to the store; its store path."""
    digest: str | None = None
    if expected_sha256:
        digest = _store.expected_sha256_hex(expected_sha256)
    try:
        return _add_path(path, name, keep, recursive, digest)
    except EvalError as e:
        raise e.while_calling(f"while adding path '{path}'") from None


def _add_path(
    path: str,
    name: str,
    keep: Value | None,
    recursive: bool,
    digest: str | None,
) -> str:
    io = _io()
    store_dir = io.store_dir
    try:
        if not io.path_exists(path):
            raise EvalError(
                f"getting status of '{path}': No such file or directory", positioned=False
            )
    except EvalIOError as e:
        raise _io_error(e) from None

    def keep_entry(entry: str, kind: str) -> bool:
        assert keep is not None
        return expect_bool(call_value(call_value(keep, entry), kind))

    expected: str | None = None
    if digest is not None:
        if recursive:
            expected = _store.source_path(digest, name, store_dir)
        else:
            expected = _store.flat_path(digest, name, store_dir)

    try:
        result = io.add_path_to_store(
            path, name, recursive, keep_entry if keep is not None else None
        )
    except EvalIOError as e:
        raise _io_error(e) from None
    if expected is not None and expected != result:
        raise EvalError(
            f"store path mismatch in (possibly filtered) path added from '{path}'",
            positioned=False,
        )
    return str(result)


def _store_string(path: str) -> NixString:
    return NixString(path, (path,))


@builtin("path", 1)
def _path(args: Value) -> NixString:
    """Add a path to the store: ``{ path; name ?; filter ?; recursive ? true; sha256 ?; }``."""
    path = ""
    name = ""
    keep: Value | None = None
    recursive = True
    sha256: str | None = None
    attrs = expect_attrs(args)
    for key, value in attrs.sorted_items():
        if key == "path":
            try:
                path = coerce_path(value)
            except EvalError as e:
                # reported where ``path`` is given (C++ Nix coerces it at the attribute)
                raise e.at(attrs.pos.get("path") if attrs.pos is not None else None) from None
        elif key == "name":
            name = no_context(value)
        elif key == "filter":
            keep = force(value)
        elif key == "recursive":
            recursive = expect_bool(value)
        elif key == "sha256":
            sha256 = no_context(value)
        else:
            error = EvalError(f"unsupported argument '{key}' to 'addPath'")
            raise error.at(attrs.pos.get(key) if attrs.pos is not None else None)
    if not path:
        raise EvalError("'path' required")
    if not name:
        name = base_name_of(path)
    return _store_string(add_path(path, name, keep, recursive, sha256))


@builtin("filterSource", 2)
def _filter_source(keep: Value, p: Value) -> NixString:
    """Add a directory to the store, keeping the entries for which ``keep path type`` holds."""
    path = coerce_path(p)
    if not is_function(keep):
        raise TypeMismatch(
            f"first argument in call to 'filterSource' is not a function but {show_type(keep)}"
        )
    return _store_string(add_path(path, base_name_of(path), keep))


@builtin("toFile", 2)
def _to_file(name: Value, contents: Value) -> NixString:
    """Write a string to a store file (its context becomes the file's references)."""
    file_name = no_context(name)
    text = expect_string(contents)
    refs: list[str] = []
    for element in sorted(string_context(text)):
        if not element.startswith("/"):
            raise EvalError(
                f"in 'toFile': the file named '{file_name}' must not contain a reference to a "
                f"derivation but contains ({element})"
            )
        refs.append(element)
    try:
        result = _io().add_text_to_store(file_name, to_bytes(text), refs)
    except EvalIOError as e:
        raise _io_error(e) from None
    # A derivation's closure (`=drv` contexts) reaches through the files it refers to.
    known_paths(_context.current()).add_references(result, refs)
    return _store_string(result)


def _first_missing(io: EvalIO, path: str) -> str:
    """The shortest prefix of ``path`` that does not exist (what symlink resolution reports)."""
    prefix = ""
    for part in canon_path(path).split("/")[1:]:
        prefix += "/" + part
        if not io.path_exists(prefix):
            return prefix
    return path


@builtin("storePath", 1)
def _store_path(p: Value) -> NixString:
    """A store path (or a path inside one) as a string that depends on that store path."""
    from tvix_eval.builtins.context import is_store_path

    path = coerce_path(p)
    io = _io()
    store_dir = io.store_dir
    if not is_store_path(path, store_dir):
        try:
            if not io.path_exists(path):
                raise EvalError(
                    f"getting status of '{_first_missing(io, path)}': No such file or directory",
                    positioned=False,
                )
            path = canon_path(io.realpath(path))
        except EvalIOError as e:
            raise _io_error(e) from None
    if not path.startswith(store_dir + "/") or len(path) <= len(store_dir) + 1:
        raise EvalError(f"path '{path}' is not in the Nix store")
    top = "/".join(path.split("/")[: store_dir.count("/") + 2])
    return NixString(path, (top,))


@builtin("placeholder", 1, global_=True)
def _placeholder(output: Value) -> str:
    """The placeholder for a derivation output, replaced by its path at build time."""
    import hashlib

    from nix_compat import nixbase32

    name = no_context(output)
    return "/" + nixbase32.encode(hashlib.sha256(f"nix-output:{name}".encode()).digest())


# --------------------------------------------------------------------------- search path


def _nix_path(state: Any) -> list[Value]:
    return [NixAttrs({"path": path, "prefix": prefix or ""}) for prefix, path in state.search_path]


constant("nixPath", factory=_nix_path)


def find_file(search_path: list[tuple[str, str]], name: str) -> str:
    """C++ ``EvalState::findFile``: the first existing ``<entry>/<rest of name>``."""
    io = _io()
    for prefix, entry in search_path:
        if not prefix:
            suffix = "/" + name
        else:
            n = len(prefix)
            if not name.startswith(prefix) or (len(name) > n and name[n] != "/"):
                continue
            suffix = "" if len(name) == n else "/" + name[n + 1 :]
        base = entry if entry.startswith("/") else os.path.join(os.getcwd(), entry)
        candidate = base + suffix
        try:
            if io.path_exists(candidate):
                return canon_path(candidate)
        except EvalIOError:
            continue
    if name.startswith("nix/"):
        return COREPKGS_PREFIX + name[4:]
    raise ThrownError(
        f"file '{name}' was not found in the Nix search path (add it using $NIX_PATH or -I)"
    )


@builtin("findFile", 2)
def _find_file(search_path: Value, name: Value) -> NixPath:
    """Look ``name`` up in a search path list like ``builtins.nixPath``."""
    entries: list[tuple[str, str]] = []
    for item in expect_list(search_path):
        d = expect_attrs(item).d
        prefix_value = d.get("prefix")
        prefix = "" if prefix_value is None else no_context(prefix_value)
        path_value = d.get("path")
        if path_value is None:
            raise EvalError("attribute 'path' missing")
        entries.append((prefix, str.__str__(coerce_to_string(path_value, copy_to_store=False))))
    return NixPath(find_file(entries, no_context(name)))


# --------------------------------------------------------------------------- environment


@builtin("getEnv", 1, impure=True)
def _get_env(name: Value) -> str:
    """The value of an environment variable, or ``""``."""
    return os.environ.get(expect_string(name), "")
