"""JSON decoding for ``builtins.fromJSON`` with C++ Nix's (nlohmann::json's) results and errors.

Well-formed input is decoded by Python's C-accelerated :mod:`json` with hooks that give Nix's
number semantics. Anything else, and the few inputs where Python is more lenient than nlohmann
(lone surrogate escapes, ill-formed UTF-8, ``NaN``, embedded NUL), goes through :class:`_Parser`,
a byte-level re-implementation of nlohmann's lexer and parser that produces its exact messages.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tvix_eval.runtime.values import NixAttrs

_U64 = 2**64
_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1


class JSONError(ValueError):
    """The message of an nlohmann exception (``[json.exception.…] …``)."""


def _number_int(text: str) -> int | float:
    """An integer literal as nlohmann (uint64 / int64, else double) and Nix (int64) see it."""
    if len(text) > 22:
        return float(text)
    n = int(text)
    if n < 0:
        return n if n >= _I64_MIN else float(text)
    if n < _U64:
        return n - _U64 if n > _I64_MAX else n
    return float(text)


class _Overflow(Exception):
    pass


def _number_float(text: str) -> float:
    x = float(text)
    if x in (float("inf"), float("-inf")):
        raise _Overflow(text)
    return x


def _reject_constant(text: str) -> Any:
    raise ValueError(text)


_DECODER = json.JSONDecoder(
    object_hook=NixAttrs,
    parse_int=_number_int,
    parse_float=_number_float,
    parse_constant=_reject_constant,
)
#: without hooks for numbers (a Python call per number) where Python reads them as nlohmann does
_PLAIN_DECODER = json.JSONDecoder(object_hook=NixAttrs, parse_constant=_reject_constant)
#: text that may hold a number read differently without the hooks: a run of 19 digits (beyond
#: int64, or a float that may overflow) or an exponent (may overflow); it may also be in a string
_NUMBER_RISK = re.compile(r"\d{19}|\d[eE]")
_SLOW = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")


def from_json(text: str) -> Any:
    """Decode ``text`` into Nix values; raises :class:`JSONError` with nlohmann's message."""
    fast = text.isascii() or _is_utf8(text)
    if fast and _SLOW.search(text) is None:
        decoder = _DECODER if _NUMBER_RISK.search(text) else _PLAIN_DECODER
        try:
            return decoder.decode(text)
        except _Overflow as e:
            raise JSONError(
                f"[json.exception.out_of_range.406] number overflow parsing '{e.args[0]}'"
            ) from None
        except (ValueError, RecursionError):
            pass
    return _Parser(text.encode("utf-8", "surrogateescape")).parse()


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_CONTROL_NAMES = [
    "NUL",
    "SOH",
    "STX",
    "ETX",
    "EOT",
    "ENQ",
    "ACK",
    "BEL",
    "BS",
    "HT",
    "LF",
    "VT",
    "FF",
    "CR",
    "SO",
    "SI",
    "DLE",
    "DC1",
    "DC2",
    "DC3",
    "DC4",
    "NAK",
    "SYN",
    "ETB",
    "CAN",
    "EM",
    "SUB",
    "ESC",
    "FS",
    "GS",
    "RS",
    "US",
]
_SHORT_ESCAPES = {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}
_ESCAPES = {
    0x22: 0x22,
    0x5C: 0x5C,
    0x2F: 0x2F,
    0x62: 0x08,
    0x66: 0x0C,
    0x6E: 0x0A,
    0x72: 0x0D,
    0x74: 0x09,
}

# token kinds, named as nlohmann's token_type_name() prints them
_T_TRUE = "true literal"
_T_FALSE = "false literal"
_T_NULL = "null literal"
_T_STRING = "string literal"
_T_NUMBER = "number literal"
_T_LBRACKET = "'['"
_T_LBRACE = "'{'"
_T_RBRACKET = "']'"
_T_RBRACE = "'}'"
_T_COLON = "':'"
_T_COMMA = "','"
_T_ERROR = "<parse error>"
_T_EOF = "end of input"
_T_VALUE = "'[', '{', or a literal"


