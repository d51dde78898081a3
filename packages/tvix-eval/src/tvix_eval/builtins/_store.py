"""Store path computations for the store-facing builtins (via nix_compat and hashlib, imported
lazily: a path that is only read, never copied to the store, needs neither).

:class:`~tvix_eval.io.EvalIO`'s ``add_text_to_store``, ``add_path_to_store`` and ``fetch`` use
these by default: they compute the paths Nix would produce and write nothing; a store-backed IO
overrides them to really write to a store.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable

from tvix_eval.runtime.errors import EvalError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import hashlib

# Errors here come from the store in C++ Nix, which reports them without a position.

_NAME_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+-._?=")


def make_store_path(path_type: str, sha256_hex: str, name: str, store_dir: str) -> str:
    """``makeStorePath``: validates ``name`` with C++ Nix 2.8's messages."""
    import hashlib

    from nix_compat import nixbase32
    from nix_compat.store_path.build import compress_hash

    fingerprint = f"{path_type}:sha256:{sha256_hex}:{store_dir}:{name}"
    digest = compress_hash(hashlib.sha256(fingerprint.encode()).digest(), 20)
    base = f"{nixbase32.encode(digest)}-{name}"
    if not name:
        raise EvalError(f"store path '{base}' has an empty name", positioned=False)
    if len(name) > 211:
        raise EvalError(
            f"store path '{base}' has a name longer than 211 characters", positioned=False
        )
    for c in name:
        if c not in _NAME_CHARS:
            raise EvalError(
                f"store path '{base}' contains illegal character '{c}'", positioned=False
            )
    return f"{store_dir}/{base}"


def text_path(name: str, contents: bytes, references: Iterable[str], store_dir: str) -> str:
    """The path ``builtins.toFile`` gives ``contents`` with these references."""
    import hashlib

    path_type = ":".join(["text", *sorted(set(references))])
    return make_store_path(path_type, hashlib.sha256(contents).hexdigest(), name, store_dir)


def source_path(nar_sha256_hex: str, name: str, store_dir: str) -> str:
    """The path of a tree added recursively (``builtins.path``, ``filterSource``)."""
    return make_store_path("source", nar_sha256_hex, name, store_dir)


def flat_path(file_sha256_hex: str, name: str, store_dir: str) -> str:
    """The path of a single file added flat (``builtins.path { recursive = false; }``)."""
    import hashlib

    inner = hashlib.sha256(f"fixed:out:sha256:{file_sha256_hex}:".encode()).hexdigest()
    return make_store_path("output:out", inner, name, store_dir)


def file_type(mode: int) -> str:
    """The name Nix gives a file type (``readDir``, the ``filterSource`` filter)."""
    if stat.S_ISREG(mode):
        return "regular"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    return "unknown"


def _nar_str(h: hashlib._Hash, s: bytes) -> None:
    h.update(len(s).to_bytes(8, "little"))
    h.update(s)
    h.update(b"\0" * (-len(s) % 8))


def nar_sha256(path: str, keep: Callable[[str, str], bool] | None = None) -> str:
    """The sha256 (hex) of the NAR of ``path``; ``keep(path, type)`` filters entries below it."""
    import hashlib

    h = hashlib.sha256()
    _nar_str(h, b"nix-archive-1")
    _dump(path, h, keep)
    return h.hexdigest()


def _dump(path: str, h: hashlib._Hash, keep: Callable[[str, str], bool] | None) -> None:
    try:
        st = os.lstat(path)
    except OSError as e:
        raise EvalError(f"getting status of '{path}': {e.strerror}", positioned=False) from None
    _nar_str(h, b"(")
    _nar_str(h, b"type")
    if stat.S_ISLNK(st.st_mode):
        _nar_str(h, b"symlink")
        _nar_str(h, b"target")
        _nar_str(h, os.fsencode(os.readlink(path)))
    elif stat.S_ISDIR(st.st_mode):
        _nar_str(h, b"directory")
        for name in sorted(os.listdir(path), key=os.fsencode):
            child = path.rstrip("/") + "/" + name
            if keep is not None:
                child_type = file_type(os.lstat(child).st_mode)
                if not keep(child, child_type):
                    continue
            _nar_str(h, b"entry")
            _nar_str(h, b"(")
            _nar_str(h, b"name")
            _nar_str(h, os.fsencode(name))
            _nar_str(h, b"node")
            _dump(child, h, keep)
            _nar_str(h, b")")
    elif stat.S_ISREG(st.st_mode):
        _nar_str(h, b"regular")
        if st.st_mode & 0o100:
            _nar_str(h, b"executable")
            _nar_str(h, b"")
        _nar_str(h, b"contents")
        with open(path, "rb") as f:
            _nar_str(h, f.read())
    else:
        raise EvalError(f"file '{path}' has an unsupported type", positioned=False)
    _nar_str(h, b")")


def expected_sha256_hex(text: str) -> str:
    """The hex digest of an expected ``sha256`` argument, with C++ Nix 2.8's parse errors."""
    from nix_compat.nixhash import HashParseError, parse_hash

    try:
        return parse_hash(text, "sha256").hex()
    except HashParseError as e:
        message = str(e)
        # C++ Nix 2.8 stops after the hash type, and names a prefixed hash by its digest
        cut = re.match(
            r"hash '(.*)' (has wrong length for|should have) (hash )?type '\w+'", message, re.DOTALL
        )
        if cut is not None:
            message = cut.group(0)
            _, sep, rest = text.partition(":")
            if sep and cut.group(2) == "has wrong length for" and cut.group(1) == text:
                message = message.replace(f"hash '{text}'", f"hash '{rest}'", 1)
        raise EvalError(message, positioned=False) from None
