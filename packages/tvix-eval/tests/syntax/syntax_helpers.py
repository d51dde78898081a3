"""Shared helpers of the syntax tests: hypothesis strategies that build valid
syntax trees, and an emulation of ``nix-instantiate --parse`` output (C++ Nix
2.8's ``Expr::show``) for differential tests against the real Nix."""

from __future__ import annotations

import os
import posixpath
import shutil
import subprocess
from pathlib import Path

from hypothesis import strategies as st
from tvix_eval.syntax import ast as A
from tvix_eval.syntax.lexer import KEYWORDS

SEED_TESTS = (
    Path(__file__).resolve().parents[5] / "shared" / "seed" / "tvix" / "eval" / "src" / "tests"
)
NIX = shutil.which("nix-instantiate")

_SRC = A.Source("gen", "")


def corpus_files() -> list[Path]:
    if not SEED_TESTS.is_dir():
        return []
    return sorted(SEED_TESTS.rglob("*.nix"))


def nix_parse(text: str, cwd: str) -> tuple[bool, str]:
    """Run ``nix-instantiate --parse -E text``: (ok, stdout or stderr)."""
    assert NIX is not None
    proc = subprocess.run(
        [NIX, "--parse", "-E", text],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NIX_PATH": ""},
        timeout=60,
        check=False,
    )
    if proc.returncode == 0:
        return True, proc.stdout.strip()
    return False, proc.stderr


# --- strategies --------------------------------------------------------------------

_NAMES = ["a", "b", "c", "x", "y", "foo", "bar'", "a-b", "_u", "__curPos", "true", "null"]
_ATTR_NAMES = ["a", "b", "c", "or", "if", "a b", "", "1x", "$", "${", "\\", '"q"', "é"]
_TEXT = st.text(alphabet="ab $\\{}\"'\n\t\r#/*é", max_size=8)


def _mk(cls: type, *fields: object) -> A.Expr:
    return cls(_SRC, 0, 0, *fields)  # type: ignore[no-any-return]


def _merge(parts: list[object]) -> tuple[object, ...]:
    out: list[object] = []
    for p in parts:
        if isinstance(p, str):
            if not p:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += p
                continue
        out.append(p)
    return tuple(out)


def leaves() -> st.SearchStrategy[A.Expr]:
    return st.one_of(
        st.builds(lambda v: _mk(A.Int, v), st.integers(0, 2**63 - 1)),
        st.builds(
            lambda v: _mk(A.Float, v),
            st.floats(min_value=0.0, allow_nan=False, allow_infinity=False, allow_subnormal=False),
        ),
        st.builds(lambda s: _mk(A.Str, _merge([s])), _TEXT),
        st.builds(lambda n: _mk(A.Ident, n), st.sampled_from(_NAMES)),
        st.builds(
            lambda p: _mk(A.Path, (p,)),
            st.sampled_from(["./a", "/x/y.nix", "~/a", "a/b", "../c", "./.", "/a+b/c-d"]),
        ),
        st.builds(lambda p: _mk(A.SearchPath, p), st.sampled_from(["nixpkgs", "a/b.nix"])),
        st.builds(lambda u: _mk(A.Uri, u), st.sampled_from(["http://x.org/a?b=1", "x:y"])),
    )


def _attr_name(children: st.SearchStrategy[A.Expr]) -> st.SearchStrategy[A.AttrName]:
    dynamic = children.filter(
        lambda e: (
            not isinstance(e, A.Uri)
            and not (isinstance(e, A.Str) and all(isinstance(p, str) for p in e.parts))
        )
    )
    return st.one_of(st.sampled_from(_ATTR_NAMES), dynamic)


def _unique_bindings(
    children: st.SearchStrategy[A.Expr], *, allow_dynamic: bool
) -> st.SearchStrategy[tuple[A.Binding, ...]]:
    name = _attr_name(children)

    @st.composite
    def build(draw: st.DrawFn) -> tuple[A.Binding, ...]:
        firsts = draw(st.lists(st.sampled_from(_ATTR_NAMES), unique=True, max_size=4))
        out: list[A.Binding] = []
        for first in firsts:
            kind = draw(st.integers(0, 3))
            if kind == 0:
                out.append(_mk(A.Inherit, None, (_mk(A.Ident, first),)))
            elif kind == 1:
                src = draw(children)
                out.append(_mk(A.Inherit, src, (_mk(A.Ident, first),)))
            else:
                rest = tuple(draw(st.lists(name, max_size=2)))
                out.append(_mk(A.AttrBinding, (first, *rest), draw(children)))
        if allow_dynamic and draw(st.booleans()):
            dyn = draw(name.filter(lambda n: not isinstance(n, str)))
            out.append(_mk(A.AttrBinding, (dyn,), draw(children)))
        order = draw(st.permutations(list(range(len(out)))))
        return tuple(out[i] for i in order)

    return build()


