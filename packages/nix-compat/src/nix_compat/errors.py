"""The exception hierarchy of nix_compat.

Every error raised for malformed input derives from :class:`NixCompatError`, so a caller can
catch one type. The parsers of other formats (derivations, NAR, narinfo) define their own
subclasses next to their code; the ones for the basic formats live here.
"""

from __future__ import annotations


class NixCompatError(Exception):
    """Root of every error nix_compat raises for bad input."""


class Nixbase32Error(NixCompatError, ValueError):
    """Text is not valid nixbase32: a character outside the alphabet, or non-zero leftover bits."""


class HashParseError(NixCompatError, ValueError):
    """A hash, hash algorithm or content address could not be parsed or is inconsistent."""


class StorePathError(NixCompatError, ValueError):
    """A store path or store path name is malformed, or a store path cannot be built."""
