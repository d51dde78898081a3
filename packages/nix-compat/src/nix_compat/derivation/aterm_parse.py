"""Parse the ATerm form of ``.drv`` files, as C++ Nix's ``parseDerivation`` does.

The grammar is exactly what :mod:`aterm_write` produces: no whitespace, strings in double
quotes with ``\\``-escapes (``\\n``, ``\\r``, ``\\t``; any other escaped byte stands for
itself). Environment values are returned as bytes, every other string as ``str`` with bytes
that are not UTF-8 kept as lone surrogates, so writing the result back gives the same bytes.
Entries may appear in any order (the writer sorts them); a repeated key is an error because
it would silently lose data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NoReturn

from nix_compat.derivation.errors import ATermParseError, DerivationError
from nix_compat.derivation.model import Derivation, Output
from nix_compat.derivation.output_hash import parse_ca_hash_fields

# A whole quoted string: runs of ordinary bytes separated by backslash escapes.
_STRING = re.compile(rb'"([^"\\]*(?:\\.[^"\\]*)*)"', re.DOTALL)
_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)
# An odd run of backslashes ending the input leaves its last escape unterminated.
_LAST_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\\Z")
_UNESCAPED = {b"n": b"\n", b"r": b"\r", b"t": b"\t"}


def _unescape(match: re.Match[bytes]) -> bytes:
    """Nix's escapes: ``\\n``, ``\\r``, ``\\t``; any other escaped byte stands for itself."""
    escaped = match.group(1)
    return _UNESCAPED.get(escaped, escaped)


def parse_aterm(data: bytes) -> Derivation:
    """Parse the contents of a ``.drv`` file; raises :class:`ATermParseError` naming the offset."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"parse_aterm expects bytes, not {type(data).__name__}")
    parser = _Parser(bytes(data))
    drv = parser.derivation()
    if parser.pos != len(parser.data):
        raise ATermParseError("unexpected data after the derivation's closing ')'", parser.pos)
    return drv


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class _Parser:
    """A cursor over the input bytes with one method per grammar rule."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    # -- tokens --------------------------------------------------------------------------

    def _describe_here(self) -> str:
        if self.pos >= len(self.data):
            return "end of input"
        return repr(self.data[self.pos : self.pos + 1])[1:]

    def expect(self, token: bytes, what: str) -> None:
        if self.data.startswith(token, self.pos):
            self.pos += len(token)
            return
        start = self.pos
        while self.pos - start < len(token) and self.peek_is(token[self.pos - start :][:1]):
            self.pos += 1
        raise ATermParseError(
            f"expected {token.decode()!r} {what}, found {self._describe_here()}", self.pos
        )

    def peek_is(self, token: bytes) -> bool:
        return self.data.startswith(token, self.pos)

    def string(self, what: str) -> bytes:
        """A double-quoted string, unescaped."""
        match = _STRING.match(self.data, self.pos)
        if match is None:
            self._raise_string_error(what)
        self.pos = match.end()
        body = match.group(1)
        if b"\\" not in body:
            return body
        return _ESCAPE.sub(_unescape, body)

    def _raise_string_error(self, what: str) -> NoReturn:
        start = self.pos
        if not self.peek_is(b'"'):
            raise ATermParseError(
                f"expected '\"' starting {what}, found {self._describe_here()}", start
            )
        escape = _LAST_ESCAPE.search(self.data, start + 1)
        if escape is not None and escape.end() == len(self.data):
            raise ATermParseError(f"unterminated escape sequence in {what}", escape.start())
        raise ATermParseError(f"unterminated string in {what} (started here)", start)

    def text(self, what: str) -> str:
        return _decode(self.string(what))

    def string_list(self, what: str) -> list[tuple[int, str]]:
        """``[ "a", "b", ... ]`` with the offset of each element."""
        self.expect(b"[", f"opening the list of {what}")
        items: list[tuple[int, str]] = []
        if self.peek_is(b"]"):
            self.pos += 1
            return items
        while True:
            offset = self.pos
            items.append((offset, self.text(what)))
            if self.peek_is(b"]"):
                self.pos += 1
                return items
            self.expect(b",", f"or ']' in the list of {what}")

    def unique_set(self, what: str) -> set[str]:
        result: set[str] = set()
        for offset, item in self.string_list(what):
            if item in result:
                raise ATermParseError(f"duplicate entry {item!r} in {what}", offset)
            result.add(item)
        return result

    def tuples(self, what: str, element: Callable[[_Parser], None]) -> None:
        """``[ (..), (..) ]``, calling ``element`` for the inside of each tuple."""
        self.expect(b"[", f"opening the list of {what}")
        if self.peek_is(b"]"):
            self.pos += 1
            return
        while True:
            self.expect(b"(", f"opening an entry of {what}")
            element(self)
            self.expect(b")", f"closing an entry of {what}")
            if self.peek_is(b"]"):
                self.pos += 1
                return
            self.expect(b",", f"or ']' in the list of {what}")

    # -- the derivation ------------------------------------------------------------------

    def derivation(self) -> Derivation:
        drv = Derivation()
        self.expect(b"Derive(", "at the start of a derivation")
        self.tuples("outputs", lambda p: p.output(drv))
        self.expect(b",", "after the outputs")
        self.tuples("input derivations", lambda p: p.input_derivation(drv))
        self.expect(b",", "after the input derivations")
        drv.input_sources = self.unique_set("input sources")
        self.expect(b",", "after the input sources")
        drv.system = self.text("the system")
        self.expect(b",", "after the system")
        drv.builder = self.text("the builder")
        self.expect(b",", "after the builder")
        drv.arguments = [arg for _, arg in self.string_list("arguments")]
        self.expect(b",", "after the arguments")
        self.tuples("environment", lambda p: p.env_entry(drv))
        self.expect(b")", "closing the derivation")
        return drv

    def output(self, drv: Derivation) -> None:
        offset = self.pos
        name = self.text("an output name")
        self.expect(b",", "after the output name")
        path = self.text("an output path")
        self.expect(b",", "after the output path")
        algo_offset = self.pos
        algo = self.text("an output hash algorithm")
        self.expect(b",", "after the output hash algorithm")
        digest = self.text("an output hash")
        if name in drv.outputs:
            raise ATermParseError(f"duplicate output {name!r}", offset)
        try:
            ca_hash = parse_ca_hash_fields(algo, digest)
        except DerivationError as e:
            raise ATermParseError(f"output {name!r}: {e}", algo_offset) from None
        drv.outputs[name] = Output(path, ca_hash)

    def input_derivation(self, drv: Derivation) -> None:
        offset = self.pos
        path = self.text("an input derivation path")
        self.expect(b",", "after the input derivation path")
        names = self.unique_set(f"output names of input derivation {path!r}")
        if path in drv.input_derivations:
            raise ATermParseError(f"duplicate input derivation {path!r}", offset)
        drv.input_derivations[path] = names

    def env_entry(self, drv: Derivation) -> None:
        offset = self.pos
        key = self.text("an environment variable name")
        self.expect(b",", "after the environment variable name")
        value = self.string(f"the value of environment variable {key!r}")
        if key in drv.environment:
            raise ATermParseError(f"duplicate environment variable {key!r}", offset)
        drv.environment[key] = value
