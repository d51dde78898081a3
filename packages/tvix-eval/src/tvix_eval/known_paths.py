"""What one evaluation knows about the derivations and text files it produced.

Output paths depend on ``hashDerivationModulo`` of every input derivation, and an ``=drv``
string context pulls in the closure of a ``.drv``; C++ Nix gets both by reading ``.drv`` files
back from the store. Here they are remembered as they are instantiated (also when nothing is
written, as in ``--eval``), and read through the evaluation's IO only for derivations made
elsewhere. One :class:`KnownPaths` lives in each evaluation's state (:func:`known_paths`); a host
with a store installs one that can ask the store for references (:func:`set_known_paths`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nix_compat.derivation import Derivation
    from nix_compat.nixhash import NixHash

    from tvix_eval.runtime.context import EvalState

#: reads a store file, returning None when it is not available
FileReader = Callable[[str], bytes | None]
#: the references of a store path, or None when unknown
ReferenceReader = Callable[[str], list[str] | None]
#: told about every derivation instantiated: (drv path, derivation)
DerivationListener = Callable[[str, "Derivation"], None]

_STATE_KEY = "known_paths"


class UnknownPathError(Exception):
    """A derivation or store path is neither known to the evaluation nor in the store."""


def _no_references(path: str) -> list[str] | None:
    del path
    return None


class KnownPaths:
    """Derivations (with their modulo hashes) and references of paths made by this evaluation."""

    def __init__(
        self, read_file: FileReader, read_references: ReferenceReader = _no_references
    ) -> None:
        self._read_file = read_file
        self._read_references = read_references
        self._drvs: dict[str, Derivation] = {}
        self._hashes: dict[str, NixHash] = {}
        self._references: dict[str, frozenset[str]] = {}
        #: told about every derivation ``derivationStrict`` instantiates
        self.listener: DerivationListener | None = None

    def add_derivation(self, drv_path: str, drv: Derivation, modulo_hash: NixHash) -> None:
        """Record an instantiated derivation and its (unmasked) ``hashDerivationModulo``."""
        self._drvs[drv_path] = drv
        self._hashes[drv_path] = modulo_hash
        self._references[drv_path] = frozenset(drv.input_sources) | frozenset(drv.input_derivations)
        if self.listener is not None:
            self.listener(drv_path, drv)

    def add_references(self, path: str, references: list[str]) -> None:
        """Record the references of a store path this evaluation produced (``toFile``)."""
        self._references[path] = frozenset(references)

    def derivation(self, drv_path: str) -> Derivation:
        """The derivation stored at ``drv_path`` (known, or parsed from the store)."""
        drv = self._drvs.get(drv_path)
        if drv is not None:
            return drv
        from nix_compat.derivation import ATermParseError, Derivation

        data = self._read_file(drv_path)
        if data is None:
            raise UnknownPathError(f"path '{drv_path}' is not valid")
        try:
            drv = Derivation.from_aterm_bytes(data)
        except ATermParseError as e:
            raise UnknownPathError(f"error parsing derivation '{drv_path}': {e}") from None
        self._drvs[drv_path] = drv
        self._references[drv_path] = frozenset(drv.input_sources) | frozenset(drv.input_derivations)
        return drv

    def modulo_hash(self, drv_path: str) -> NixHash:
        """``hashDerivationModulo`` of an input derivation (computed from the store if needed)."""
        known = self._hashes.get(drv_path)
        if known is not None:
            return known
        drv = self.derivation(drv_path)
        result = drv.derivation_or_fod_hash(self.modulo_hash)
        self._hashes[drv_path] = result
        return result

    def references(self, path: str) -> frozenset[str]:
        """The references of a store path (empty for sources and unknown paths)."""
        refs = self._references.get(path)
        if refs is not None:
            return refs
        if path.endswith(".drv"):
            try:
                self.derivation(path)
                return self._references[path]
            except UnknownPathError:
                pass
        stored = self._read_references(path)
        refs = frozenset(stored or ())
        self._references[path] = refs
        return refs

    def closure(self, path: str) -> set[str]:
        """``computeFSClosure``: ``path`` and everything it references, transitively."""
        seen: set[str] = set()
        todo = [path]
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            todo.extend(self.references(p))
        return seen


def known_paths(state: EvalState) -> KnownPaths:
    """The :class:`KnownPaths` of an evaluation (made on first use, reading through its IO)."""
    known = state.extra.get(_STATE_KEY)
    if known is None:
        known = KnownPaths(_io_reader(state))
        state.extra[_STATE_KEY] = known
    assert isinstance(known, KnownPaths)
    return known


def set_known_paths(state: EvalState, known: KnownPaths) -> None:
    """Give an evaluation the :class:`KnownPaths` a host made (one that knows its store)."""
    state.extra[_STATE_KEY] = known


def _io_reader(state: EvalState) -> FileReader:
    def read(path: str) -> bytes | None:
        from tvix_eval.io import EvalIOError

        try:
            return state.io.read_file(path)
        except EvalIOError:
            return None

    return read
