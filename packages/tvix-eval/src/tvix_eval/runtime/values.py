"""The value representation of the evaluator.

Nix values map onto Python objects as follows; builtins and the compiled code rely on it:

=============  ==============================================================
Nix            Python
=============  ==============================================================
null           ``None``
bool           ``bool``
int            ``int`` (64-bit range enforced by the arithmetic helpers)
float          ``float``
string         ``str`` when it has no context, :class:`NixString` (a ``str``
               subclass carrying ``context``) when it has one
path           :class:`NixPath`
list           ``list`` (never mutated once built; elements may be thunks)
set            :class:`NixAttrs` (a dict plus cached sorted keys)
lambda         :class:`Lambda`
builtin        :class:`PrimOp`, partially applied: :class:`PrimOpApp`
not yet known  :class:`Thunk`
=============  ==============================================================

Any slot that may hold a thunk (list elements, attribute values, function arguments, variables)
must be passed through :func:`force` before its type is inspected. A forced value is never a thunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final, Protocol

from tvix_eval.runtime.errors import InfiniteRecursion

#: A Nix value, or a thunk that evaluates to one.
Value = Any


class NixString(str):
    """A string with a non-empty string context (the store paths it refers to).

    Context elements use C++ Nix's encoding: ``/nix/store/…`` (a plain path), ``=/nix/store/….drv``
    (a derivation and its whole closure), ``!out!/nix/store/….drv`` (one output of a derivation).
    Equality, hashing and ordering ignore the context, as in Nix.
    """

    context: frozenset[str]

    def __new__(cls, value: str, context: Iterable[str]) -> NixString:
        self = super().__new__(cls, value)
        self.context = frozenset(context)
        return self


def make_string(text: str, context: frozenset[str] | None) -> str:
    """A plain ``str`` when ``context`` is empty, a :class:`NixString` otherwise."""
    if context:
        return NixString(text, context)
    return text


def string_context(value: str) -> frozenset[str]:
    """The context of a (forced) string value; empty for plain strings."""
    if type(value) is NixString:
        return value.context
    return frozenset()


class NixPath:
    """A Nix path value: an absolute, canonical file-system path."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"NixPath({self.path!r})"


class Positions(Protocol):
    """Where the attributes of a set were defined: name -> syntax node (or ``None``)."""

    def get(self, name: str, default: Any = None, /) -> Any: ...


class NixAttrs:
    """A Nix attribute set: ``d`` maps names to values or thunks.

    The mapping never changes after construction (by convention), except that a thunk may be
    replaced by its value once forced; :meth:`sorted_keys` caches the byte-wise (= code point)
    order Nix iterates in. ``pos`` optionally maps names to the syntax nodes that defined them
    (``unsafeGetAttrPos``, XML locations); it is shared between all sets built by the same
    literal.
    """

    __slots__ = ("_keys", "d", "pos")

    def __init__(self, d: dict[str, Value], pos: Positions | None = None) -> None:
        self.d = d
        self._keys: list[str] | None = None
        self.pos = pos

    def sorted_keys(self) -> list[str]:
        """Attribute names in Nix's iteration order."""
        keys = self._keys
        if keys is None:
            keys = self._keys = sorted(self.d)
        return keys

    def sorted_items(self) -> Iterator[tuple[str, Value]]:
        """``(name, value-or-thunk)`` pairs in Nix's iteration order."""
        d = self.d
        for k in self.sorted_keys():
            yield k, d[k]

    def get(self, name: str) -> Value | None:
        """The value (or thunk) bound to ``name``, or ``None`` when absent."""
        return self.d.get(name)

    def __len__(self) -> int:
        return len(self.d)

    def __contains__(self, name: object) -> bool:
        return name in self.d

    def __repr__(self) -> str:
        return f"NixAttrs({self.sorted_keys()!r})"


EMPTY_ATTRS: Final = NixAttrs({})


