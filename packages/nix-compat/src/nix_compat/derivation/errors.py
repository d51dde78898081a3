"""Errors raised for derivations: invalid contents, unparseable ATerm, malformed JSON."""

from __future__ import annotations

from nix_compat.errors import NixCompatError


class DerivationError(NixCompatError, ValueError):
    """A derivation is invalid (see :meth:`Derivation.validate`) or cannot be processed."""


class ATermParseError(DerivationError):
    """A ``.drv`` file is not a well-formed ATerm derivation.

    ``offset`` is the byte offset in the input where the problem was found.
    """

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} at byte offset {offset}")
        self.offset = offset


class DerivationJSONError(DerivationError):
    """A JSON document is not a derivation in the form ``nix show-derivation`` prints.

    ``field`` names the offending JSON field as a dotted path, e.g. ``outputs.out.hash``.
    """

    def __init__(self, message: str, field: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
