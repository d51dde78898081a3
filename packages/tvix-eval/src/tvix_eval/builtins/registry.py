"""How builtins are declared.

Contract for builtin authors
============================

A builtin is a plain Python function registered with :func:`builtin`::

    from tvix_eval.builtins.registry import builtin
    from tvix_eval.runtime.ops import expect_list, call_value, lazy_call

    @builtin("map", arity=2, global_=True)
    def _map(f: Value, xs: Value) -> Value:
        return [lazy_call(f, x) for x in expect_list(xs)]

* ``arity`` is the number of curried arguments. Nix code may apply a builtin partially; the
  function runs once all arguments are there.
* Arguments arrive **forced to weak head normal form** (never a :class:`Thunk`) except those whose
  index is listed in ``lazy_args``; those arrive as they are (maybe a thunk: use
  :func:`~tvix_eval.runtime.values.force`).
* Values inside lists and sets may be thunks; force them (``force``, ``expect_*`` in
  :mod:`tvix_eval.runtime.ops`) before looking at them. Return a forced value (not a thunk); list
  elements and attribute values of the result may be thunks (``lazy_call`` makes ``f x`` lazily).
* The value representation is documented in :mod:`tvix_eval.runtime.values`. Build sets with
  ``NixAttrs(dict)``, strings with context with ``make_string``/``NixString``.
* Errors: raise a :class:`~tvix_eval.runtime.errors.EvalError` (or a subclass) with C++ Nix's
  message text, without the ``error:`` prefix; the call site adds the position. ``TypeMismatch``
  for wrong types (the ``expect_*`` helpers raise it with Nix's wording), ``ThrownError`` only
  for ``throw``-like catchable failures. Never let a Python exception (KeyError, ValueError…)
  escape for something a Nix program did.
* Never force values from inside ``__eq__``/``__hash__``/``__lt__`` or a ``key=`` function; write
  explicit loops that call the runtime helpers (deep Nix recursion depends on it).
* ``global_=True`` also binds the name without the ``builtins.`` prefix (``map``, ``toString``…).
* Constant values (``builtins.nixVersion``) are registered with :func:`constant`; a constant whose
  value depends on the evaluation (``currentTime``) takes a factory receiving the
  :class:`~tvix_eval.runtime.context.EvalState`.
* A group module is listed in :data:`tvix_eval.builtins.EAGER_GROUPS` (imported when an
  evaluator is made: what most programs use) or has its builtins in
  :data:`tvix_eval.builtins.lazy.LAZY_BUILTINS` (imported on the first call of one of them); a
  test checks that every module of the package is one or the other and that the table matches
  what the module registers. Constants are only registered by eager groups.
* Builtins that touch files or the store go through ``tvix_eval.runtime.context.current().io``.
* Impure-only builtins (``getEnv``, ``currentTime``…) pass ``impure=True``; they are left out of
  pure evaluations.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])


class BuiltinSpec:
    """One registered builtin function."""

    __slots__ = ("arity", "doc", "fn", "global_", "impure", "lazy_args", "name")

    def __init__(
        self,
        name: str,
        arity: int,
        fn: Callable[..., Any],
        *,
        lazy_args: tuple[int, ...],
        global_: bool,
        impure: bool,
        doc: str | None,
    ) -> None:
        self.name = name
        self.arity = arity
        self.fn = fn
        self.lazy_args = lazy_args
        self.global_ = global_
        self.impure = impure
        self.doc = doc

    def __repr__(self) -> str:
        return f"BuiltinSpec({self.name!r}, arity={self.arity}, lazy_args={self.lazy_args})"


class ConstantSpec:
    """One registered builtin constant; ``factory`` gets the EvalState."""

    __slots__ = ("factory", "global_", "impure", "name")

    def __init__(
        self, name: str, factory: Callable[[Any], Any], *, global_: bool, impure: bool
    ) -> None:
        self.name = name
        self.factory = factory
        self.global_ = global_
        self.impure = impure

    def __repr__(self) -> str:
        return f"ConstantSpec({self.name!r})"


REGISTRY: dict[str, BuiltinSpec] = {}
CONSTANTS: dict[str, ConstantSpec] = {}


def builtin(
    name: str,
    arity: int,
    *,
    lazy_args: tuple[int, ...] = (),
    global_: bool = False,
    impure: bool = False,
) -> Callable[[F], F]:
    """Register the decorated function as ``builtins.<name>``."""

    def register(fn: F) -> F:
        REGISTRY[name] = BuiltinSpec(
            name,
            arity,
            fn,
            lazy_args=tuple(lazy_args),
            global_=global_,
            impure=impure,
            doc=(fn.__doc__ or "").strip() or None,
        )
        return fn

    return register


def constant(
    name: str,
    value: Any = None,
    *,
    factory: Callable[[Any], Any] | None = None,
    global_: bool = False,
    impure: bool = False,
) -> None:
    """Register ``builtins.<name>`` as a constant ``value`` (or ``factory(state)``)."""
    if factory is None:

        def factory(_state: Any, _v: Any = value) -> Any:
            return _v

    CONSTANTS[name] = ConstantSpec(name, factory, global_=global_, impure=impure)