class MergedPositions(tuple[Any, Any]):
    """The ``pos`` of ``a // b``: where each attribute was defined, looked up in ``b``'s
    positions first. A tuple, so that making one costs no Python call."""

    __slots__ = ()

    def get(self, name: str, default: Any = None) -> Any:
        found = self[0].get(name)
        return found if found is not None else self[1].get(name, default)


class AttrPositions(dict[str, Any]):
    """The ``pos`` mapping of the sets one literal builds, with ``node``: the span of the
    literal's ``{``, where C++ Nix reports errors about the whole set (``getAttr``,
    ``listToAttrs``, ``genericClosure``)."""

    __slots__ = ("node",)

    def __init__(self, positions: dict[str, Any], node: Any) -> None:
        super().__init__(positions)
        self.node = node


def position_file(source: Any) -> str:
    """The ``file`` C++ Nix 2.8 reports for a position (``unsafeGetAttrPos``, ``__curPos``,
    XML locations): the path of a file, or the source text itself for code given as a string
    (``-E``, stdin), whose display name is ``«…»``."""
    name: str = source.name
    return str(source.text) if name.startswith("«") else name


def set_position(attrs: NixAttrs) -> Any:
    """Where the literal that built ``attrs`` starts (its ``{``); ``None`` for other sets."""
    pos = attrs.pos
    return pos.node if type(pos) is AttrPositions else None


class Formals:
    """The pattern of a lambda ``{ a, b ? d, ... }``: names with whether they have a default,
    and (optionally) the syntax node of each."""

    __slots__ = ("ellipsis", "names", "pos")

    def __init__(
        self, names: dict[str, bool], ellipsis: bool, pos: dict[str, Any] | None = None
    ) -> None:
        self.names = names
        self.ellipsis = ellipsis
        self.pos = pos


class LambdaCode:
    """What all closures made by one lambda literal share: how to call them, and what
    ``functionArgs``, printing and error messages need to know.

    ``invoke(env, arg)`` runs the body in a fresh frame and returns the forced result. A plain
    ``x: …`` lambda (``formals`` is ``None``) also has ``body``, called with the frame
    ``[env, arg]`` (a shortcut for the hottest path), and for ``a: b: e`` ``body2``, the compiled
    ``e`` (frame ``[[env, a], b]``): calls with two arguments skip building the intermediate
    closure. The compiler may replace these functions with faster ones at any time (see
    :mod:`tvix_eval.compiler.tiering`); closures made earlier pick the new ones up.
    """

    __slots__ = ("body", "body2", "formals", "invoke", "name", "pos", "warm_up")

    def __init__(  # noqa: PLR0917 (positional: mirrors the fields)
        self,
        invoke: Callable[[Any, Value], Value],
        name: str | None,
        formals: Formals | None,
        pos: Any = None,
        body: Callable[[Any], Value] | None = None,
        body2: Callable[[Any], Value] | None = None,
    ) -> None:
        self.invoke = invoke
        self.name = name
        self.formals = formals
        self.pos = pos
        self.body = body
        self.body2 = body2
        #: compiles the faster functions now, while the compiler has not yet (a builtin about
        #: to call the lambda many times calls this first); None once compiled, or never
        self.warm_up: Callable[[], None] | None = None


class Lambda:
    """A closure: the shared :class:`LambdaCode` of its literal and the frame it was made in."""

    __slots__ = ("code", "env")

    def __init__(self, code: LambdaCode, env: Any) -> None:
        self.code = code
        self.env = env

    @property
    def name(self) -> str | None:
        """The name it was bound to where it was written (``f = x: …``), if any."""
        return self.code.name

    @property
    def formals(self) -> Formals | None:
        """The ``{ a, b ? c, … }`` pattern, or ``None`` for ``x: …``."""
        return self.code.formals

    @property
    def pos(self) -> Any:
        """The syntax node of the lambda literal."""
        return self.code.pos


