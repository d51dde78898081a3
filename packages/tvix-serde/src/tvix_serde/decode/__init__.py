"""Decoders: functions from a Nix value (maybe a thunk) to a Python value of one target type.

A decoder is built once per target type (:func:`decoder_for`, cached) and forces only what its
type needs, so attributes a dataclass does not declare are never evaluated.
"""

from tvix_serde.decode.plan import Options, decoder_for

__all__ = ["Options", "decoder_for"]
