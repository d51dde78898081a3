"""Core builtins: types, control flow, arithmetic, ``toString``, ``import`` and constants."""

from __future__ import annotations

import math
import os
import time

from tvix_eval.builtins.registry import builtin, constant
from tvix_eval.runtime import context as _context
from tvix_eval.runtime.errors import (
    AbortError,
    CatchableError,
    EvalError,
    ThrownError,
    TypeMismatch,
)
from tvix_eval.runtime.ops import (
    arith,
    check_int,
    coerce_to_string,
    expect_float,
    expect_int,
    force_deep,
    less_than,
)
from tvix_eval.runtime.printer import print_value
from tvix_eval.runtime.values import (
    Lambda,
    NixAttrs,
    NixPath,
    NixString,
    PrimOp,
    PrimOpApp,
    Value,
    force,
    is_function,
    type_name,
)

# --------------------------------------------------------------------------- constants

constant("true", True)
constant("false", False)
constant("null", None)
constant("nixVersion", "2.8.0")
constant("langVersion", 6)
constant("storeDir", factory=lambda state: state.io.store_dir)
constant("currentSystem", "x86_64-linux")
constant("currentTime", factory=lambda state: state.current_time or int(time.time()), impure=True)

# --------------------------------------------------------------------------- types


@builtin("typeOf", 1)
def _type_of(v: Value) -> Value:
    return type_name(v)


@builtin("isNull", 1, global_=True)
def _is_null(v: Value) -> Value:
    return v is None


@builtin("isInt", 1)
def _is_int(v: Value) -> Value:
    return type(v) is int


@builtin("isFloat", 1)
def _is_float(v: Value) -> Value:
    return type(v) is float


@builtin("isBool", 1)
def _is_bool(v: Value) -> Value:
    return type(v) is bool


@builtin("isString", 1)
def _is_string(v: Value) -> Value:
    return type(v) is str or type(v) is NixString


@builtin("isList", 1)
def _is_list(v: Value) -> Value:
    return type(v) is list


@builtin("isAttrs", 1)
def _is_attrs(v: Value) -> Value:
    return type(v) is NixAttrs


@builtin("isFunction", 1)
def _is_function(v: Value) -> Value:
    return is_function(v)


@builtin("isPath", 1)
def _is_path(v: Value) -> Value:
    return type(v) is NixPath


# --------------------------------------------------------------------------- control


@builtin("throw", 1, global_=True)
def _throw(msg: Value) -> Value:
    raise ThrownError(coerce_to_string(msg))


@builtin("abort", 1, global_=True)
def _abort(msg: Value) -> Value:
    text = coerce_to_string(msg)
    raise AbortError(f"evaluation aborted with the following error message: '{text}'")


@builtin("seq", 2, lazy_args=(1,))
def _seq(a: Value, b: Value) -> Value:
    return force(b)


@builtin("deepSeq", 2, lazy_args=(1,))
def _deep_seq(a: Value, b: Value) -> Value:
    force_deep(a)
    return force(b)


@builtin("tryEval", 1, lazy_args=(0,))
def _try_eval(v: Value) -> Value:
    try:
        value = force(v)
    except CatchableError:
        return NixAttrs({"success": False, "value": False})
    return NixAttrs({"success": True, "value": value})


@builtin("trace", 2, lazy_args=(1,))
def _trace(msg: Value, v: Value) -> Value:
    text = msg if type(msg) is str or type(msg) is NixString else print_value(msg)
    _context.current().trace_out(f"trace: {text}")
    return force(v)


@builtin("addErrorContext", 2, lazy_args=(0, 1))
def _add_error_context(ctx: Value, v: Value) -> Value:
    """``v``; if forcing it fails, the error gets the message ``ctx`` as a trace frame. The
    message is evaluated only then, as in C++ Nix (nixpkgs' module system builds one for
    every option it evaluates)."""
    try:
        return force(v)
    except EvalError as e:
        e.add_trace(None, coerce_to_string(ctx), True)
        raise


@builtin("toString", 1, global_=True)
def _to_string(v: Value) -> Value:
    t = type(v)
    if t is str:
        return v
    if t is int:
        return str(v)
    return coerce_to_string(v, strong=True, copy_to_store=False)


# --------------------------------------------------------------------------- arithmetic


@builtin("add", 2)
def _add(a: Value, b: Value) -> Value:
    if type(a) is float or type(b) is float:
        return expect_float(a) + expect_float(b)
    x = expect_int(a)
    y = expect_int(b)
    return check_int(x + y, "adding", x, y)


@builtin("sub", 2)
def _sub(a: Value, b: Value) -> Value:
    return arith("-", a, b)


@builtin("mul", 2)
def _mul(a: Value, b: Value) -> Value:
    return arith("*", a, b)


