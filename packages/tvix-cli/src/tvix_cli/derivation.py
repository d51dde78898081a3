"""``derivationStrict`` and the ``derivation`` wrapper, computed exactly as C++ Nix 2.8 does.

Inputs come from the string contexts of the attribute values (``/nix/store/…`` sources,
``!out!…drv`` outputs, ``=…drv`` whole closures); output paths from ``hashDerivationModulo``;
the ``.drv`` file is written to the store as a text path unless the evaluation is read-only.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from tvix_eval.builtins.json import to_json
from tvix_eval.runtime.errors import EvalError
from tvix_eval.runtime.ops import coerce_to_string, expect_bool, expect_list, expect_string
from tvix_eval.runtime.values import NixAttrs, NixString, PrimOp, Value, force, string_context

from tvix_cli.known_paths import KnownPaths, UnknownPathError
from tvix_cli.names import fixed_output_inner_hash, store_name_error

if TYPE_CHECKING:
    from nix_compat.derivation import Derivation

#: writes a text file into the store: (name, contents, references, its store path)
TextWriter = Callable[[str, bytes, list[str], str], object]

_WHITESPACE = " \t\n\r"


def derivation_nix_source() -> str:
    """The Nix source of the ``derivation`` wrapper (the text C++ Nix 2.8 embeds)."""
    from tvix_cli.corepkgs import read_corepkg

    return read_corepkg("derivation.nix").decode()


def _tokenize(s: str) -> list[str]:
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


class DerivationBuilder:
    """Holds what ``derivationStrict`` needs across calls: known derivations and a writer."""

    def __init__(self, known: KnownPaths, write_text: TextWriter | None) -> None:
        self.known = known
        #: None in read-only mode: paths are computed, nothing is written
        self.write_text = write_text
        #: told about every derivation instantiated: (drv path, derivation)
        self.listener: Callable[[str, Derivation], None] | None = None
        #: where warnings go (None: dropped, for --no-warnings)
        self.warn: Callable[[str], None] | None = _stderr_warning

    def primop(self) -> PrimOp:
        """The ``derivationStrict`` builtin."""
        return PrimOp(
            "derivationStrict",
            1,
            self.derivation_strict,
            (),
            "Instantiate a derivation: its .drv path and output paths (strictly).",
        )

    def derivation_strict(self, arg: Value) -> NixAttrs:
        """Build the derivation an attribute set describes; ``{ drvPath; <outputs>; }``."""
        if type(arg) is not NixAttrs:
            from tvix_eval.runtime.ops import expect_attrs

            arg = expect_attrs(arg)
        attrs: NixAttrs = arg
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
        try:
            return self._build(attrs, drv_name, json_attrs, ignore_nulls, pos_name)
        except EvalError as e:
            raise e.at(pos_name) from None

    def _build(
        self,
        attrs: NixAttrs,
        drv_name: str,
        json_attrs: dict[str, str] | None,
        ignore_nulls: bool,
        pos_name: object,
    ) -> NixAttrs:
        from nix_compat.derivation import Derivation

        drv = Derivation()
        context: set[str] = set()
        output_hash: str | None = None
        output_hash_algo = ""
        hash_mode: str | None = None
        outputs = ["out"]

        def set_outputs(names: list[str]) -> None:
            nonlocal outputs
            seen: list[str] = []
            for j in names:
                if j in seen:
                    raise EvalError(f"duplicate derivation output '{j}'", pos_name)
                if j == "drv":
                    raise EvalError("invalid derivation output name 'drv'", pos_name)
                seen.append(j)
            if not seen:
                raise EvalError("derivation cannot have an empty set of outputs", pos_name)
            outputs = seen

        def set_mode(s: str) -> None:
            nonlocal hash_mode
            if s not in ("recursive", "flat"):
                raise EvalError(f"invalid value '{s}' for 'outputHashMode' attribute", pos_name)
            hash_mode = s

        for key, raw in attrs.sorted_items():
            if key == "__ignoreNulls":
                continue
            try:
                if ignore_nulls and force(raw) is None:
                    continue
                if key == "__contentAddressed" and expect_bool(force(raw)):
                    raise EvalError(_experimental("ca-derivations"))
                if key == "__impure" and expect_bool(force(raw)):
                    raise EvalError(_experimental("impure-derivations"))
                if key in ("__contentAddressed", "__impure"):
                    continue
                if key == "args":
                    for item in expect_list(force(raw)):
                        s = coerce_to_string(item, strong=True)
                        context |= string_context(s)
                        drv.arguments.append(str.__str__(s))
                elif json_attrs is not None:
                    if key == "__structuredAttrs":
                        continue
                    parts: list[str] = []
                    collected: set[str] = set()
                    to_json(raw, parts, collected)
                    context |= collected
                    json_attrs[key] = "".join(parts)
                    if key == "builder":
                        s = expect_string(force(raw))
                        context |= string_context(s)
                        drv.builder = str.__str__(s)
                    elif key == "system":
                        drv.system = _no_context(force(raw))
                    elif key == "outputHash":
                        output_hash = _no_context(force(raw))
                    elif key == "outputHashAlgo":
                        output_hash_algo = _no_context(force(raw))
                    elif key == "outputHashMode":
                        set_mode(_no_context(force(raw)))
                    elif key == "outputs":
                        set_outputs([_no_context(force(x)) for x in expect_list(force(raw))])
                else:
                    s = coerce_to_string(raw, strong=True)
                    context |= string_context(s)
                    text = str.__str__(s)
                    drv.environment[key] = text.encode("utf-8", "surrogateescape")
                    if key == "builder":
                        drv.builder = text
                    elif key == "system":
                        drv.system = text
                    elif key == "outputHash":
                        output_hash = text
                    elif key == "outputHashAlgo":
                        output_hash_algo = text
                    elif key == "outputHashMode":
                        set_mode(text)
                    elif key == "outputs":
                        set_outputs(_tokenize(text))
            except EvalError as e:
                e.at(_attr_pos(attrs, key))
                e.add_trace(
                    pos_name,
                    f"while evaluating the attribute '{key}' of the derivation '{drv_name}'",
                    always=True,
                )
                raise

        if json_attrs is not None:
            body = ",".join(
                f"{json.dumps(k, ensure_ascii=False)}:{v}" for k, v in sorted(json_attrs.items())
            )
            drv.environment["__json"] = ("{" + body + "}").encode("utf-8", "surrogateescape")

        self._add_inputs(drv, context)

        if not drv.builder:
            raise EvalError("required attribute 'builder' missing")
        if not drv.system:
            raise EvalError("required attribute 'system' missing")
        if drv_name.endswith(".drv"):
            raise EvalError("derivation names are not allowed to end in '.drv'")

        if output_hash is not None:
            self._fixed_output(
                drv,
                drv_name,
                outputs,
                output_hash=output_hash,
                algo=output_hash_algo,
                mode=hash_mode,
            )
        else:
            self._input_addressed(drv, drv_name, outputs)

        return self._finish(drv, drv_name)

    def _add_inputs(self, drv: Derivation, context: set[str]) -> None:
        for element in sorted(context):
            try:
                if element.startswith("="):
                    for path in self.known.closure(element[1:]):
                        drv.input_sources.add(path)
                        if path.endswith(".drv"):
                            drv.input_derivations[path] = set(self.known.derivation(path).outputs)
                elif element.startswith("!"):
                    _, output, path = element.split("!", 2)
                    drv.input_derivations.setdefault(path, set()).add(output)
                else:
                    drv.input_sources.add(element)
            except UnknownPathError as e:
                raise EvalError(str(e)) from None

    def _fixed_output(
        self,
        drv: Derivation,
        drv_name: str,
        outputs: list[str],
        *,
        output_hash: str,
        algo: str,
        mode: str | None,
    ) -> None:
        from nix_compat.derivation import Output
        from nix_compat.errors import NixCompatError
        from nix_compat.nixhash import ca_hash_from_output_hash
        from nix_compat.store_path import build_ca_path

        if outputs != ["out"]:
            raise EvalError("multiple outputs are not supported in fixed-output derivations")
        try:
            ca = ca_hash_from_output_hash(output_hash, algo or None, mode or "flat")
        except NixCompatError as e:
            # C++ Nix reports a bad hash without a position
            raise EvalError(_hash_message(str(e), output_hash), positioned=False) from None
        if output_hash == "" and self.warn is not None:
            self.warn(f"found empty hash, assuming '{ca.hash.sri()}'")
        if mode == "recursive" and ca.hash.algo.value == "sha256":
            _check_name(drv_name, "source", ca.hash.hex)
        else:
            _check_name(
                drv_name,
                "output:out",
                lambda: fixed_output_inner_hash(ca.method_prefix, ca.hash.to_hex_string()),
            )
        out_path = build_ca_path(drv_name, ca).to_absolute_path()
        drv.environment["out"] = out_path.encode()
        drv.outputs["out"] = Output(path=out_path, ca_hash=ca)

    def _input_addressed(self, drv: Derivation, drv_name: str, outputs: list[str]) -> None:
        from nix_compat.derivation import Output
        from nix_compat.store_path import build_output_path

        for name in outputs:
            drv.environment[name] = b""
            drv.outputs[name] = Output()
        try:
            modulo = drv.derivation_or_fod_hash(self.known.modulo_hash)
        except UnknownPathError as e:
            raise EvalError(str(e)) from None
        paths: dict[str, str] = {}
        for name in outputs:
            path_name = drv_name if name == "out" else f"{drv_name}-{name}"
            _check_name(path_name, f"output:{name}", modulo.hex)
            paths[name] = build_output_path(modulo, name, path_name).to_absolute_path()
        for name, path in paths.items():
            drv.environment[name] = path.encode()
            drv.outputs[name] = Output(path=path)

    def _finish(self, drv: Derivation, drv_name: str) -> NixAttrs:
        from nix_compat.errors import NixCompatError
        from nix_compat.store_path import build_text_path

        aterm = drv.to_aterm_bytes()
        references = sorted(set(drv.input_sources) | set(drv.input_derivations))
        try:
            drv_path = build_text_path(f"{drv_name}.drv", aterm, references).to_absolute_path()
        except NixCompatError as e:
            raise EvalError(str(e)) from None
        if self.write_text is not None:
            self.write_text(f"{drv_name}.drv", aterm, references, drv_path)
        self.known.add_derivation(drv_path, drv, drv.derivation_or_fod_hash(self.known.modulo_hash))
        if self.listener is not None:
            self.listener(drv_path, drv)
        result: dict[str, Value] = {"drvPath": NixString(drv_path, ("=" + drv_path,))}
        for name, output in drv.outputs.items():
            result[name] = NixString(output.path, (f"!{name}!{drv_path}",))
        return NixAttrs(result)


def _attr_pos(attrs: NixAttrs, name: str) -> object:
    """Where attribute ``name`` of a set was defined (None when unknown)."""
    positions = getattr(attrs, "pos", None)
    return positions.get(name) if positions is not None else None


def _stderr_warning(message: str) -> None:
    sys.stderr.write(f"warning: {message}\n")


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


def _check_name(name: str, path_type: str, hash_hex: Callable[[], str]) -> None:
    error = store_name_error(name, path_type, hash_hex)
    if error is not None:
        raise EvalError(str(error))
