"""Building the Python source of generated code: functions, blocks, temporaries, constants.

A :class:`Unit` is what one compilation produces (a lambda's body and the thunks inside it): a
set of Python functions sharing one namespace, which holds every run-time object the source
refers to by name (syntax nodes for errors, builtins, constants that have no literal).
"""

from __future__ import annotations

import re
from typing import Any

#: where :meth:`Fn.parent` left a parent frame to be decided
_PLACEHOLDER = re.compile("\x00P[0-9]+\x00")
#: constants written into the source as literals (everything else goes into the namespace)
_LITERAL_TYPES = (bool, int, type(None))
#: longer strings are bound in the namespace, which keeps the source (and its compilation) small
_MAX_LITERAL_STR = 120


class Unit:
    """The functions of one compilation and the namespace they run in."""

    def __init__(self, filename: str, base: dict[str, Any]) -> None:
        self.filename = filename
        self.ns: dict[str, Any] = dict(base)
        self.fns: list[Fn] = []
        self._consts: dict[int, str] = {}
        self._names = 0

    def name(self, prefix: str) -> str:
        """A fresh name for a function or namespace entry."""
        self._names += 1
        return f"{prefix}{self._names}"

    def bind(self, value: Any, prefix: str = "K") -> str:
        """The name under which ``value`` is reachable from the source (bound once per object)."""
        key = id(value)
        name = self._consts.get(key)
        if name is None:
            name = self._consts[key] = self.name(prefix)
            self.ns[name] = value
        return name

    def literal(self, value: Any) -> str:
        """Source for a constant: a literal where Python has one, else a namespace name."""
        t = type(value)
        if t in _LITERAL_TYPES:
            return repr(value)
        if t is str and len(value) <= _MAX_LITERAL_STR:
            return repr(value)
        return self.bind(value)

    def new_fn(self, prefix: str, params: str) -> Fn:
        fn = Fn(self, self.name(prefix), params)
        self.fns.append(fn)
        return fn

    def source(self) -> str:
        return "\n".join(fn.source() for fn in self.fns)

    def build(self, cache: str | None = None) -> dict[str, Any]:
        """Compile and run the source; returns the namespace with every function in it.
        ``cache``: the directory of compiled code kept between runs (see code_cache)."""
        from tvix_eval.compiler.code_cache import compiled

        exec(compiled(self.source(), self.filename, cache), self.ns)
        return self.ns


class Fn:
    """One generated function: a prologue (parent frames it reads) and a body of lines."""

    def __init__(self, unit: Unit, name: str, params: str) -> None:
        self.unit = unit
        self.name = name
        self.params = params
        self.lines: list[str] = []
        self._depth = 1
        self._temps = 0
        #: how often the body reads the frame ``k`` levels above ``frame``, by ``k``
        self._parent_uses: dict[int, int] = {}
        #: where those reads go: at entry, or once the function has made ``frame`` itself
        self._frame_ready = 0
        #: what the code emitted so far has computed, valid in what is emitted after it in the
        #: same block or a block inside it (e.g. ``frame[1]`` forced, in local ``v3``): one
        #: dict per open block
        self._facts: list[dict[str, str]] = [{}]

    def line(self, text: str) -> None:
        self.lines.append("    " * self._depth + text)

    def temp(self, prefix: str = "v") -> str:
        """A fresh local variable name."""
        self._temps += 1
        return f"{prefix}{self._temps}"

    def parent(self, k: int) -> str:
        """An expression for the frame ``k`` levels above ``frame``: a local read at entry
        when the body uses it more than once, else the chain ``frame[0][0]…`` in place
        (decided in :meth:`source`)."""
        self._parent_uses[k] = self._parent_uses.get(k, 0) + 1
        return f"\x00P{k}\x00"

    def frame_ready(self) -> None:
        """Mark the point where ``frame`` exists (for functions that build their own)."""
        self._frame_ready = len(self.lines)

    def known(self, key: str) -> str | None:
        """The local holding ``key``'s value, if code that always runs before this point
        computed it."""
        for facts in reversed(self._facts):
            found = facts.get(key)
            if found is not None:
                return found
        return None

    def learn(self, key: str, local: str) -> None:
        """Record that ``local`` now holds ``key``'s value (for the rest of this block)."""
        self._facts[-1][key] = local

    def block(self, header: str) -> _Block:
        """An indented block (``if …``, ``try``, ``else``…), as a ``with`` statement; an
        empty one gets ``pass``. What it learns is forgotten after it (it may not run, or not
        to its end)."""
        self.line(header + ":")
        return _Block(self)

    def source(self) -> str:
        reads = []
        expression = {}
        nearest = (0, "frame")  # the deepest frame held in a local so far, and its local
        for k in range(1, max(self._parent_uses, default=0) + 1):
            j, local = nearest
            chain = local + "[0]" * (k - j)
            if self._parent_uses.get(k, 0) > 1:
                reads.append(f"    p{k} = {chain}")
                nearest = (k, f"p{k}")
                chain = f"p{k}"
            expression[f"\x00P{k}\x00"] = chain
        at = self._frame_ready
        lines = self.lines[:at] + reads + self.lines[at:]
        text = "\n".join([f"def {self.name}({self.params}):", *lines]) + "\n"
        if expression:
            text = _PLACEHOLDER.sub(lambda m: expression[m.group(0)], text)
        return text


class _Block:
    """The ``with`` of :meth:`Fn.block` (a class: generated code has tens of thousands of
    blocks, and a generator-based context manager costs several times as much)."""

    __slots__ = ("_before", "_fn")

    def __init__(self, fn: Fn) -> None:
        self._fn = fn
        self._before = 0

    def __enter__(self) -> None:
        fn = self._fn
        fn._depth += 1
        fn._facts.append({})
        self._before = len(fn.lines)

    def __exit__(self, *exc: object) -> None:
        fn = self._fn
        if len(fn.lines) == self._before:
            fn.line("pass")
        fn._facts.pop()
        fn._depth -= 1
