"""``derivationStrict``, computed exactly as C++ Nix 2.8 does.

Inputs come from the string contexts of the attribute values (``/nix/store/…`` sources,
``!out!…drv`` outputs, ``=…drv`` whole closures); output paths from ``hashDerivationModulo``
(:mod:`nix_compat.derivation`). The ``.drv`` file goes to the store through the evaluation's
:meth:`~tvix_eval.io.EvalIO.add_text_to_store`; the derivations of one evaluation are remembered
in its :class:`~tvix_eval.known_paths.KnownPaths`. ``derivation``, C++ Nix's own Nix wrapper
around ``derivationStrict`` (:mod:`tvix_eval.corepkgs`), is set up by :mod:`.derivation_nix`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from tvix_eval.builtins import _store
from tvix_eval.builtins.derivation_nix import WARNINGS_KEY
from tvix_eval.builtins.json import to_json
from tvix_eval.builtins.registry import builtin
from tvix_eval.io import EvalIO, EvalIOError
from tvix_eval.known_paths import KnownPaths, UnknownPathError, known_paths
from tvix_eval.runtime import context as _context
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import (
    coerce_to_string,
    expect_attrs,
    expect_bool,
    expect_list,
    expect_string,
)
from tvix_eval.runtime.values import NixAttrs, NixString, Value, force, string_context

if TYPE_CHECKING:
    from tvix_eval.runtime.context import EvalState

_WHITESPACE = " \t\n\r"
_NAME_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+-._?=")


class _NixCompat:
    """The parts of nix_compat ``derivationStrict`` uses, imported once on first use: importing
    nix_compat takes tens of milliseconds that evaluations without derivations need not pay,
    and an import statement in every call costs a microsecond."""

    def __init__(self) -> None:
        from nix_compat.derivation import Derivation, Output
        from nix_compat.derivation.paths import (
            aterm_and_derivation_or_fod_hash,
            derivation_or_fod_hash,
        )
        from nix_compat.errors import NixCompatError
        from nix_compat.nixhash import ca_hash_from_output_hash
        from nix_compat.store_path import build_ca_path, build_output_path, build_text_path

        self.Derivation = Derivation
        self.Output = Output
        self.aterm_and_derivation_or_fod_hash = aterm_and_derivation_or_fod_hash
        self.derivation_or_fod_hash = derivation_or_fod_hash
        self.NixCompatError = NixCompatError
        self.ca_hash_from_output_hash = ca_hash_from_output_hash
        self.build_ca_path = build_ca_path
        self.build_output_path = build_output_path
        self.build_text_path = build_text_path


@functools.cache
def _nix_compat() -> _NixCompat:
    return _NixCompat()


# --------------------------------------------------------------------------- derivationStrict


@builtin("derivationStrict", 1, global_=True)
def derivation_strict(arg: Value) -> NixAttrs:
    """Instantiate a derivation: ``{ drvPath; <output> = path; … }`` (strictly)."""
    attrs = arg if type(arg) is NixAttrs else expect_attrs(arg)
    name_value = attrs.d.get("name")
    if name_value is None:
        raise EvalError("attribute 'name' missing for call to 'derivationStrict'")
    pos_name = _attr_pos(attrs, "name")
    try:
        drv_name = _no_context(force(name_value))
    except EvalError as e:
        e.add_trace(pos_name, "while evaluating the derivation attribute 'name'", always=True)
        raise
    structured = attrs.d.get("__structuredAttrs")
    json_attrs: dict[str, str] | None = None
    if structured is not None and expect_bool(force(structured)):
        json_attrs = {}
    ignore_nulls = False
    if "__ignoreNulls" in attrs.d:
        ignore_nulls = expect_bool(force(attrs.d["__ignoreNulls"]))
    state = _context.current()
    try:
        return _Builder(state, drv_name, pos_name).build(attrs, json_attrs, ignore_nulls)
    except EvalError as e:
        raise e.at(pos_name) from None


class _Builder:
    """One ``derivationStrict`` call: collects the derivation, then computes and writes it."""

    def __init__(self, state: EvalState, drv_name: str, pos_name: object) -> None:
        self.nc = nc = _nix_compat()
        self.state = state
        self.known: KnownPaths = known_paths(state)
        self.drv_name = drv_name
        self.pos_name = pos_name
        self.drv = nc.Derivation()
        self.context: set[str] = set()
        self.output_hash: str | None = None
        self.output_hash_algo = ""
        self.hash_mode: str | None = None
        self.outputs = ["out"]

    def set_outputs(self, names: list[str]) -> None:
        seen: list[str] = []
        for j in names:
            if j in seen:
                raise EvalError(f"duplicate derivation output '{j}'", self.pos_name)
            if j == "drv":
                raise EvalError("invalid derivation output name 'drv'", self.pos_name)
            seen.append(j)
        if not seen:
            raise EvalError("derivation cannot have an empty set of outputs", self.pos_name)
        self.outputs = seen

    def set_mode(self, s: str) -> None:
        if s not in ("recursive", "flat"):
            raise EvalError(f"invalid value '{s}' for 'outputHashMode' attribute", self.pos_name)
        self.hash_mode = s

    def build(
        self, attrs: NixAttrs, json_attrs: dict[str, str] | None, ignore_nulls: bool
    ) -> NixAttrs:
        for key, raw in attrs.sorted_items():
            if key == "__ignoreNulls":
                continue
            try:
                if ignore_nulls and force(raw) is None:
                    continue
                self._attribute(key, raw, json_attrs)
            except EvalError as e:
                e.at(_attr_pos(attrs, key))
                e.add_trace(
                    self.pos_name,
                    f"while evaluating the attribute '{key}' of the derivation '{self.drv_name}'",
                    always=True,
                )
                raise
        drv = self.drv
        if json_attrs is not None:
            body = ",".join(
                f"{json.dumps(k, ensure_ascii=False)}:{v}" for k, v in sorted(json_attrs.items())
            )
            drv.environment["__json"] = ("{" + body + "}").encode("utf-8", "surrogateescape")

        self._add_inputs()

        if not drv.builder:
            raise EvalError("required attribute 'builder' missing")
        if not drv.system:
            raise EvalError("required attribute 'system' missing")
        if self.drv_name.endswith(".drv"):
            raise EvalError("derivation names are not allowed to end in '.drv'")

        if self.output_hash is not None:
            self._fixed_output(self.output_hash)
        else:
            self._input_addressed()
        return self._finish()

    def _attribute(self, key: str, raw: Value, json_attrs: dict[str, str] | None) -> None:
        """Put one attribute into the derivation (its environment or ``__json``)."""
        drv = self.drv
        if key == "__contentAddressed" and expect_bool(force(raw)):
            raise EvalError(_experimental("ca-derivations"))
        if key == "__impure" and expect_bool(force(raw)):
            raise EvalError(_experimental("impure-derivations"))
        if key in ("__contentAddressed", "__impure"):
            return
        if key == "args":
            for item in expect_list(force(raw)):
                s = coerce_to_string(item, strong=True)
                self.context |= string_context(s)
                drv.arguments.append(str.__str__(s))
        elif json_attrs is not None:
            if key == "__structuredAttrs":
                return
            parts: list[str] = []
            collected: set[str] = set()
            to_json(raw, parts, collected)
            self.context |= collected
            json_attrs[key] = "".join(parts)
            if key == "builder":
                s = expect_string(force(raw))
                self.context |= string_context(s)
                drv.builder = str.__str__(s)
            elif key == "system":
                drv.system = _no_context(force(raw))
            elif key == "outputHash":
                self.output_hash = _no_context(force(raw))
            elif key == "outputHashAlgo":
                self.output_hash_algo = _no_context(force(raw))
            elif key == "outputHashMode":
                self.set_mode(_no_context(force(raw)))
            elif key == "outputs":
                self.set_outputs([_no_context(force(x)) for x in expect_list(force(raw))])
        else:
            s = coerce_to_string(raw, strong=True)
            self.context |= string_context(s)
            text = str.__str__(s)
            drv.environment[key] = text.encode("utf-8", "surrogateescape")
            if key == "builder":
                drv.builder = text
            elif key == "system":
                drv.system = text
            elif key == "outputHash":
                self.output_hash = text
            elif key == "outputHashAlgo":
                self.output_hash_algo = text
            elif key == "outputHashMode":
                self.set_mode(text)
            elif key == "outputs":
                self.set_outputs(_tokenize(text))

    def _add_inputs(self) -> None:
        """Input sources and derivations from the collected string context."""
        drv = self.drv
        known = self.known
        for element in sorted(self.context):
            try:
                if element.startswith("="):
                    for path in known.closure(element[1:]):
                        drv.input_sources.add(path)
                        if path.endswith(".drv"):
                            drv.input_derivations[path] = set(known.derivation(path).outputs)
                elif element.startswith("!"):
                    _, output, path = element.split("!", 2)
                    drv.input_derivations.setdefault(path, set()).add(output)
                else:
                    drv.input_sources.add(element)
            except UnknownPathError as e:
                raise EvalError(str(e)) from None

    def _fixed_output(self, output_hash: str) -> None:
        nc = self.nc
        if self.outputs != ["out"]:
            raise EvalError("multiple outputs are not supported in fixed-output derivations")
        mode = self.hash_mode
        try:
            ca = nc.ca_hash_from_output_hash(
                output_hash, self.output_hash_algo or None, mode or "flat"
            )
        except nc.NixCompatError as e:
            # C++ Nix reports a bad hash without a position
            raise EvalError(_hash_message(str(e), output_hash), positioned=False) from None
        if output_hash == "":
            _warn(self.state, f"found empty hash, assuming '{ca.hash.sri()}'")
        name = self.drv_name
        store_dir = self.state.io.store_dir
        if mode == "recursive" and ca.hash.algo.value == "sha256":
            _check_name(name, "source", ca.hash.hex, store_dir)
        else:
            _check_name(
                name,
                "output:out",
                lambda: fixed_output_inner_hash(ca.method_prefix, ca.hash.to_hex_string()),
                store_dir,
            )
        out_path = nc.build_ca_path(name, ca).to_absolute_path()
        self.drv.environment["out"] = out_path.encode()
        self.drv.outputs["out"] = nc.Output(path=out_path, ca_hash=ca)

    def _input_addressed(self) -> None:
        nc = self.nc
        drv = self.drv
        for name in self.outputs:
            drv.environment[name] = b""
            drv.outputs[name] = nc.Output()
        try:
            modulo = nc.derivation_or_fod_hash(drv, self.known.modulo_hash)
        except UnknownPathError as e:
            raise EvalError(str(e)) from None
        store_dir = self.state.io.store_dir
        paths: dict[str, str] = {}
        for name in self.outputs:
            path_name = self.drv_name if name == "out" else f"{self.drv_name}-{name}"
            _check_name(path_name, f"output:{name}", modulo.hex, store_dir)
            paths[name] = nc.build_output_path(modulo, name, path_name).to_absolute_path()
        for name, path in paths.items():
            drv.environment[name] = path.encode()
            drv.outputs[name] = nc.Output(path=path)

    def _finish(self) -> NixAttrs:
        """Write the ``.drv``, remember the derivation, and return its paths with contexts."""
        nc = self.nc
        drv = self.drv
        aterm, modulo = nc.aterm_and_derivation_or_fod_hash(drv, self.known.modulo_hash)
        references = sorted(set(drv.input_sources) | set(drv.input_derivations))
        file_name = f"{self.drv_name}.drv"
        try:
            drv_path = nc.build_text_path(file_name, aterm, references).to_absolute_path()
        except nc.NixCompatError as e:
            raise EvalError(str(e)) from None
        io = self.state.io
        # EvalIO's own add_text_to_store writes nothing, only computes a path: not worth a call
        if type(io).add_text_to_store is not EvalIO.add_text_to_store:
            try:
                io.add_text_to_store(file_name, aterm, references)
            except EvalIOError as e:
                raise EvalError(str(e)) from None
        self.known.add_derivation(drv_path, drv, modulo)
        result: dict[str, Value] = {"drvPath": NixString(drv_path, ("=" + drv_path,))}
        for name, output in drv.outputs.items():
            result[name] = NixString(output.path, (f"!{name}!{drv_path}",))
        return NixAttrs(result)


# --------------------------------------------------------------------------- helpers


def fixed_output_inner_hash(method_prefix: str, algo_and_hex: str) -> str:
    """The hash ``makeFixedOutputPath`` puts in an ``output:out`` fingerprint."""
    return hashlib.sha256(f"fixed:out:{method_prefix}{algo_and_hex}:".encode()).hexdigest()


def _check_name(name: str, path_type: str, hash_hex: Callable[[], str], store_dir: str) -> None:
    """Nix's error for an invalid store path name (its message shows the would-be path)."""
    if name and len(name) <= 211 and _NAME_CHARS.issuperset(name):
        return
    _store.make_store_path(path_type, hash_hex(), name, store_dir)


