"""The consistency rules a derivation must satisfy before it is written or built."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nix_compat.derivation.errors import DerivationError
from nix_compat.errors import StorePathError
from nix_compat.store_path import StorePath, validate_name

if TYPE_CHECKING:
    from nix_compat.derivation.model import Derivation


def _check_output_name(name: str) -> str | None:
    """Why ``name`` cannot name an output, or None if it can.

    ``drv`` is reserved: ``builtins.derivation`` returns ``drvPath`` next to the outputs, and
    an output called ``drv`` would make that ambiguous. Otherwise the store path name rules
    apply, because output names become part of output store path names.
    """
    if name == "drv":
        return "'drv' is reserved"
    try:
        validate_name(name)
    except StorePathError as e:
        return str(e)
    return None


def _check_store_path(path: str, what: str) -> None:
    try:
        StorePath.from_absolute_path(path)
    except StorePathError as e:
        raise DerivationError(f"invalid {what} {path!r}: {e}") from None


def validate_derivation(drv: Derivation, validate_output_paths: bool) -> None:
    """Raise :class:`DerivationError` for the first broken rule (the port of ``validate.rs``)."""
    if not drv.outputs:
        raise DerivationError("derivation has no outputs")
    for name, output in sorted(drv.outputs.items()):
        problem = _check_output_name(name)
        if problem is not None:
            raise DerivationError(f"invalid output name {name!r}: {problem}")
        if output.is_fixed:
            if len(drv.outputs) != 1:
                raise DerivationError(
                    f"output {name!r} is fixed-output, but a fixed-output derivation must "
                    f"have exactly one output (it has {len(drv.outputs)})"
                )
            if name != "out":
                raise DerivationError(
                    f"the output of a fixed-output derivation must be called 'out', not {name!r}"
                )
        if validate_output_paths:
            _check_store_path(output.path, f"path of output {name!r}")

    for drv_path, output_names in sorted(drv.input_derivations.items()):
        _check_store_path(drv_path, "input derivation path")
        if not drv_path.endswith(".drv"):
            raise DerivationError(f"input derivation {drv_path!r} does not end with '.drv'")
        if not output_names:
            raise DerivationError(f"input derivation {drv_path!r} lists no output names")
        for output_name in sorted(output_names):
            problem = _check_output_name(output_name)
            if problem is not None:
                raise DerivationError(
                    f"input derivation {drv_path!r} has invalid output name "
                    f"{output_name!r}: {problem}"
                )

    for source in sorted(drv.input_sources):
        _check_store_path(source, "input source path")

    if not drv.system:
        raise DerivationError("the system field is empty")
    if not drv.builder:
        raise DerivationError("the builder field is empty")
    if "" in drv.environment:
        raise DerivationError("the environment has a variable with an empty name")
