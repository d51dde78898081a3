"""What ``nix-instantiate`` does with a top-level value: resolve the file argument, follow
``-A`` attribute paths, call functions with the ``--arg`` set, and collect derivations.

These follow C++ Nix 2.8 (``findAlongAttrPath``, ``autoCallFunction``, ``getDerivations``)
including their error texts. They run on the evaluation thread.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from tvix_eval.runtime.errors import EvalError, TypeMismatch
from tvix_eval.runtime.ops import call_value, expect_bool, is_derivation
from tvix_eval.runtime.values import Lambda, NixAttrs, Value, force, show_type

_MISSING_ARGUMENT = """cannot evaluate a function that has an argument without a value ('{name}')

       Nix attempted to evaluate a function as a top level expression; in
       this case it must have its arguments supplied either by default
       values, or passed explicitly with '--arg' or '--argstr'. See
       https://nixos.org/manual/nix/stable/#ss-functions."""

_ATTR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9-_+]*\Z")


class UsageError(Exception):
    """A mistake on the command line (not in Nix code); exit status 1 with ``error: …``."""


def resolve_file(arg: str, cwd: str | None = None) -> str:
    """The file a command-line path names; a directory means its ``default.nix``."""
    path = os.path.normpath(os.path.join(cwd or os.getcwd(), arg))
    if not os.path.lexists(path):
        raise UsageError(f"getting status of '{path}': No such file or directory")
    real = os.path.realpath(path)
    if os.path.isdir(real):
        path = os.path.join(path, "default.nix")
        if not os.path.exists(path):
            raise UsageError(f"getting status of '{path}': No such file or directory")
    return path


def parse_attr_path(path: str) -> list[str]:
    """Split ``a.b."c.d".0`` into components (quotes group dots)."""
    out: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(path):
        c = path[i]
        if c == ".":
            out.append("".join(current))
            current = []
        elif c == '"':
            i += 1
            while i < len(path) and path[i] != '"':
                current.append(path[i])
                i += 1
            if i >= len(path):
                raise UsageError(f"missing closing quote in selection path '{path}'")
        else:
            current.append(c)
        i += 1
    if current:
        out.append("".join(current))
    return out


def auto_call(fun: Value, args: NixAttrs) -> Value:
    """``autoCallFunction``: call a function with formals using the ``--arg`` set."""
    fun = force(fun)
    if type(fun) is NixAttrs:
        functor = fun.d.get("__functor")
        if functor is not None:
            return auto_call(call_value(functor, fun), args)
    if type(fun) is not Lambda or fun.formals is None:
        return fun
    formals = fun.formals
    if formals.ellipsis:
        chosen = dict(args.d)
    else:
        chosen = {}
        for name, has_default in formals.names.items():
            if name in args.d:
                chosen[name] = args.d[name]
            elif not has_default:
                raise EvalError(_MISSING_ARGUMENT.format(name=name), _formal_pos(fun, name))
    return force(call_value(fun, NixAttrs(chosen)))


def _formal_pos(fun: Lambda, name: str) -> object:
    """The position of formal ``name`` in the lambda's pattern (Nix points there)."""
    entries = getattr(getattr(fun.pos, "param", None), "entries", None) or ()
    for entry in entries:
        if getattr(entry, "name", None) == name:
            return entry
    return fun.pos


def find_along_attr_path(root: Value, attr_path: str, args: NixAttrs) -> Value:
    """``findAlongAttrPath``: select ``attr_path`` in ``root``, auto-calling on the way."""
    v = root
    for attr in parse_attr_path(attr_path):
        index = int(attr) if attr.isdigit() else None
        v = auto_call(v, args)
        if index is None:
            if type(v) is not NixAttrs:
                raise TypeMismatch(
                    f"the expression selected by the selection path '{attr_path}' should be a "
                    f"set but is {show_type(v)}"
                )
            if not attr:
                raise EvalError(f"empty attribute name in selection path '{attr_path}'")
            if attr not in v.d:
                raise EvalError(
                    f"attribute '{attr}' in selection path '{attr_path}' not found"
                    + _suggestion(attr, v.sorted_keys())
                )
            v = v.d[attr]
        else:
            if type(v) is not list:
                raise TypeMismatch(
                    f"the expression selected by the selection path '{attr_path}' should be a "
                    f"list but is {show_type(v)}"
                )
            if index >= len(v):
                raise EvalError(
                    f"list index {index} in selection path '{attr_path}' is out of range"
                )
            v = v[index]
    return force(v)


def _suggestion(wanted: str, names: list[str]) -> str:
    """Nix's "Did you mean …?" line: up to 5 names within edit distance 2."""
    scored = sorted((_distance(wanted, name), name) for name in names)
    best = [name for d, name in scored if d <= 2][:5]
    if not best:
        return ""
    if len(best) == 1:
        return f"\n       Did you mean {best[0]}?"
    return (
        "\n       Did you mean one of " + "".join(f"{n}, " for n in best[:-1]) + f"or {best[-1]}?"
    )


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


@dataclass(frozen=True)
class FoundDerivation:
    """One derivation ``nix-instantiate`` prints: its ``.drv`` path and wanted output."""

    drv_path: str
    output_name: str


def get_derivations(value: Value, args: NixAttrs) -> list[FoundDerivation]:
    """``getDerivations``: the derivations a value is or contains (top-level sets, lists, and
    sets marked ``recurseForDerivations``)."""
    found: list[FoundDerivation] = []
    done: set[int] = set()
    _collect(value, args, found, done)
    return found


def _is_leaf(v: Value, found: list[FoundDerivation], done: set[int]) -> bool:
    """``getDerivation``: records ``v`` if it is a derivation; True if the caller may recurse."""
    v = force(v)
    if type(v) is not NixAttrs or not is_derivation(v):
        return True
    name = v.d.get("name")
    if name is None:
        raise TypeMismatch("derivation name missing")
    if not isinstance(force(name), str):
        raise TypeMismatch(f"value is {show_type(force(name))} while a string was expected")
    if id(v) in done:
        return False
    done.add(id(v))
    drv_path = v.d.get("drvPath")
    if drv_path is None:
        raise EvalError("attribute 'drvPath' missing")
    path = force(drv_path)
    if not isinstance(path, str):
        raise TypeMismatch(f"value is {show_type(path)} while a string was expected")
    output = v.d.get("outputName")
    output_name = ""
    if output is not None:
        out_value = force(output)
        if isinstance(out_value, str):
            output_name = str.__str__(out_value)
    if not output_name:
        raise EvalError(f"derivation '{path}' lacks an 'outputName' attribute")
    found.append(FoundDerivation(str.__str__(path), output_name))
    return False


def _collect(v_in: Value, args: NixAttrs, found: list[FoundDerivation], done: set[int]) -> None:
    v = auto_call(v_in, args)
    if not _is_leaf(v, found, done):
        return
    if type(v) is NixAttrs:
        combine = "_combineChannels" in v.d
        for name, item in v.sorted_items():
            if not _ATTR_NAME.match(name):
                continue
            if combine:
                _collect(item, args, found, done)
            elif _is_leaf(item, found, done):
                forced = force(item)
                if type(forced) is NixAttrs:
                    flag = forced.d.get("recurseForDerivations")
                    if flag is not None and expect_bool(force(flag)):
                        _collect(forced, args, found, done)
    elif type(v) is list:
        for item in v:
            if _is_leaf(item, found, done):
                _collect(item, args, found, done)
    else:
        raise TypeMismatch(
            "expression does not evaluate to a derivation (or a set or list of those)"
        )
