"""``derivation``: C++ Nix's own Nix wrapper around ``derivationStrict``.

Every evaluator has it from the start, while :mod:`.derivation` (``derivationStrict`` with
nix_compat, hashing and JSON) loads only when a derivation is made; so the wrapper and the
switch for ``derivationStrict``'s warnings live here.
"""

from __future__ import annotations

from tvix_eval.builtins.registry import constant
from tvix_eval.runtime.values import Thunk, Value, force

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tvix_eval.runtime.context import EvalState

#: ``state.extra`` key: False turns the warnings of ``derivationStrict`` off
WARNINGS_KEY = "warnings"


def _derivation_wrapper(state: EvalState) -> Thunk:
    """``derivation``: the corepkgs wrapper, compiled on first use under its C++ Nix file name."""

    def code(_: object) -> Value:
        from tvix_eval.corepkgs import DERIVATION_NIX, read_corepkg

        loader = state.import_file
        assert loader is not None
        return force(loader(read_corepkg("derivation.nix").decode(), DERIVATION_NIX))

    return Thunk(code, None)


constant("derivation", factory=_derivation_wrapper, global_=True)