class _Parser:
    """nlohmann::json's lexer and SAX-style parser, on bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.line = 1
        self.col = 0
        self.token_string = bytearray()
        self.error = ""
        self.value: Any = None

    # ----------------------------------------------------------------- lexer

    def get(self) -> int:
        """The next byte, or -1 at the end (which counts as a read character, as in nlohmann)."""
        self.col += 1
        if self.pos >= len(self.data):
            self.pos += 1
            return -1
        c = self.data[self.pos]
        self.pos += 1
        self.token_string.append(c)
        if c == 0x0A:
            self.line += 1
            self.col = 0
        return c

    def unget(self) -> None:
        self.pos -= 1
        if self.pos < len(self.data):
            c = self.data[self.pos]
            if c == 0x0A:
                self.line -= 1
            else:
                self.col -= 1
            del self.token_string[-1:]
        else:
            self.col -= 1

    def scan(self) -> str:
        c = self.get()
        while c in (0x20, 0x09, 0x0A, 0x0D):
            c = self.get()
        if c == 0x5B:
            return _T_LBRACKET
        if c == 0x5D:
            return _T_RBRACKET
        if c == 0x7B:
            return _T_LBRACE
        if c == 0x7D:
            return _T_RBRACE
        if c == 0x3A:
            return _T_COLON
        if c == 0x2C:
            return _T_COMMA
        if c == 0x74:
            return self.literal(b"rue", True, _T_TRUE)
        if c == 0x66:
            return self.literal(b"alse", False, _T_FALSE)
        if c == 0x6E:
            return self.literal(b"ull", None, _T_NULL)
        if c == 0x22:
            return self.scan_string()
        if c == 0x2D or 0x30 <= c <= 0x39:
            return self.scan_number(c)
        if c in (-1, 0):
            return _T_EOF
        self.error = "invalid literal"
        return _T_ERROR

    def literal(self, rest: bytes, value: Any, kind: str) -> str:
        for expected in rest:
            if self.get() != expected:
                self.error = "invalid literal"
                return _T_ERROR
        self.value = value
        return kind

    def fail(self, message: str) -> str:
        self.error = message
        return _T_ERROR

    def hex4(self) -> int:
        n = 0
        for _ in range(4):
            c = self.get()
            if 0x30 <= c <= 0x39:
                n = n * 16 + c - 0x30
            elif 0x41 <= c <= 0x46:
                n = n * 16 + c - 0x37
            elif 0x61 <= c <= 0x66:
                n = n * 16 + c - 0x57
            else:
                return -1
        return n

    def scan_string(self) -> str:
        self.token_string = bytearray(b'"')
        out = bytearray()
        while True:
            c = self.get()
            if c == -1:
                return self.fail("invalid string: missing closing quote")
            if c == 0x22:
                self.value = out.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                return _T_STRING
            if c == 0x5C:
                e = self.get()
                if e == 0x75:
                    cp = self.hex4()
                    if cp < 0:
                        return self.fail("invalid string: '\\u' must be followed by 4 hex digits")
                    if 0xD800 <= cp <= 0xDBFF:
                        if self.get() != 0x5C or self.get() != 0x75:
                            return self.fail(
                                "invalid string: surrogate U+D800..U+DBFF must be followed by "
                                "U+DC00..U+DFFF"
                            )
                        lo = self.hex4()
                        if lo < 0:
                            return self.fail(
                                "invalid string: '\\u' must be followed by 4 hex digits"
                            )
                        if not 0xDC00 <= lo <= 0xDFFF:
                            return self.fail(
                                "invalid string: surrogate U+D800..U+DBFF must be followed by "
                                "U+DC00..U+DFFF"
                            )
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                    elif 0xDC00 <= cp <= 0xDFFF:
                        return self.fail(
                            "invalid string: surrogate U+DC00..U+DFFF must follow U+D800..U+DBFF"
                        )
                    out += chr(cp).encode("utf-8")
                    continue
                r = _ESCAPES.get(e)
                if r is None:
                    return self.fail("invalid string: forbidden character after backslash")
                out.append(r)
                continue
            if c < 0x20:
                esc = _SHORT_ESCAPES.get(c)
                how = f"\\u{c:04X}" + (f" or {esc}" if esc else "")
                return self.fail(
                    f"invalid string: control character U+{c:04X} ({_CONTROL_NAMES[c]}) "
                    f"must be escaped to {how}"
                )
            if c < 0x80:
                out.append(c)
                continue
            if not self.utf8_tail(c, out):
                return self.fail("invalid string: ill-formed UTF-8 byte")

    def utf8_tail(self, c: int, out: bytearray) -> bool:
        """Read the rest of a multi-byte UTF-8 sequence starting with ``c`` (nlohmann's ranges)."""
        if 0xC2 <= c <= 0xDF:
            ranges = [(0x80, 0xBF)]
        elif c == 0xE0:
            ranges = [(0xA0, 0xBF), (0x80, 0xBF)]
        elif 0xE1 <= c <= 0xEC or 0xEE <= c <= 0xEF:
            ranges = [(0x80, 0xBF), (0x80, 0xBF)]
        elif c == 0xED:
            ranges = [(0x80, 0x9F), (0x80, 0xBF)]
        elif c == 0xF0:
            ranges = [(0x90, 0xBF), (0x80, 0xBF), (0x80, 0xBF)]
        elif 0xF1 <= c <= 0xF3:
            ranges = [(0x80, 0xBF)] * 3
        elif c == 0xF4:
            ranges = [(0x80, 0x8F), (0x80, 0xBF), (0x80, 0xBF)]
        else:
            return False
        out.append(c)
        for lo, hi in ranges:
            b = self.get()
            if not lo <= b <= hi:
                return False
            out.append(b)
        return True

    def scan_number(self, c: int) -> str:
        self.token_string = bytearray([c])
        is_float = False
        if c == 0x2D:
            c = self.get()
            if not 0x30 <= c <= 0x39:
                return self.fail("invalid number; expected digit after '-'")
        if c != 0x30:
            c = self.get()
            while 0x30 <= c <= 0x39:
                c = self.get()
        else:
            c = self.get()
        if c == 0x2E:
            is_float = True
            c = self.get()
            if not 0x30 <= c <= 0x39:
                return self.fail("invalid number; expected digit after '.'")
            while 0x30 <= c <= 0x39:
                c = self.get()
        if c in (0x65, 0x45):
            is_float = True
            c = self.get()
            if c in (0x2B, 0x2D):
                c = self.get()
                if not 0x30 <= c <= 0x39:
                    return self.fail("invalid number; expected digit after exponent sign")
            elif not 0x30 <= c <= 0x39:
                return self.fail("invalid number; expected '+', '-', or digit after exponent")
            while 0x30 <= c <= 0x39:
                c = self.get()
        self.unget()
        text = self.token_string.decode("ascii")
        self.value = float(text) if is_float else _number_int(text)
        return _T_NUMBER

    # ----------------------------------------------------------------- parser

    def token_text(self) -> str:
        out = bytearray()
        for b in self.token_string:
            out += f"<U+{b:04X}>".encode() if b <= 0x1F else bytes((b,))
        return out.decode("utf-8", "surrogateescape")

    def syntax_error(self, token: str, context: str, expected: str | None) -> JSONError:
        msg = f"syntax error while parsing {context} - "
        if token == _T_ERROR:
            msg += f"{self.error}; last read: '{self.token_text()}'"
        else:
            msg += f"unexpected {token}"
        if expected is not None:
            msg += f"; expected {expected}"
        return JSONError(
            f"[json.exception.parse_error.101] parse error at line {self.line}, "
            f"column {self.col}: {msg}"
        )

    def number(self) -> Any:
        v = self.value
        if type(v) is float and v in (float("inf"), float("-inf")):
            raise JSONError(
                "[json.exception.out_of_range.406] number overflow parsing "
                f"'{self.token_string.decode('ascii')}'"
            )
        return v

    def parse(self) -> Any:
        token = self.scan()
        result = self.parse_value(token)
        token = self.scan()
        if token != _T_EOF:
            raise self.syntax_error(token, "value", _T_EOF)
        return result

    def parse_value(self, token: str) -> Any:
        if token == _T_LBRACE:
            return self.parse_object()
        if token == _T_LBRACKET:
            return self.parse_array()
        if token in (_T_TRUE, _T_FALSE, _T_NULL, _T_STRING):
            return self.value
        if token == _T_NUMBER:
            return self.number()
        if token == _T_ERROR:
            raise self.syntax_error(token, "value", None)
        raise self.syntax_error(token, "value", _T_VALUE)

    def parse_array(self) -> list[Any]:
        out: list[Any] = []
        token = self.scan()
        if token == _T_RBRACKET:
            return out
        while True:
            out.append(self.parse_value(token))
            token = self.scan()
            if token == _T_RBRACKET:
                return out
            if token != _T_COMMA:
                raise self.syntax_error(token, "array", _T_RBRACKET)
            token = self.scan()

    def parse_object(self) -> NixAttrs:
        d: dict[str, Any] = {}
        token = self.scan()
        if token == _T_RBRACE:
            return NixAttrs(d)
        while True:
            if token != _T_STRING:
                raise self.syntax_error(token, "object key", _T_STRING)
            key = self.value
            token = self.scan()
            if token != _T_COLON:
                raise self.syntax_error(token, "object separator", _T_COLON)
            d[key] = self.parse_value(self.scan())
            token = self.scan()
            if token == _T_RBRACE:
                return NixAttrs(d)
            if token != _T_COMMA:
                raise self.syntax_error(token, "object", _T_RBRACE)
            token = self.scan()
