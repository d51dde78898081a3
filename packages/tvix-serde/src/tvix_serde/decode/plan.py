"""Turning a type annotation into a decoder, once per type and set of options."""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import datetime
import enum
import types
import typing
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from tvix_serde.decode import choices, containers, functions, records, scalars
from tvix_serde.decode.core import Decoder
from tvix_serde.naming import NIX_NAME

ALL_KINDS = frozenset(["null", "bool", "int", "float", "string", "path", "list", "set", "function"])

_LISTS = (list, cabc.Sequence, cabc.MutableSequence, cabc.Iterable, cabc.Collection)
_SETS = (set, cabc.Set, cabc.MutableSet)
_DICTS = (dict, cabc.Mapping, cabc.MutableMapping)
_DATETIMES = (datetime.datetime, datetime.date, datetime.time)


@dataclass(frozen=True)
class Options:
    """Decoding options that change the decoders built for a type."""

    ignore_unknown_keys: bool = False


_cache: dict[tuple[object, Options], Decoder] = {}
#: Types created on the fly (classes defined inside functions) must not grow the cache forever.
_CACHE_LIMIT = 4096


def decoder_for(tp: object, options: Options = Options()) -> Decoder:
    """The (cached) decoder for values of type ``tp``; ``TypeError`` for unsupported types."""
    key = (tp, options)
    try:
        found = _cache.get(key)
    except TypeError:  # an unhashable annotation: build it every time
        return _Builder(options).build(tp)
    if found is None:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        found = _cache[key] = _Builder(options).build(tp)
    return found


def _strip(tp: Any) -> Any:
    """Look through ``Annotated``, ``NewType``, ``type X = …`` aliases and string annotations."""
    while True:
        if get_origin(tp) is typing.Annotated:
            tp = get_args(tp)[0]
        elif isinstance(tp, typing.NewType):
            tp = tp.__supertype__
        elif type(tp).__name__ == "TypeAliasType":
            tp = tp.__value__
        elif get_origin(tp) in (typing.Required, typing.NotRequired):
            tp = get_args(tp)[0]
        else:
            return tp


def type_name(tp: Any) -> str:
    """A short name of a type for messages (``int``, ``Server``, ``list[str]``)."""
    tp = _strip(tp)
    if tp is None or tp is type(None):
        return "None"
    if isinstance(tp, type) and not get_args(tp):
        return tp.__name__
    return repr(tp).replace("typing.", "")


def _subst(tp: Any, mapping: dict[Any, Any]) -> Any:
    if isinstance(tp, TypeVar):
        return mapping.get(tp, Any)
    params = getattr(tp, "__parameters__", ())
    if params and get_origin(tp) is not None:
        return tp[tuple(mapping.get(p, Any) for p in params)]
    return tp


