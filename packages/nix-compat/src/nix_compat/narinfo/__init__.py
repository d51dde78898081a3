"""narinfo: the per-path metadata of Nix binary caches, its fingerprint and signatures."""

from nix_compat.narinfo.narinfo import NarInfo, NarInfoError, fingerprint
from nix_compat.narinfo.parse import parse_narinfo

__all__ = ["NarInfo", "NarInfoError", "fingerprint", "parse_narinfo"]
