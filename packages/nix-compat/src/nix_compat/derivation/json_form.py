"""The JSON form of derivations that ``nix show-derivation`` prints, both ways.

Output is byte-compatible with Nix 2.8: the same key order, two-space indentation and string
escaping (``\\uXXXX`` for control characters other than newline, return and tab). Nix writes
environment values that are not UTF-8 as raw bytes, which is not valid JSON; here they travel
as lone surrogates (``surrogateescape``), so ``text.encode("utf-8", "surrogateescape")`` gives
Nix's exact bytes and reading those bytes back gives the original values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from nix_compat.derivation.aterm_write import encode_str
from nix_compat.derivation.errors import DerivationError, DerivationJSONError
from nix_compat.derivation.model import Derivation, Output
from nix_compat.derivation.output_hash import ca_hash_fields, parse_ca_hash_fields

if TYPE_CHECKING:
    from collections.abc import Iterator

JSONValue = str | list["JSONValue"] | dict[str, "JSONValue"]

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPES.update({chr(c): f"\\u{c:04x}" for c in range(0x20) if chr(c) not in _ESCAPES})
_ESCAPE_TABLE = str.maketrans(_ESCAPES)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _sorted_strings(items: Iterable[str]) -> list[JSONValue]:
    ordered = sorted(items, key=encode_str)
    return list[JSONValue](ordered)


def derivation_to_object(drv: Derivation) -> dict[str, JSONValue]:
    """The derivation as nested dicts, lists and strings, keys in Nix's order."""
    outputs: dict[str, JSONValue] = {}
    for name in sorted(drv.outputs, key=encode_str):
        output = drv.outputs[name]
        entry: dict[str, JSONValue] = {"path": output.path}
        if output.ca_hash is not None:
            entry["hashAlgo"], entry["hash"] = ca_hash_fields(output.ca_hash)
        outputs[name] = entry
    input_drvs: dict[str, JSONValue] = {
        path: _sorted_strings(drv.input_derivations[path])
        for path in sorted(drv.input_derivations, key=encode_str)
    }
    env: dict[str, JSONValue] = {
        key: _decode(drv.environment[key]) for key in sorted(drv.environment, key=encode_str)
    }
    return {
        "outputs": outputs,
        "inputSrcs": _sorted_strings(drv.input_sources),
        "inputDrvs": input_drvs,
        "system": drv.system,
        "builder": drv.builder,
        "args": list[JSONValue](drv.arguments),
        "env": env,
    }


def _render(value: JSONValue, indent: int) -> Iterator[str]:
    if isinstance(value, str):
        yield '"' + value.translate(_ESCAPE_TABLE) + '"'
        return
    if not value:
        yield "{}" if isinstance(value, dict) else "[]"
        return
    inner = "\n" + "  " * (indent + 1)
    if isinstance(value, dict):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield ("," if i else "") + inner + '"' + key.translate(_ESCAPE_TABLE) + '": '
            yield from _render(item, indent + 1)
        yield "\n" + "  " * indent + "}"
    else:
        yield "["
        for i, item in enumerate(value):
            yield ("," if i else "") + inner
            yield from _render(item, indent + 1)
        yield "\n" + "  " * indent + "]"


def derivation_to_json(drv: Derivation) -> str:
    """One derivation as a pretty-printed JSON object (no trailing newline)."""
    return "".join(_render(derivation_to_object(drv), 0))


def show_derivation_json(derivations: Mapping[str, Derivation]) -> str:
    """Exactly what ``nix show-derivation`` prints for these ``{drv path: derivation}``."""
    document: dict[str, JSONValue] = {
        path: derivation_to_object(derivations[path])
        for path in sorted(derivations, key=encode_str)
    }
    return "".join(_render(document, 0)) + "\n"


def _load(data: str | bytes) -> object:
    if isinstance(data, bytes | bytearray | memoryview):
        data = _decode(bytes(data))
    try:
        return json.loads(data, object_pairs_hook=_object_without_duplicates)
    except json.JSONDecodeError as e:
        raise DerivationJSONError(
            f"invalid JSON at line {e.lineno} column {e.colno} (char {e.pos}): {e.msg}", ""
        ) from None
    except RecursionError:
        raise DerivationJSONError("invalid JSON: arrays or objects nested too deeply", "") from None


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise DerivationJSONError(f"duplicate key {key!r} in a JSON object", "")
        result[key] = value
    return result