class _Builder:
    """Builds the decoders of one type and the types it contains (recursive types included)."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.pending: dict[object, list[Decoder]] = {}

    def build(self, tp: Any) -> Decoder:
        tp = _strip(tp)
        if tp is Any or tp is object:
            return scalars.decode_plain
        if tp is None or tp is type(None):
            return scalars.decode_none
        simple = _SIMPLE.get(tp) if isinstance(tp, type) else None
        if simple is not None:
            return simple
        if isinstance(tp, type):
            if issubclass(tp, PurePath):
                return scalars.path_decoder(tp)
            if tp in _DATETIMES:
                return scalars.datetime_decoder(tp)
            if issubclass(tp, enum.Enum):
                return choices.enum_decoder(tp)
        origin = get_origin(tp)
        args = get_args(tp)
        if origin is Literal:
            return choices.literal_decoder(args)
        if origin is Union or origin is types.UnionType:
            return self._union(args)
        if origin in _LISTS or tp in _LISTS:
            return containers.list_decoder(self._item(args))
        if origin is tuple or tp is tuple:
            if not args or (len(args) == 2 and args[1] is Ellipsis):
                return containers.collection_decoder(self._item(args[:1]), tuple)
            if args == ((),):
                return containers.tuple_decoder([])
            return containers.tuple_decoder([self.build(a) for a in args])
        if origin in _SETS or tp in _SETS:
            return containers.collection_decoder(self._item(args), set)
        if origin is frozenset or tp is frozenset:
            return containers.collection_decoder(self._item(args), frozenset)
        if origin in _DICTS or tp in _DICTS:
            key = self._key(args[0]) if args else None
            return containers.dict_decoder(key, self._item(args[1:]))
        if origin is cabc.Callable or tp is cabc.Callable:
            params = args[0] if args else Ellipsis
            arity = None if params is Ellipsis else len(params)
            return functions.callable_decoder(arity, self._item(args[1:]))
        return self._record(tp, origin, args)

    def _item(self, args: tuple[Any, ...]) -> Decoder:
        return self.build(args[0]) if args else scalars.decode_plain

    def _key(self, tp: Any) -> Decoder | None:
        tp = _strip(tp)
        if tp is str or tp is Any or tp is object:
            return None
        if tp is int:
            return containers.int_key
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return choices.enum_decoder(tp)
        if get_origin(tp) is Literal:
            return choices.literal_decoder(get_args(tp))
        raise TypeError(f"cannot load dict keys of type {type_name(tp)} (Nix names are strings)")

    def _union(self, args: tuple[Any, ...]) -> Decoder:
        members = [_strip(a) for a in args]
        non_null = [m for m in members if m is not type(None) and m is not None]
        if len(non_null) == 1 and len(members) == 2:
            return choices.optional_decoder(self.build(non_null[0]))
        has_int = any(m is int for m in members)
        decoders = [self.build(m) for m in members]
        kinds = []
        for m in members:
            k = _kinds(m)
            if has_int and m is float:
                k = k - {"int"}
            kinds.append(k)
        return choices.union_decoder([type_name(m) for m in members], decoders, kinds)

    def _record(self, tp: Any, origin: Any, args: tuple[Any, ...]) -> Decoder:
        cls = origin if origin is not None else tp
        if not isinstance(cls, type):
            raise TypeError(f"tvix_serde cannot load values into {tp!r}")
        waiting = self.pending.get(tp)
        if waiting is not None:

            def forward(v: Any) -> Any:
                return waiting[0](v)

            return forward
        cell: list[Decoder] = []
        self.pending[tp] = cell
        try:
            decoder = self._record_decoder(cls, args)
        finally:
            del self.pending[tp]
        cell.append(decoder)
        return decoder

    def _record_decoder(self, cls: type[Any], args: tuple[Any, ...]) -> Decoder:
        ignore = self.options.ignore_unknown_keys
        mapping = dict(zip(getattr(cls, "__parameters__", ()), args, strict=False))
        if dataclasses.is_dataclass(cls):
            hints = _hints(cls)
            fields = []
            for f in dataclasses.fields(cls):
                if not f.init:
                    continue
                required = (
                    f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                )
                key = f.metadata.get(NIX_NAME, f.name)
                decode = self.build(_subst(hints.get(f.name, Any), mapping))
                fields.append(records.FieldSpec(f.name, key, decode, required))
            return records.record_decoder(
                lambda kw: cls(**kw), fields, cls.__name__, ignore_unknown=ignore
            )
        if typing.is_typeddict(cls):
            hints = _hints(cls)
            fields = [
                records.FieldSpec(
                    name, name, self.build(_subst(t, mapping)), _required_key(cls, name, t)
                )
                for name, t in hints.items()
            ]
            return records.record_decoder(dict, fields, cls.__name__, ignore_unknown=ignore)
        if issubclass(cls, tuple) and hasattr(cls, "_fields"):
            hints = _hints(cls)
            defaults = getattr(cls, "_field_defaults", {})
            fields = [
                records.FieldSpec(
                    name,
                    name,
                    self.build(_subst(hints.get(name, Any), mapping)),
                    name not in defaults,
                )
                for name in cls._fields
            ]
            return records.namedtuple_decoder(cls, fields, ignore_unknown=ignore)
        raise TypeError(f"tvix_serde cannot load values into {type_name(cls)}")


def _required_key(cls: type[Any], name: str, hint: Any) -> bool:
    """Whether a TypedDict key is required (string annotations hide ``NotRequired`` from
    ``__required_keys__``, so the resolved hint decides)."""
    while get_origin(hint) is typing.Annotated:
        hint = get_args(hint)[0]
    if get_origin(hint) is typing.NotRequired:
        return False
    if get_origin(hint) is typing.Required:
        return True
    return bool(getattr(cls, "__total__", True)) and name in cls.__required_keys__


def _hints(cls: type[Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except NameError as e:
        raise TypeError(
            f"cannot resolve the annotations of {cls.__qualname__}: {e} (types used in string "
            "annotations must be importable from the class's module)"
        ) from None


_SIMPLE: dict[type, Decoder] = {
    bool: scalars.decode_bool,
    int: scalars.decode_int,
    float: scalars.decode_float,
    str: scalars.decode_str,
    bytes: scalars.decode_bytes,
}


def _kinds(tp: Any) -> frozenset[str]:
    """The Nix types a decoder for ``tp`` may accept (used to skip union members quickly)."""
    tp = _strip(tp)
    if tp is None or tp is type(None):
        return frozenset(["null"])
    fixed = {
        bool: ["bool"],
        int: ["int"],
        float: ["float", "int"],
        str: ["string", "path"],
        bytes: ["string"],
    }
    if isinstance(tp, type):
        if tp in fixed:
            return frozenset(fixed[tp])
        if issubclass(tp, PurePath):
            return frozenset(["path", "string"])
        if tp in _DATETIMES:
            return frozenset(["string", "set"])
        if issubclass(tp, enum.Enum):
            return frozenset(["string", "int", "float", "bool", "null"])
    origin = get_origin(tp)
    if origin is Literal:
        return frozenset(["string", "int", "float", "bool", "null"])
    if origin is Union or origin is types.UnionType:
        out: frozenset[str] = frozenset()
        for a in get_args(tp):
            out |= _kinds(a)
        return out
    base = origin if origin is not None else tp
    if base in _LISTS or base in _SETS or base is tuple or base is frozenset:
        return frozenset(["list"])
    if isinstance(base, type) and issubclass(base, tuple) and hasattr(base, "_fields"):
        return frozenset(["set", "list"])
    if base in _DICTS or dataclasses.is_dataclass(base) or typing.is_typeddict(base):
        return frozenset(["set"])
    if base is cabc.Callable:
        return frozenset(["function", "set"])
    return ALL_KINDS
