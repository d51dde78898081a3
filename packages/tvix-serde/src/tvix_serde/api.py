"""``loads``, ``load`` and ``load_file``: Nix source in, Python values out.

Each call evaluates with a fresh evaluator: pure by default (no environment, no clock; files
only below the loaded file's directory and the search path), then converts the result with the
decoder of the target type, forcing only what that type needs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import IO, TYPE_CHECKING, Any, TypeVar, overload

from tvix_serde.errors import EvaluationError, ShapeError, UnknownAttributeError
from tvix_serde.extensions import Builtins

if TYPE_CHECKING:
    from typing import TypedDict, Unpack

    from tvix_eval.api import Evaluator
    from tvix_eval.io import EvalIO

    class _FileOptions(TypedDict, total=False):
        """The keyword arguments of :func:`load_file` (see :func:`loads`)."""

        pure: bool
        search_path: Iterable[str]
        builtins: BuiltinsSpec
        ignore_unknown_keys: bool
        io: EvalIO | None

    class _Options(_FileOptions, total=False):
        """The keyword arguments of :func:`loads` and :func:`load`."""

        path: str | os.PathLike[str] | None


T = TypeVar("T")

BuiltinsSpec = Builtins | Mapping[str, Any] | None


@overload
def loads(source: str | bytes, into: type[T], **options: Unpack[_Options]) -> T: ...


@overload
def loads(source: str | bytes, into: object = None, **options: Unpack[_Options]) -> Any: ...


def loads(
    source: str | bytes,
    into: object = None,
    *,
    path: str | os.PathLike[str] | None = None,
    pure: bool = True,
    search_path: Iterable[str] = (),
    builtins: BuiltinsSpec = None,
    ignore_unknown_keys: bool = False,
    io: EvalIO | None = None,
) -> Any:
    """Evaluate the Nix expression ``source`` and convert its value.

    Without ``into`` the result is plain Python data (``dict``, ``list``, ``str``, ``int``,
    ``float``, ``bool``, ``None``; paths as :class:`pathlib.PurePosixPath`). With ``into`` (a
    dataclass, ``TypedDict``, ``NamedTuple``, ``Enum``, ``list[T]``, ``dict[str, T]``, a union…)
    it is an instance of that type, and only the values it needs are evaluated.

    ``path`` is the file the source came from (relative paths and error messages use it);
    ``pure=False`` allows the whole file system and impure builtins (``getEnv``…);
    ``search_path`` gives ``<name>`` lookups (``["nixpkgs=/src/nixpkgs"]``); ``builtins`` adds
    ``builtins.<name>`` (see :class:`Builtins`); ``ignore_unknown_keys`` accepts attributes the
    target type does not declare; ``io`` replaces the file access policy altogether.

    Raises :class:`EvaluationError` when the Nix code fails and :class:`ShapeError` when its
    value does not fit ``into``.
    """
    from tvix_serde.decode import Options, decoder_for

    if isinstance(source, bytes):
        source = source.decode("utf-8")
    file = os.path.abspath(os.fspath(path)) if path is not None else None
    decoder = decoder_for(Any if into is None else into, Options(ignore_unknown_keys))
    search = list(search_path)
    evaluator = _evaluator(file, pure=pure, search_path=search, io=io)
    Builtins.of(builtins).install(evaluator)
    return _run(evaluator, source, file, decoder)


@overload
def load(fp: IO[str] | IO[bytes], into: type[T], **options: Unpack[_Options]) -> T: ...


@overload
def load(fp: IO[str] | IO[bytes], into: object = None, **options: Unpack[_Options]) -> Any: ...


def load(fp: IO[str] | IO[bytes], into: object = None, **options: Unpack[_Options]) -> Any:
    """Like :func:`loads`, reading the source from an open text or binary file; the file's name
    (when it has one) is the ``path``."""
    if options.get("path") is None:
        name = getattr(fp, "name", None)
        if isinstance(name, str) and not name.startswith("<"):
            options["path"] = name
    return loads(fp.read(), into, **options)


@overload
def load_file(
    path: str | os.PathLike[str], into: type[T], **options: Unpack[_FileOptions]
) -> T: ...


@overload
def load_file(
    path: str | os.PathLike[str], into: object = None, **options: Unpack[_FileOptions]
) -> Any: ...


def load_file(
    path: str | os.PathLike[str], into: object = None, **options: Unpack[_FileOptions]
) -> Any:
    """Like :func:`loads`, for the Nix file at ``path`` (``OSError`` if it cannot be read)."""
    with open(path, "rb") as f:
        data = f.read()
    return loads(data, into, path=path, **options)


def _evaluator(
    file: str | None, *, pure: bool, search_path: list[str], io: EvalIO | None
) -> Evaluator:
    from tvix_eval.api import Evaluator, parse_search_path

    if io is None and pure and (file is not None or search_path):
        from tvix_serde.restricted_io import RestrictedIO

        roots = [p for _, p in parse_search_path(search_path) if "://" not in p]
        if file is not None:
            roots.append(os.path.dirname(file))
        io = RestrictedIO(roots)
    return Evaluator(io=io, search_path=search_path, impure=not pure)


def _run(evaluator: Evaluator, source: str, file: str | None, decoder: Any) -> Any:
    from tvix_eval.errors import NixError

    try:
        value = evaluator.evaluate(source, path=file)
    except NixError as e:
        raise EvaluationError(e) from None

    def convert() -> tuple[bool, Any]:
        # Exceptions travel back as values: Evaluator.run would report a non-Nix exception (a
        # shape error, or a bug in a user's __post_init__) as an internal evaluator error.
        try:
            return True, decoder(value)
        except NixError as e:
            return False, EvaluationError(e)
        except RecursionError:
            raise
        except Exception as e:
            return False, e

    try:
        ok, result = evaluator.run(convert)
    except NixError as e:
        raise EvaluationError(e) from None
    if ok:
        return result
    if isinstance(result, ShapeError):
        _add_location(result, source, file)
    raise result


def _add_location(error: ShapeError, source: str, file: str | None) -> None:
    from tvix_serde.locate import locate

    span = locate(source, file, error.path, name=isinstance(error, UnknownAttributeError))
    if span is not None:
        error.set_span(span)
