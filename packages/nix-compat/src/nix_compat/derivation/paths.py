"""Derivation hashing and the store paths derived from it.

``hashDerivationModulo`` (here :func:`derivation_or_fod_hash`) is what makes output paths
stable: a fixed-output derivation hashes to a digest of just its declared content hash and
output path, so changing how a tarball is fetched does not rebuild everything that uses it.
Any other derivation hashes its ATerm with every input ``.drv`` path replaced by that input's
own modulo hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from nix_compat.derivation.aterm_write import write_aterm, write_aterms
from nix_compat.derivation.errors import DerivationError
from nix_compat.derivation.output_hash import ca_hash_fields
from nix_compat.errors import NixCompatError
from nix_compat.nixhash import HashAlgo, NixHash
from nix_compat.store_path import StorePath, build_ca_path, build_output_path, build_text_path

if TYPE_CHECKING:
    from nix_compat.derivation.model import Derivation


def calculate_derivation_path(drv: Derivation, name: str) -> StorePath:
    """The ``.drv`` store path: a text path over the ATerm, referencing inputSrcs ∪ inputDrvs."""
    references = set(drv.input_sources) | drv.input_derivations.keys()
    try:
        return build_text_path(f"{name}.drv", drv.to_aterm_bytes(), sorted(references))
    except NixCompatError as e:
        raise DerivationError(f"cannot build the derivation path for name {name!r}: {e}") from e


def fixed_output_digest(drv: Derivation) -> bytes | None:
    """sha256 of ``fixed:out:<hashAlgo>:<hex>:<path>`` for a fixed-output derivation, else None."""
    if len(drv.outputs) != 1:
        return None
    out = drv.outputs.get("out")
    if out is None or out.ca_hash is None:
        return None
    hash_algo, digest_hex = ca_hash_fields(out.ca_hash)
    fingerprint = f"fixed:out:{hash_algo}:{digest_hex}:{out.path}"
    return hashlib.sha256(fingerprint.encode("utf-8", "surrogateescape")).digest()


def derivation_or_fod_hash(
    drv: Derivation, fn_get_hash_of_input_drv: Callable[[str], NixHash]
) -> NixHash:
    """Nix's ``hashDerivationModulo`` of ``drv`` (always sha256).

    ``fn_get_hash_of_input_drv`` gives the modulo hash of an input derivation by its absolute
    ``.drv`` path; callers usually precompute these while building the graph bottom-up. A
    fixed-output derivation's hash covers its output path, so compute it once that is set.
    """
    fod_digest = fixed_output_digest(drv)
    if fod_digest is not None:
        return NixHash(HashAlgo.SHA256, fod_digest)
    aterm = write_aterm(drv, _hashed_inputs(drv, fn_get_hash_of_input_drv))
    return NixHash(HashAlgo.SHA256, hashlib.sha256(aterm).digest())


def aterm_and_derivation_or_fod_hash(
    drv: Derivation, fn_get_hash_of_input_drv: Callable[[str], NixHash]
) -> tuple[bytes, NixHash]:
    """``drv``'s ATerm and its :func:`derivation_or_fod_hash`: what instantiating needs once
    the output paths are set. The two ATerms share all but the input derivations, which are
    written twice and the rest once."""
    fod_digest = fixed_output_digest(drv)
    if fod_digest is not None:
        return write_aterm(drv), NixHash(HashAlgo.SHA256, fod_digest)
    hashed_inputs = _hashed_inputs(drv, fn_get_hash_of_input_drv)
    aterm, hashed_aterm = write_aterms(drv, [drv.input_derivations, hashed_inputs])
    return aterm, NixHash(HashAlgo.SHA256, hashlib.sha256(hashed_aterm).digest())


def _hashed_inputs(
    drv: Derivation, fn_get_hash_of_input_drv: Callable[[str], NixHash]
) -> dict[str, set[str]]:
    """The input derivations by the hex of their modulo hash instead of their path."""
    # Distinct inputs can share a modulo hash (say, two copies of a derivation that differ only
    # in which equivalent fixed-output input they use); C++ Nix then unites their output names.
    hashed: dict[str, set[str]] = {}
    for drv_path, output_names in drv.input_derivations.items():
        key = fn_get_hash_of_input_drv(drv_path).digest.hex()
        known = hashed.get(key)
        hashed[key] = output_names if known is None else known | output_names
    return hashed


def output_path_name(derivation_name: str, output_name: str) -> str:
    """The name part of an output's store path: ``name``, or ``name-<output>`` for non-``out``."""
    if output_name == "out":
        return derivation_name
    return f"{derivation_name}-{output_name}"


def prepare_for_output_path_calculation(drv: Derivation) -> None:
    """Blank every output's path and the environment variable named after each output."""
    for output_name, output in list(drv.outputs.items()):
        drv.outputs[output_name] = replace(output, path="")
        drv.environment[output_name] = b""


def calculate_output_paths(drv: Derivation, name: str, derivation_or_fod_hash: NixHash) -> None:
    """Set every output path, and the environment variable of each output, in place.

    Fixed outputs get a content-addressed path from their hash; the others are derived from
    ``derivation_or_fod_hash``, the modulo hash of the blanked derivation.
    """
    computed: dict[str, StorePath] = {}
    for output_name, output in sorted(drv.outputs.items()):
        if output.path:
            raise DerivationError(
                f"output {output_name!r} already has the path {output.path!r}; blank the "
                "outputs (prepare_for_output_path_calculation) before calculating them"
            )
        path_name = output_path_name(name, output_name)
        try:
            if output.ca_hash is not None:
                computed[output_name] = build_ca_path(path_name, output.ca_hash, (), False)
            else:
                computed[output_name] = build_output_path(
                    derivation_or_fod_hash, output_name, path_name
                )
        except NixCompatError as e:
            raise DerivationError(
                f"cannot build the store path of output {output_name!r}: {e}"
            ) from e
    for output_name, store_path in computed.items():
        absolute = store_path.to_absolute_path()
        drv.outputs[output_name] = replace(drv.outputs[output_name], path=absolute)
        drv.environment[output_name] = absolute.encode()
