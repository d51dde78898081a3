"""Nix derivations: the model, ATerm ``.drv`` files, JSON, validation and path calculation."""

from nix_compat.derivation.aterm_parse import parse_aterm
from nix_compat.derivation.aterm_write import escape_bytes, write_aterm
from nix_compat.derivation.errors import ATermParseError, DerivationError, DerivationJSONError
from nix_compat.derivation.json_form import (
    derivation_from_json,
    derivation_to_json,
    parse_show_derivation_json,
    show_derivation_json,
)
from nix_compat.derivation.model import Derivation, Output
from nix_compat.derivation.paths import output_path_name

__all__ = [
    "ATermParseError",
    "Derivation",
    "DerivationError",
    "DerivationJSONError",
    "Output",
    "derivation_from_json",
    "derivation_to_json",
    "escape_bytes",
    "output_path_name",
    "parse_aterm",
    "parse_show_derivation_json",
    "show_derivation_json",
    "write_aterm",
]