def _tokenize(s: str) -> list[str]:
    """C++ ``tokenizeString``: the words of ``s`` separated by whitespace."""
    out: list[str] = []
    word: list[str] = []
    for c in s:
        if c in _WHITESPACE:
            if word:
                out.append("".join(word))
                word = []
        else:
            word.append(c)
    if word:
        out.append("".join(word))
    return out


def _no_context(v: Value) -> str:
    s = expect_string(v)
    context = string_context(s)
    if context:
        raise EvalError(
            f"the string '{str.__str__(s)}' is not allowed to refer to a store path "
            f"(such as '{min(context)}')"
        )
    return str.__str__(s)


def _attr_pos(attrs: NixAttrs, name: str) -> object:
    """Where attribute ``name`` of a set was defined (None when unknown)."""
    positions = attrs.pos
    return positions.get(name) if positions is not None else None


def _warn(state: EvalState, message: str) -> None:
    if state.extra.get(WARNINGS_KEY, True) is not False:
        state.trace_out(f"warning: {message}")


def _experimental(feature: str) -> str:
    return (
        f"experimental Nix feature '{feature}' is disabled; use "
        f"'--extra-experimental-features {feature}' to override"
    )


def _hash_message(message: str, output_hash: str) -> str:
    if "type" in message and ":" not in output_hash and "-" not in output_hash:
        return (
            f"hash '{output_hash}' does not include a type, nor is the type otherwise known "
            "from context"
        )
    return message
