"""Hatch build hook: compile this distribution's .proto files (see tools/hatch_proto_hook.py)."""

import sys
from pathlib import Path

# The hook's logic sits beside this file in an sdist and in tools/ in the repository.
sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[2] / "tools")]
from hatch_proto_hook import ProtoBuildHook  # noqa: E402

__all__ = ["ProtoBuildHook"]
