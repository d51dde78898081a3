"""The derivation model: what a ``.drv`` file says, as plain Python data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nix_compat.nixhash import CAHash, NixHash
    from nix_compat.store_path import StorePath


@dataclass(frozen=True)
class Output:
    """One output of a derivation.

    ``path`` is the absolute store path, or ``""`` before output paths are calculated.
    ``ca_hash`` is set for a fixed-output derivation's ``out``: the expected content hash
    together with its ingestion mode (flat, recursive or text).
    """

    path: str = ""
    ca_hash: CAHash | None = None

    @property
    def is_fixed(self) -> bool:
        """Whether this output is content-addressed with a known hash (a fixed output)."""
        return self.ca_hash is not None


@dataclass
class Derivation:
    """A Nix derivation, field for field as in the ATerm ``Derive(...)`` form.

    Environment values are bytes because Nix strings are: a ``.drv`` may carry values that are
    not UTF-8 (latin1, cp1252). Every other string is ``str``; bytes that are not UTF-8 in
    those fields are kept as lone surrogates (the ``surrogateescape`` error handler), so they
    round-trip unchanged. Mappings and sets are unordered here; the serialisers sort them the
    way Nix does (by the bytes).
    """

    outputs: dict[str, Output] = field(default_factory=dict)
    input_derivations: dict[str, set[str]] = field(default_factory=dict)
    input_sources: set[str] = field(default_factory=set)
    system: str = ""
    builder: str = ""
    arguments: list[str] = field(default_factory=list)
    environment: dict[str, bytes] = field(default_factory=dict)

    # -- serialisation -------------------------------------------------------------------

    def to_aterm_bytes(self) -> bytes:
        """The ATerm serialisation, byte for byte what C++ Nix writes to the ``.drv`` file."""
        from nix_compat.derivation.aterm_write import write_aterm

        return write_aterm(self)

    @classmethod
    def from_aterm_bytes(cls, data: bytes) -> Derivation:
        """Parse a ``.drv`` file's contents; raises :class:`ATermParseError`."""
        from nix_compat.derivation.aterm_parse import parse_aterm

        return parse_aterm(data)

    def to_json(self) -> str:
        """The JSON object ``nix show-derivation`` prints for this derivation (pretty, 2 spaces).

        Environment values that are not UTF-8 appear as lone surrogates; encode the result with
        ``errors="surrogateescape"`` to get the raw bytes Nix prints.
        """
        from nix_compat.derivation.json_form import derivation_to_json

        return derivation_to_json(self)

    @classmethod
    def from_json(cls, data: str | bytes) -> Derivation:
        """Read one derivation object in the ``nix show-derivation`` JSON form.

        Raises :class:`DerivationJSONError`.
        """
        from nix_compat.derivation.json_form import derivation_from_json

        return derivation_from_json(data)

    # -- validation ----------------------------------------------------------------------

    def validate(self, validate_output_paths: bool = True) -> None:
        """Check the derivation is well formed; raises :class:`DerivationError` if not.

        With ``validate_output_paths=False`` output paths are not checked, which is how a
        derivation is validated before its output paths have been calculated.
        """
        from nix_compat.derivation.validate import validate_derivation

        validate_derivation(self, validate_output_paths)

    # -- hashing and paths ---------------------------------------------------------------

    def calculate_derivation_path(self, name: str) -> StorePath:
        """The store path of this derivation's ``.drv`` file, for the derivation name ``name``."""
        from nix_compat.derivation.paths import calculate_derivation_path

        return calculate_derivation_path(self, name)

    def derivation_or_fod_hash(self, fn_get_hash_of_input_drv: Callable[[str], NixHash]) -> NixHash:
        """``hashDerivationModulo``: the hash output paths of dependents are derived from.

        ``fn_get_hash_of_input_drv`` maps an input derivation's absolute ``.drv`` path to its
        own result of this function; it is not called for a fixed-output derivation.
        """
        from nix_compat.derivation.paths import derivation_or_fod_hash

        return derivation_or_fod_hash(self, fn_get_hash_of_input_drv)

    def prepare_for_output_path_calculation(self) -> None:
        """Blank every output path and the environment entry of each output name.

        That is the state ``derivationStrict`` hashes before it knows the output paths.
        """
        from nix_compat.derivation.paths import prepare_for_output_path_calculation

        prepare_for_output_path_calculation(self)

    def calculate_output_paths(self, name: str, derivation_or_fod_hash: NixHash) -> None:
        """Fill in every output path and the environment entry named after each output.

        The outputs must be blank (see :meth:`prepare_for_output_path_calculation`).
        """
        from nix_compat.derivation.paths import calculate_output_paths

        calculate_output_paths(self, name, derivation_or_fod_hash)
