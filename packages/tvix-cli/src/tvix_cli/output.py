"""Rendering a result as ``nix-instantiate --eval`` does: the Nix form, ``--json``, ``--xml``,
and ``--raw`` (from ``nix eval``).

Without ``--strict`` only the top-level value is forced: unevaluated parts print ``<CODE>``, are
``<unevaluated />`` in XML and an error in JSON, exactly as Nix 2.8 does. Every function here
runs on the evaluation thread. The JSON and XML writers load only when asked for.
"""

from __future__ import annotations

from typing import Literal

from tvix_eval.runtime.ops import coerce_to_string, force_deep
from tvix_eval.runtime.printer import print_value
from tvix_eval.runtime.values import Value, force

OutputMode = Literal["nix", "json", "xml", "raw"]


def render(value: Value, mode: OutputMode, strict: bool, location: bool = False) -> str:
    """The text printed on stdout for ``value`` (including the trailing newline Nix prints).

    ``location`` adds source positions to ``--xml`` output (Nix's default).
    """
    value = force(value)
    if mode == "raw":
        s = coerce_to_string(value)
        return str.__str__(s)
    if mode == "json":
        from tvix_cli.output_json import lazy_json, strict_json

        return strict_json(force_deep(value)) if strict else lazy_json(value)
    if mode == "xml":
        return render_xml(value, strict, location)
    if strict:
        value = force_deep(value)
    return print_value(value) + "\n"


# --------------------------------------------------------------------------- XML


def render_xml(v: Value, strict: bool, location: bool) -> str:
    """``--xml``: C++ Nix's ``printValueAsXML``, with positions unless ``--no-location``."""
    from tvix_eval.builtins.xml import to_xml

    return to_xml(v, location=location, strict=strict)[0]