def _formals(children: st.SearchStrategy[A.Expr]) -> st.SearchStrategy[A.Formals]:
    @st.composite
    def build(draw: st.DrawFn) -> A.Formals:
        names = draw(st.lists(st.sampled_from(["p", "q", "r", "s"]), unique=True, max_size=3))
        entries = tuple(
            _mk(A.Formal, n, draw(st.none() | children))
            for n in names  # type: ignore[arg-type]
        )
        at = draw(st.none() | st.sampled_from(["args", "all"]))
        before = at is not None and draw(st.booleans())
        return _mk(A.Formals, entries, draw(st.booleans()), at, before)  # type: ignore[return-value]

    return build()


def _extend(children: st.SearchStrategy[A.Expr]) -> st.SearchStrategy[A.Expr]:
    path = st.lists(_attr_name(children), min_size=1, max_size=3).map(tuple)
    binop = st.sampled_from(sorted(A.BINARY_OPERATORS))
    str_parts = st.lists(st.one_of(_TEXT, children), max_size=4).map(_merge)
    interp_path = st.builds(
        lambda head, e, tail: _mk(A.Path, _merge([head, e, tail])),
        st.sampled_from(["./a/", "/x/", "~/", "a/b/"]),
        children,
        st.sampled_from(["", ".nix", "/c", "-d"]),
    )
    return st.one_of(
        st.builds(lambda e, p, d: _mk(A.Select, e, p, d), children, path, st.none() | children),
        st.builds(lambda e, p: _mk(A.HasAttr, e, p), children, path),
        st.builds(
            lambda r, b: _mk(A.AttrSet, r, b),
            st.booleans(),
            _unique_bindings(children, allow_dynamic=True),
        ),
        st.builds(
            lambda b, e: _mk(A.Let, b, e), _unique_bindings(children, allow_dynamic=False), children
        ),
        st.builds(lambda b: _mk(A.LegacyLet, b), _unique_bindings(children, allow_dynamic=True)),
        st.builds(lambda a, b: _mk(A.With, a, b), children, children),
        st.builds(lambda a, b: _mk(A.Assert, a, b), children, children),
        st.builds(lambda a, b, c: _mk(A.If, a, b, c), children, children, children),
        st.builds(
            lambda p, b: _mk(A.Lambda, p, b),
            st.one_of(
                st.builds(lambda n: _mk(A.Ident, n), st.sampled_from(_NAMES)), _formals(children)
            ),
            children,
        ),
        st.builds(lambda f, a: _mk(A.Apply, f, a), children, children),
        st.builds(lambda f: _mk(A.Apply, f, _mk(A.Ident, "or")), children),
        st.builds(lambda o, e: _mk(A.UnaryOp, o, e), st.sampled_from(["-", "!"]), children),
        st.builds(lambda o, a, b: _mk(A.BinOp, o, a, b), binop, children, children),
        st.builds(lambda xs: _mk(A.List, tuple(xs)), st.lists(children, max_size=3)),
        st.builds(lambda ps: _mk(A.Str, ps), str_parts),
        interp_path,
    )


def exprs(max_leaves: int = 12) -> st.SearchStrategy[A.Expr]:
    """Random valid syntax trees (what some Nix source parses to)."""
    return st.recursive(leaves(), _extend, max_leaves=max_leaves)


# Token soup for robustness: both parsers must agree or both reject.
TOKENS = [
    "a", "b", "or", "if", "then", "else", "let", "in", "rec", "inherit", "with", "assert",
    "1", "2.5", ".5", "\"s\"", "\"${", "}", "{", "[", "]", "(", ")", ";", ":", ",", "@", "?",
    "=", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "->", "//", "++", "+", "-", "*", "/",
    "!", ".", "...", "./p", "/a/b", "~/h", "<n>", "x:y", "''", "${", "#c\n", "/*c*/", "$",
    "'", "\"", "\\", "a/", "./a/${", "http://u",
]  # fmt: skip


# --- C++ Nix 2.8 `Expr::show` --------------------------------------------------------


def _show_string(s: str) -> str:
    out = ['"']
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif c == "$":
            out.append("\\$")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _ident(s: str) -> str:
    if not s:
        return '""'
    if s == "if":
        return '"if"'
    ok_first = s[0].isascii() and (s[0].isalpha() or s[0] == "_")
    if not ok_first or not all(c.isascii() and (c.isalnum() or c in "_'-") for c in s):
        return _show_string(s)
    return s


def _canon(p: str) -> str:
    p = posixpath.normpath(p)
    return "/" if p.startswith("//") and p.strip("/") == "" else p.replace("//", "/")


