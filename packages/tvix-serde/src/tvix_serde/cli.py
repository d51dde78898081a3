"""``python -m tvix_serde FILE [--into module:Type]``: load a Nix file and print it as JSON."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import enum
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from tvix_serde.api import load_file, loads
from tvix_serde.errors import Error


def to_json(value: Any) -> Any:
    """A loaded value as JSON data: records become objects, enums their names, paths and
    dates strings, sets sorted lists."""
    if value is None or isinstance(value, bool | int | float | str):
        return value.name if isinstance(value, enum.Enum) else value
    if isinstance(value, enum.Enum):
        return value.name
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {k: to_json(x) for k, x in zip(value._fields, value, strict=True)}
    if isinstance(value, dict):
        return {
            (k.name if isinstance(k, enum.Enum) else str(k)): to_json(x) for k, x in value.items()
        }
    if isinstance(value, set | frozenset):
        items = [to_json(x) for x in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, list | tuple):
        return [to_json(x) for x in value]
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


def resolve_type(spec: str) -> Any:
    """``module:Name`` (or ``module:Outer.Inner``) to the object it names."""
    module_name, sep, qualname = spec.partition(":")
    if not sep or not module_name or not qualname:
        raise ValueError(f"expected MODULE:TYPE, got {spec!r}")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tvix_serde",
        description="Evaluate a Nix file and print its value as JSON.",
    )
    p.add_argument("file", metavar="FILE", help="the Nix file to load ('-' for standard input)")
    p.add_argument(
        "--into", metavar="MODULE:TYPE", help="load into this type (e.g. app.config:Config)"
    )
    p.add_argument(
        "--impure", action="store_true", help="allow the environment and the whole file system"
    )
    p.add_argument(
        "-I",
        dest="search_path",
        action="append",
        default=[],
        metavar="PATH",
        help="add a search path entry (name=path or path) for <name> lookups",
    )
    p.add_argument(
        "--ignore-unknown-keys",
        action="store_true",
        help="accept attributes the type does not declare",
    )
    p.add_argument("--indent", type=int, default=2, help="JSON indentation (default 2)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0 ok, 1 Nix or shape error, 2 bad usage)."""
    parser = _parser()
    args = parser.parse_args(argv)
    into: Any = None
    if args.into:
        try:
            into = resolve_type(args.into)
        except (ImportError, AttributeError, ValueError) as e:
            parser.error(f"--into: {e}")
    options: dict[str, Any] = {
        "pure": not args.impure,
        "search_path": args.search_path,
        "ignore_unknown_keys": args.ignore_unknown_keys,
    }
    try:
        if args.file == "-":
            value = loads(sys.stdin.read(), into, **options)
        else:
            value = load_file(args.file, into, **options)
    except Error as e:
        print(e.render(), file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: opening file '{args.file}': {e.strerror}", file=sys.stderr)
        return 1
    except TypeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    json.dump(to_json(value), sys.stdout, indent=args.indent or None, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