@builtin("div", 2)
def _div(a: Value, b: Value) -> Value:
    return arith("/", a, b)


@builtin("lessThan", 2)
def _less_than(a: Value, b: Value) -> Value:
    return less_than(a, b)


@builtin("bitAnd", 2)
def _bit_and(a: Value, b: Value) -> Value:
    return expect_int(a) & expect_int(b)


@builtin("bitOr", 2)
def _bit_or(a: Value, b: Value) -> Value:
    return expect_int(a) | expect_int(b)


@builtin("bitXor", 2)
def _bit_xor(a: Value, b: Value) -> Value:
    return expect_int(a) ^ expect_int(b)


def _float_to_int(f: float) -> int:
    if math.isnan(f) or math.isinf(f):
        raise EvalError(f"cannot convert {f} to an integer")
    return int(f)


@builtin("ceil", 1)
def _ceil(v: Value) -> Value:
    x = expect_float(v)  # any number; anything else is "… while a float was expected"
    return _float_to_int(math.ceil(x)) if type(v) is float else v


@builtin("floor", 1)
def _floor(v: Value) -> Value:
    x = expect_float(v)
    return _float_to_int(math.floor(x)) if type(v) is float else v


# --------------------------------------------------------------------------- functions


@builtin("functionArgs", 1)
def _function_args(f: Value) -> Value:
    if type(f) is Lambda:
        if f.formals is None:
            return NixAttrs({})
        return NixAttrs(dict(f.formals.names), f.formals.pos)
    if type(f) is PrimOp or type(f) is PrimOpApp:
        return NixAttrs({})
    raise TypeMismatch("'functionArgs' requires a function")


# --------------------------------------------------------------------------- import


def coerce_to_path(v: Value, what: str) -> str:
    """A path argument: a path value, or a string that must be an absolute path (C++
    ``realisePath``, whose errors get a ``… while realising the context of a path`` frame)."""
    from tvix_eval.builtins._util import realise_path

    return realise_path(v)


@builtin("import", 1, global_=True)
def _import(v: Value) -> Value:
    path = coerce_to_path(v, "import")
    return import_path(path)


@builtin("scopedImport", 2, global_=True)
def _scoped_import(scope: Value, v: Value) -> Value:
    """``import`` with the attributes of ``scope`` as the file's outermost variables."""
    from tvix_eval.io import EvalIOError
    from tvix_eval.runtime.ops import expect_attrs

    attrs = expect_attrs(scope)
    path = coerce_to_path(v, "scopedImport")
    state = _context.current()
    try:
        if state.io.is_dir(path):
            path = os.path.join(path, "default.nix")
        else:
            _check_exists(path)
        data = state.io.read_file(path)
    except EvalIOError as e:
        raise EvalError(str(e), positioned=False) from None
    loader = state.import_file
    assert loader is not None
    return force(loader(data.decode("utf-8", errors="surrogateescape"), path, attrs))


@builtin("getEnv", 1, impure=True)
def _get_env(name: Value) -> Value:
    from tvix_eval.runtime.ops import expect_string

    return os.environ.get(str(expect_string(name)), "")


def import_path(path: str) -> Value:
    """Evaluate the file at ``path`` (``default.nix`` inside a directory), cached per file."""
    from tvix_eval.io import EvalIOError

    state = _context.current()
    # Files the evaluator provides itself (the corepkgs) are importable without any file access,
    # even under pure IO, as in C++ Nix.
    provided = state.import_cache.get(path)
    if provided is not None:
        return force(provided)
    try:
        is_dir = state.io.is_dir(path)
        if is_dir:
            path = os.path.join(path, "default.nix")
        key = state.io.realpath(path)
    except EvalIOError as e:
        raise EvalError(str(e), positioned=False) from None
    cached = state.import_cache.get(key)
    if cached is None:
        try:
            if not is_dir:
                _check_exists(path)
            data = state.io.read_file(path)
        except EvalIOError as e:
            raise EvalError(str(e), positioned=False) from None
        loader = state.import_file
        assert loader is not None
        cached = loader(data.decode("utf-8", errors="surrogateescape"), path)
        state.import_cache[key] = cached
    return force(cached)


def _check_exists(path: str) -> None:
    """C++ Nix's error (from ``lstat``, without a position) for a file to import that is not
    there: ``No such file or directory``, or ``Not a directory`` below a file."""
    from tvix_eval.io import EvalIOError

    io = _context.current().io
    if io.path_exists(path):
        return
    reason = "No such file or directory"
    prefix = ""
    for part in path.split("/")[1:-1]:
        prefix += "/" + part
        if not io.path_exists(prefix):
            break
        if not io.is_dir(prefix):
            reason = "Not a directory"
            break
    raise EvalIOError(f"getting status of '{path}': {reason}")