class NixShow:
    """Render a tree the way ``nix-instantiate --parse`` prints it."""

    def __init__(self, base_dir: str, home: str) -> None:
        self.base = base_dir
        self.home = home

    def path_literal(self, text: str) -> str:
        if text.startswith("~"):
            return self.home + text[1:]
        trailing = text.endswith("/") and len(text) > 1
        p = text if text.startswith("/") else self.base + "/" + text
        p = _canon(p)
        return p + "/" if trailing and p != "/" else p

    def attr_path(self, path: tuple[A.AttrName, ...]) -> str:
        return ".".join(
            _ident(p) if isinstance(p, str) else '"${' + self.show(p) + '}"' for p in path
        )

    def call(self, e: A.Expr) -> tuple[str, list[str]] | None:
        """The (function, args) of an expression C++ Nix represents as ExprCall."""
        if isinstance(e, A.Apply):
            if isinstance(e.arg, A.Ident) and e.arg.name == "or":
                # `f or` is built by its own grammar rule, which never
                # merges into an enclosing call.
                return self.show(e.fn), ["or"]
            inner = self.call(e.fn)
            if inner is not None:
                return inner[0], [*inner[1], self.show(e.arg)]
            return self.show(e.fn), [self.show(e.arg)]
        if isinstance(e, A.SearchPath):
            return "__findFile", ["__nixPath", _show_string(e.path)]
        if isinstance(e, A.UnaryOp) and e.op == "-":
            return "__sub", ["0", self.show(e.expr)]
        if isinstance(e, A.BinOp):
            a, b = e.lhs, e.rhs
            fn = {"-": "__sub", "*": "__mul", "/": "__div", "<": "__lessThan", ">": "__lessThan"}
            if e.op in fn:
                if e.op == ">":
                    a, b = b, a
                return fn[e.op], [self.show(a), self.show(b)]
        return None

    def attrs(self, rec: bool, bindings: tuple[A.Binding, ...], let: bool = False) -> str:
        static, dynamic = self.merge(bindings)
        out = []
        for name in sorted(static, key=lambda n: n.encode()):
            kind, value = static[name]
            if kind == "inherit":
                out.append(f"inherit {_ident(name)}; " if let else f"inherit {_ident(name)} ; ")
            else:
                out.append(f"{_ident(name)} = {self.value(value)}; ")
        for key, value in dynamic:
            out.append(f'"${{{self.show(key)}}}" = {self.value(value)}; ')
        body = "".join(out)
        if let:
            return body
        return ("rec " if rec else "") + "{ " + body + "}"

    def value(self, v: object) -> str:
        if isinstance(v, tuple) and v and v[0] == "attrs":
            return self.attrs(v[1], v[2])  # type: ignore[arg-type]
        if isinstance(v, tuple) and v and v[0] == "merged":
            _, rec, static, dynamic = v
            return self.attrs_from(rec, static, dynamic)
        return self.show(v)  # type: ignore[arg-type]

    def attrs_from(self, rec: bool, static: dict[str, object], dynamic: list[object]) -> str:
        out = []
        for name in sorted(static, key=lambda n: n.encode()):
            kind, value = static[name]  # type: ignore[misc]
            if kind == "inherit":
                out.append(f"inherit {_ident(name)} ; ")
            else:
                out.append(f"{_ident(name)} = {self.value(value)}; ")
        for key, value in dynamic:  # type: ignore[misc]
            out.append(f'"${{{self.show(key)}}}" = {self.value(value)}; ')
        return ("rec " if rec else "") + "{ " + "".join(out) + "}"

    def merge(self, bindings: tuple[A.Binding, ...]) -> tuple[dict[str, object], list[object]]:
        """C++ Nix's addAttr: nested keys become nested sets, literal sets merge."""
        static: dict[str, object] = {}
        dynamic: list[object] = []

        def table_of(value: A.Expr) -> object:
            s, d = self.merge(value.bindings)  # type: ignore[union-attr]
            return ("merged", value.rec, s, d)  # type: ignore[union-attr]

        for b in bindings:
            if isinstance(b, A.Inherit):
                for ident in b.names:
                    if b.from_expr is None:
                        static[ident.name] = ("inherit", None)
                    else:
                        static[ident.name] = (
                            "value",
                            _mk(A.Select, b.from_expr, (ident.name,), None),
                        )
                continue
            cur_static, cur_dynamic = static, dynamic
            for elem in b.path[:-1]:
                if isinstance(elem, str):
                    if elem in cur_static:
                        holder = cur_static[elem][1]  # type: ignore[index]
                        if isinstance(holder, A.AttrSet):
                            holder = table_of(holder)
                            cur_static[elem] = ("value", holder)
                    else:
                        holder = ("merged", False, {}, [])
                        cur_static[elem] = ("value", holder)
                    cur_static, cur_dynamic = holder[2], holder[3]  # type: ignore[index]
                else:
                    holder = ("merged", False, {}, [])
                    cur_dynamic.append((elem, holder))
                    cur_static, cur_dynamic = holder[2], holder[3]
            last = b.path[-1]
            if isinstance(last, str):
                if last in cur_static:
                    holder = cur_static[last][1]  # type: ignore[index]
                    if isinstance(holder, A.AttrSet):
                        holder = table_of(holder)
                        cur_static[last] = ("value", holder)
                    incoming = table_of(b.value)
                    holder[2].update(incoming[2])  # type: ignore[index]
                else:
                    cur_static[last] = ("value", b.value)
            else:
                cur_dynamic.append((last, b.value))
        return static, dynamic

    def show(self, e: A.Expr) -> str:
        c = self.call(e)
        if c is not None:
            text = "(" + " ".join([c[0], *c[1]]) + ")"
            if isinstance(e, A.BinOp) and e.op in ("<=", ">="):
                a, b = (e.rhs, e.lhs) if e.op == "<=" else (e.lhs, e.rhs)
                return f"(! (__lessThan {self.show(a)} {self.show(b)}))"
            return text
        if isinstance(e, A.BinOp) and e.op in ("<=", ">="):
            a, b = (e.rhs, e.lhs) if e.op == "<=" else (e.lhs, e.rhs)
            return f"(! (__lessThan {self.show(a)} {self.show(b)}))"
        if isinstance(e, A.Int):
            return str(e.value)
        if isinstance(e, A.Float):
            return f"{e.value:g}"
        if isinstance(e, A.Ident):
            return e.name
        if isinstance(e, A.Str):
            if all(isinstance(p, str) for p in e.parts):
                return _show_string(e.parts[0] if e.parts else "")  # type: ignore[arg-type]
            return (
                "("
                + " + ".join(
                    _show_string(p) if isinstance(p, str) else self.show(p) for p in e.parts
                )
                + ")"
            )
        if isinstance(e, A.Path):
            first = self.path_literal(e.parts[0])  # type: ignore[arg-type]
            if len(e.parts) == 1:
                return first
            return (
                "("
                + " + ".join(
                    [first]
                    + [_show_string(p) if isinstance(p, str) else self.show(p) for p in e.parts[1:]]
                )
                + ")"
            )
        if isinstance(e, A.Uri):
            return _show_string(e.value)
        if isinstance(e, A.Select):
            text = f"({self.show(e.expr)}).{self.attr_path(e.path)}"
            if e.default is not None:
                text += f" or ({self.show(e.default)})"
            return text
        if isinstance(e, A.HasAttr):
            return f"(({self.show(e.expr)}) ? {self.attr_path(e.path)})"
        if isinstance(e, A.AttrSet):
            return self.attrs(e.rec, e.bindings)
        if isinstance(e, A.LegacyLet):
            return f"({self.attrs(True, e.bindings)}).body"
        if isinstance(e, A.Let):
            return f"(let {self.attrs(False, e.bindings, let=True)}in {self.show(e.body)})"
        if isinstance(e, A.With):
            return f"(with {self.show(e.env)}; {self.show(e.body)})"
        if isinstance(e, A.Assert):
            return f"assert {self.show(e.cond)}; {self.show(e.body)}"
        if isinstance(e, A.If):
            return f"(if {self.show(e.cond)} then {self.show(e.then_)} else {self.show(e.else_)})"
        if isinstance(e, A.Lambda):
            if isinstance(e.param, A.Ident):
                return f"({e.param.name}: {self.show(e.body)})"
            f = e.param
            items = [
                x.name + ("" if x.default is None else f" ? {self.show(x.default)}")
                for x in f.entries
            ]
            if f.ellipsis:
                items.append("...")
            head = "{ " + ", ".join(items) + " }"
            if f.at_name is not None:
                head += f" @ {f.at_name}"
            return f"({head}: {self.show(e.body)})"
        if isinstance(e, A.UnaryOp):
            return f"(! {self.show(e.expr)})"
        if isinstance(e, A.BinOp):
            return f"({self.show(e.lhs)} {e.op} {self.show(e.rhs)})"
        if isinstance(e, A.List):
            return "[ " + "".join(f"({self.show(x)}) " for x in e.items) + "]"
        raise TypeError(e)


__all__ = [
    "NIX",
    "SEED_TESTS",
    "TOKENS",
    "NixShow",
    "_ident",
    "corpus_files",
    "exprs",
    "nix_parse",
]
_ = KEYWORDS