class PrimOp:
    """A builtin function. ``fn`` receives ``arity`` arguments, forced unless listed in ``lazy``."""

    __slots__ = ("arity", "doc", "fn", "lazy", "name")

    def __init__(
        self,
        name: str,
        arity: int,
        fn: Callable[..., Value],
        lazy: tuple[int, ...] = (),
        doc: str | None = None,
    ) -> None:
        self.name = name
        self.arity = arity
        self.fn = fn
        self.lazy = lazy
        self.doc = doc

    def __repr__(self) -> str:
        return f"<PRIMOP {self.name}>"


class PrimOpApp:
    """A builtin applied to fewer arguments than its arity."""

    __slots__ = ("args", "primop")

    def __init__(self, primop: PrimOp, args: tuple[Value, ...]) -> None:
        self.primop = primop
        self.args = args


def _blackhole(env: Any) -> Value:
    raise InfiniteRecursion()


#: the code of a thunk while it is being evaluated (forcing it again is infinite recursion)
BLACKHOLE: Final = _blackhole


class Thunk:
    """A suspended computation ``code(env)`` evaluated at most once.

    While it runs the thunk is a blackhole: forcing it again raises ``infinite recursion
    encountered``. If the computation fails, the thunk is restored, so forcing it again re-raises.
    ``code`` must return a forced value.
    """

    __slots__ = ("code", "env", "value")

    value: Value

    def __init__(self, code: Callable[[Any], Value], env: Any) -> None:
        self.code: Callable[[Any], Value] | None = code
        self.env = env

    def force(self) -> Value:
        """Evaluate (once) and return the forced value."""
        code = self.code
        if code is None:
            return self.value
        self.code = _blackhole
        try:
            value = code(self.env)
        except BaseException:
            self.code = code
            raise
        self.value = value
        self.code = None
        self.env = None
        return value

    def is_evaluated(self) -> bool:
        """Whether the thunk already holds its value."""
        return self.code is None

    def is_blackhole(self) -> bool:
        """Whether the thunk is being evaluated right now."""
        return self.code is _blackhole

    @staticmethod
    def evaluated(value: Value) -> Thunk:
        """A thunk that already holds ``value``."""
        t = Thunk.__new__(Thunk)
        t.code = None
        t.env = None
        t.value = value
        return t


def force(v: Value) -> Value:
    """Force a value to weak head normal form."""
    if type(v) is Thunk:
        return v.force()
    return v


def type_name(v: Value) -> str:
    """The ``builtins.typeOf`` name of a forced value."""
    t = type(v)
    if t is int:
        return "int"
    if t is bool:
        return "bool"
    if v is None:
        return "null"
    if t is float:
        return "float"
    if t is str or t is NixString:
        return "string"
    if t is NixPath:
        return "path"
    if t is list:
        return "list"
    if t is NixAttrs:
        return "set"
    if t is Lambda or t is PrimOp or t is PrimOpApp:
        return "lambda"
    if t is Thunk:
        return "thunk"
    return "external"


def show_type(v: Value) -> str:
    """C++ Nix's description of a value's type in error messages ("an integer", "a set", …)."""
    t = type(v)
    if t is int:
        return "an integer"
    if t is bool:
        return "a Boolean"
    if v is None:
        return "null"
    if t is float:
        return "a float"
    if t is str or t is NixString:
        return "a string"
    if t is NixPath:
        return "a path"
    if t is list:
        return "a list"
    if t is NixAttrs:
        return "a set"
    if t is Lambda:
        return "a function"
    if t is PrimOp:
        return f"the built-in function '{v.name}'"
    if t is PrimOpApp:
        return f"the partially applied built-in function '{v.primop.name}'"
    if t is Thunk:
        return "a thunk"
    return "an external value"


def is_string(v: Value) -> bool:
    """Whether a forced value is a Nix string."""
    t = type(v)
    return t is str or t is NixString


def is_function(v: Value) -> bool:
    """Whether a forced value is a lambda or a builtin (``__functor`` sets are not)."""
    t = type(v)
    return t is Lambda or t is PrimOp or t is PrimOpApp