def derivation_from_json(data: str | bytes) -> Derivation:
    """Read one derivation object (not wrapped in ``{drv path: ...}``)."""
    return derivation_from_object(_load(data), "")


def parse_show_derivation_json(data: str | bytes) -> dict[str, Derivation]:
    """Read the output of ``nix show-derivation``: ``{drv path: derivation, ...}``."""
    document = _load(data)
    if not isinstance(document, dict):
        raise DerivationJSONError(f"expected an object, got {_kind(document)}", "")
    return {path: derivation_from_object(drv, path) for path, drv in document.items()}


def _kind(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return names.get(type(value), "null" if value is None else "a number")


def _field(obj: dict[str, object], key: str, where: str) -> object:
    if key not in obj:
        raise DerivationJSONError("required field is missing", _join(where, key))
    return obj[key]


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _as_str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise DerivationJSONError(f"expected a string, got {_kind(value)}", where)
    return value


def _as_object(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise DerivationJSONError(f"expected an object, got {_kind(value)}", where)
    return value


def _as_str_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list):
        raise DerivationJSONError(f"expected an array of strings, got {_kind(value)}", where)
    return [_as_str(item, f"{where}[{i}]") for i, item in enumerate(value)]


def _as_str_set(value: object, where: str) -> set[str]:
    items = _as_str_list(value, where)
    result = set(items)
    if len(result) != len(items):
        duplicate = next(item for i, item in enumerate(items) if item in items[:i])
        raise DerivationJSONError(f"duplicate entry {duplicate!r}", where)
    return result


def _output_from_object(value: object, where: str) -> Output:
    obj = _as_object(value, where)
    path = _as_str(_field(obj, "path", where), _join(where, "path"))
    hash_algo = _as_str(obj.get("hashAlgo", ""), _join(where, "hashAlgo"))
    digest = _as_str(obj.get("hash", ""), _join(where, "hash"))
    try:
        return Output(path, parse_ca_hash_fields(hash_algo, digest))
    except DerivationError as e:
        raise DerivationJSONError(str(e), _join(where, "hash")) from None


def _input_drv_outputs(value: object, where: str) -> set[str]:
    """Output names of an input derivation: an array (Nix 2.8) or ``{"outputs": [...]}``."""
    if isinstance(value, dict):
        return _as_str_set(_field(value, "outputs", where), _join(where, "outputs"))
    return _as_str_set(value, where)


def derivation_from_object(value: object, where: str) -> Derivation:
    """Build a derivation from decoded JSON; ``where`` prefixes field names in errors."""
    obj = _as_object(value, where)
    outputs_where = _join(where, "outputs")
    outputs = _as_object(_field(obj, "outputs", where), outputs_where)
    input_drvs_where = _join(where, "inputDrvs")
    input_drvs = _as_object(_field(obj, "inputDrvs", where), input_drvs_where)
    env_where = _join(where, "env")
    env = _as_object(_field(obj, "env", where), env_where)
    environment: dict[str, bytes] = {}
    for key, env_value in env.items():
        text = _as_str(env_value, _join(env_where, key))
        try:
            environment[key] = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise DerivationJSONError(
                "value contains an unpaired surrogate that stands for no byte",
                _join(env_where, key),
            ) from None
    return Derivation(
        outputs={
            name: _output_from_object(out, _join(outputs_where, name))
            for name, out in outputs.items()
        },
        input_derivations={
            path: _input_drv_outputs(names, _join(input_drvs_where, path))
            for path, names in input_drvs.items()
        },
        input_sources=_as_str_set(_field(obj, "inputSrcs", where), _join(where, "inputSrcs")),
        system=_as_str(_field(obj, "system", where), _join(where, "system")),
        builder=_as_str(_field(obj, "builder", where), _join(where, "builder")),
        arguments=_as_str_list(_field(obj, "args", where), _join(where, "args")),
        environment=environment,
    )
