"""Python values as Nix values, for what Python builtins return to the Nix program."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import inspect
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1


def to_nix(value: Any) -> Any:
    """Convert ``value`` (plain data, dataclasses, enums, paths, callables) to a Nix value.

    Raises ``TypeError`` for what has no Nix counterpart and ``ValueError`` for integers outside
    Nix's 64-bit range and relative paths.
    """
    from tvix_eval.runtime.values import NixAttrs, NixPath

    t = type(value)
    if value is None or t is bool or t is str or t is float:
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, int):
        if not _INT_MIN <= value <= _INT_MAX:
            raise ValueError(f"integer {value} is outside Nix's 64-bit range")
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, PurePath):
        if not value.is_absolute():
            raise ValueError(f"Nix paths are absolute, got {value}")
        return NixPath(value.as_posix())
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return NixAttrs({f.name: to_nix(getattr(value, f.name)) for f in dataclasses.fields(value)})
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return NixAttrs({k: to_nix(x) for k, x in zip(value._fields, value, strict=True)})
    if isinstance(value, Mapping):
        out = {}
        for key, x in value.items():
            name = key.name if isinstance(key, enum.Enum) else str(key)
            out[name] = to_nix(x)
        return NixAttrs(out)
    if isinstance(value, list | tuple | set | frozenset):
        return [to_nix(x) for x in value]
    if callable(value):
        return python_function(getattr(value, "__name__", "python-function"), value)
    raise TypeError(f"cannot pass a {type(value).__name__} to Nix")


def python_function(name: str, fn: Callable[..., Any]) -> Any:
    """``fn`` as a Nix builtin function (a curried ``PrimOp``) named ``name``.

    Arguments are converted to the types ``fn`` annotates (plain Python data without an
    annotation); the result goes through :func:`to_nix`. A mistake in the arguments is a Nix
    type error; an exception raised by ``fn`` becomes a Nix evaluation error.
    """
    from tvix_eval.runtime.values import PrimOp

    from tvix_serde.decode import decoder_for

    params = [
        p
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if not params:
        raise TypeError(f"builtin {name!r} must take at least one positional argument")
    try:
        hints = inspect.get_annotations(fn, eval_str=True)
    except NameError as e:
        raise TypeError(f"cannot resolve the annotations of builtin {name!r}: {e}") from None
    except TypeError:  # a callable object without annotations of its own
        hints = {}
    decoders = [decoder_for(hints.get(p.name, Any)) for p in params]
    names = [p.name for p in params]

    def call(*args: Any) -> Any:
        from tvix_eval.errors import NixError
        from tvix_eval.runtime.errors import EvalError, TypeMismatch

        from tvix_serde.errors import EvaluationError, ShapeError

        converted = []
        for pname, decode, arg in zip(names, decoders, args, strict=True):
            try:
                converted.append(decode(arg))
            except ShapeError as e:
                raise TypeMismatch(f"builtins.{name}: argument '{pname}': {e}") from None
            except EvaluationError as e:
                raise e.nix_error from None
        try:
            result = fn(*converted)
        except NixError:
            raise
        except EvaluationError as e:
            raise e.nix_error from None
        except Exception as e:
            err = EvalError(f"builtins.{name}: {type(e).__name__}: {e}")
            raise err from e
        try:
            return to_nix(result)
        except (TypeError, ValueError) as e:
            raise EvalError(f"builtins.{name} returned a value Nix cannot hold: {e}") from e

    return PrimOp(name, len(params), call, (), inspect.getdoc(fn))
