"""Helpers shared by the builtin groups: string bytes, C integer truncation."""

from __future__ import annotations

from tvix_eval.runtime.values import NixString, make_string, string_context


def to_bytes(s: str) -> bytes:
    """The bytes of a Nix string (non-UTF-8 bytes are kept as surrogate escapes)."""
    return s.encode("utf-8", "surrogateescape")


def from_bytes(b: bytes) -> str:
    """A Python ``str`` holding the bytes ``b`` (the inverse of :func:`to_bytes`)."""
    return b.decode("utf-8", "surrogateescape")


def byte_length(s: str) -> int:
    """The length of a Nix string in bytes."""
    if s.isascii():
        return len(s)
    return len(to_bytes(s))


def c_int(n: int) -> int:
    """``n`` truncated to a C ``int`` (32 bits), as C++ Nix does for some arguments."""
    return ((n + 2**31) & 0xFFFFFFFF) - 2**31


def with_context_of(text: str, *sources: str) -> str:
    """``text`` carrying the union of the contexts of ``sources``."""
    context: frozenset[str] | None = None
    for s in sources:
        if type(s) is NixString:
            context = s.context if context is None else context | s.context
    return make_string(text, context)


def realise_path(v: object) -> str:
    """C++ ``realisePath``: a path value, or a coerced string that must be an absolute path;
    errors get C++ Nix's ``… while realising the context of a path`` frame."""
    from tvix_eval.runtime.errors import EvalError

    try:
        return coerce_path(v)
    except EvalError as e:
        raise e.while_calling("while realising the context of a path") from None


def coerce_path(v: object) -> str:
    """C++ ``coerceToPath``: a path value, or a coerced string that must be an absolute path."""
    from tvix_eval.runtime.ops import coerce_to_string
    from tvix_eval.runtime.values import NixPath, force

    v = force(v)
    if type(v) is NixPath:
        return v.path
    s = coerce_to_string(v, copy_to_store=False)
    if not s.startswith("/"):
        from tvix_eval.runtime.errors import EvalError

        raise EvalError(f"string '{s}' doesn't represent an absolute path")
    return str.__str__(s)


def read_file(path: str) -> bytes:
    """The contents of a file through the evaluation's IO, with C++ Nix's error texts."""
    from tvix_eval.io import EvalIOError
    from tvix_eval.runtime import context
    from tvix_eval.runtime.errors import EvalError

    try:
        return context.current().io.read_file(path)
    except EvalIOError as e:
        # C++ Nix reports failed file operations without a position
        if str(e).endswith(": Is a directory"):
            # C++ Nix opens the directory fine and fails on reading it
            raise EvalError("reading from file: Is a directory", positioned=False) from None
        raise EvalError(str(e), positioned=False) from None


__all__ = [
    "byte_length",
    "c_int",
    "coerce_path",
    "from_bytes",
    "read_file",
    "realise_path",
    "string_context",
    "to_bytes",
    "with_context_of",
]
