"""The tokenizer of the run-time parser.

It follows the flex lexer of C++ Nix 2.8 state by state (default, string,
indented string, path with interpolation) but works a token at a time with
one compiled regular expression per state, so no Python code runs per
character. The whole file is tokenized up front into parallel lists that the
parser indexes.

Token kinds are the names C++ Nix's bison grammar uses (``ID``, ``INT``,
``DOLLAR_CURLY``, ``'{'`` is just ``{``...), so syntax error messages can
print them the way Nix does (see :func:`describe`).

String tokens carry processed text: escapes resolved and CR / CRLF turned
into LF in ``"..."`` strings. Indented-string pieces are tagged with whether
they take part in indentation stripping (``IND_STR``) or came from an escape
(``IND_ESC``), which the parser needs for Nix's exact stripping rules.
"""

from __future__ import annotations

import re

from tvix_eval.errors import NixParseError
from tvix_eval.syntax.ast import Source, Span

__all__ = ["KEYWORDS", "Tokens", "describe", "tokenize"]

KEYWORDS = {
    "if": "IF",
    "then": "THEN",
    "else": "ELSE",
    "assert": "ASSERT",
    "with": "WITH",
    "let": "LET",
    "in": "IN",
    "rec": "REC",
    "inherit": "INHERIT",
    "or": "OR_KW",
}

_OPERATORS = {
    "...": "ELLIPSIS",
    "==": "EQ",
    "!=": "NEQ",
    "<=": "LEQ",
    ">=": "GEQ",
    "&&": "AND",
    "||": "OR",
    "->": "IMPL",
    "//": "UPDATE",
    "++": "CONCAT",
}

_PC = r"[a-zA-Z0-9._\-+]"


# Groups of the default state. Python's alternation takes the first
# alternative that matches, so the textual order reproduces flex's
# longest-match choice for every overlap that can occur; group numbers are
# used by the tokenizer loop, which tests them in order of frequency.
def _default_pattern(paths: bool) -> re.Pattern[str]:
    # Groups 1-3 (URI and paths) are disabled (never match) where the
    # tokenizer knows that no path or URI can start; see tokenize().
    uri = r"[a-zA-Z][a-zA-Z0-9+\-.]*:[a-zA-Z0-9%/?:@&=+$,\-_.!~*']+" if paths else "(?!)"
    seg = rf"{_PC}*/(?=\$\{{)|~/(?=\$\{{)" if paths else "(?!)"
    path = rf"{_PC}*(?:/{_PC}+)+/?|~(?:/{_PC}+)+/?" if paths else r"~(?:/[a-zA-Z0-9._\-+]+)+/?"
    seg = seg if paths else r"~/(?=\$\{)"
    return re.compile(
        r"(?:[ \t\r\n]++|\#[^\r\n]*+|/\*(?:[^*]++|\*++[^*/])*+\*++/)*+"
        r"(?:"
        rf"({uri})"  # 1 URI
        rf"|({seg})"  # 2 path start followed by ${
        rf"|({path})"  # 3 PATH / HPATH
        rf"|(<{_PC}+(?:/{_PC}+)*>)"  # 4 SPATH
        r"|((?:[1-9][0-9]*\.[0-9]*|0?\.[0-9]+)(?:[Ee][+-]?[0-9]+)?)"  # 5 FLOAT
        r"|([0-9]+)"  # 6 INT
        r"|([a-zA-Z_][a-zA-Z0-9_'\-]*)"  # 7 ID / keyword
        r"|(\.\.\.|==|!=|<=|>=|&&|\|\||->|//|\+\+)"  # 8 two/three-char operator
        r'|("((?:[^"\\$]++|\\.|\$(?!\{))*+)")'  # 9 (10) a whole string without ${
        r'|(")'  # 11 string open
        r"|(''(?:\ *\n)?)"  # 12 indented string open
        r"|(\$\{)"  # 13 DOLLAR_CURLY
        r"|(\{)"  # 14
        r"|(\})"  # 15
        r"|(/\*)"  # 16 unterminated comment
        r"|([:;,@?=\[\]().<>!+\-*/])"  # 17 punctuation
        r"|(.)"  # 18 any other character
        r"|(\Z)"  # 19 end of file
        r")",
        re.S,
    )


_TRIVIA = re.compile(r"[ \t\r\n]++|\#[^\r\n]*+|/\*(?:[^*]++|\*++[^*/])*+\*++/")
_DEFAULT = _default_pattern(True)
_DEFAULT_NO_PATH = _default_pattern(False)
# A run of path characters; a path or URI starting inside it must continue
# with '/' or ':' right after it.
_PC_RUN = re.compile(r"[a-zA-Z0-9._\-+]*+")
_PC_SET = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+")

_STRING = re.compile(
    r'((?:[^$"\\]++|\$[^{"\\]|\\.|\$\\.)++|(?:[^$"\\]++|\$[^{"\\]|\\.|\$\\.)*+\$(?="))'  # 1 STR
    r"|(\$\{)"  # 2
    r'|(")',  # 3
    re.S,
)

_IND = re.compile(
    r"((?:[^$']++|\$[^{']|'[^'$])++)"  # 1 text
    r"|(\$\{)"  # 2
    r"|(''')"  # 3 -> ''
    r"|(''\$)"  # 4 -> $
    r"|(''\\(.))"  # 5 escape
    r"|('')"  # 7 close
    r"|(\$)"  # 8 lone $
    r"|(')",  # 9 lone '
    re.S,
)

_PATH_REST = re.compile(r"[a-zA-Z0-9._\-+/]+")

_UNESCAPE = re.compile(r"\\(.)|\r\n?", re.S)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\r": "\n"}


def _unescape_match(m: re.Match[str]) -> str:
    c = m.group(1)
    if c is None:
        return "\n"
    return _ESCAPES.get(c, c)


def unescape(raw: str) -> str:
    """Resolve ``\\n \\r \\t \\x`` escapes and normalise CR / CRLF to LF."""
    if "\\" not in raw and "\r" not in raw:
        return raw
    return _UNESCAPE.sub(_unescape_match, raw)


_NAMES = {
    "EOF": "end of file",
    "INVALID": "invalid token",
    "STRING": "'\"'",
    "SIMPLE_PATH": "PATH",
    "IND_ESC": "IND_STR",
}


def describe(kind: str) -> str:
    """How bison's error messages name a token kind."""
    if kind in _NAMES:
        return _NAMES[kind]
    if len(kind) == 1:
        return f"'{kind}'"
    return kind


_DEFAULT_MODE, _STRING_MODE, _IND_MODE, _PATH_MODE = 0, 1, 2, 3


class Tokens:
    """Parallel lists of token kinds, values, start and end offsets."""

    __slots__ = ("ends", "kinds", "starts", "values")

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.values: list[object] = []
        self.starts: list[int] = []
        self.ends: list[int] = []


def _error(source: Source, offset: int, message: str) -> NixParseError:
    return NixParseError(message, Span(source, offset, offset))


def _number_float(source: Source, text: str, start: int) -> float:
    value = float(text)
    if value == float("inf") or (value == 0.0 and any(c in "123456789" for c in _mantissa(text))):
        raise _error(source, start, f"invalid float '{text}'")
    return value


def _mantissa(text: str) -> str:
    return text.lower().split("e", 1)[0]


def tokenize(source: Source) -> Tokens:
    """Split ``source.text`` into tokens, ending with an ``EOF`` token."""
    text = source.text
    toks = Tokens()
    kinds = toks.kinds
    values = toks.values
    starts = toks.starts
    ends = toks.ends
    kind_add = kinds.append
    value_add = values.append
    start_add = starts.append
    end_add = ends.append
    default_match = _DEFAULT.match
    no_path_match = _DEFAULT_NO_PATH.match
    pc_run = _PC_RUN.match
    pc_set = _PC_SET
    no_path_until = 0
    string_match = _STRING.match
    ind_match = _IND.match
    keywords = KEYWORDS
    operators = _OPERATORS
    stack: list[int] = []
    # Start offsets of the open strings, for "unterminated" errors.
    open_at: list[int] = []
    mode = _DEFAULT_MODE
    pos = 0
    n = len(text)
    while True:
        if mode == _DEFAULT_MODE:
            m = no_path_match(text, pos) if pos < no_path_until else default_match(text, pos)
            assert m is not None
            g = m.lastindex
            pos = m.end()
            if pos < n and text[pos] in pc_set and pos >= no_path_until:
                # The next token starts inside a run of path characters
                # (`a-b-c`, `1+2+3`). Unless the run ends in '/' or ':', no
                # path or URI can start in it: skip those alternatives, which
                # would otherwise rescan the run at every token (quadratic).
                run_end = pc_run(text, pos).end()  # type: ignore[union-attr]
                if run_end >= n or text[run_end] not in "/:":
                    no_path_until = run_end
            if g == 7:
                word = m.group(7)
                start = m.start(7)
                kind_add(keywords.get(word, "ID"))
                value_add(word)
            elif g == 17:
                word = m.group(17)
                kind_add(word)
                value_add(word)
                start = pos - 1
            elif g == 9:
                start = m.start(9)
                kind_add("STRING")
                value_add(unescape(m.group(10)))
            elif g == 6:
                word = m.group(6)
                start = m.start(6)
                kind_add("INT")
                value = int(word)
                if value > 0x7FFFFFFFFFFFFFFF:
                    raise _error(source, start, f"invalid integer '{word}'")
                value_add(value)
            elif g == 15:
                start = pos - 1
                kind_add("}")
                value_add("}")
                if stack:
                    mode = stack.pop()
            elif g == 14:
                start = pos - 1
                kind_add("{")
                value_add("{")
                stack.append(_DEFAULT_MODE)
            elif g == 3:
                word = m.group(3)
                start = m.start(3)
                if text.startswith("${", pos):
                    kind_add("HPATH" if word[0] == "~" else "PATH")
                    mode = _PATH_MODE
                elif word[-1] == "/":
                    if _PATH_REST.match(text, pos) is None:
                        raise _error(source, pos if pos < n else start, "path has a trailing slash")
                    # `/a//b`: C++ Nix lexes the rest as a path piece.
                    kind_add("HPATH" if word[0] == "~" else "PATH")
                    mode = _PATH_MODE
                else:
                    kind_add("SIMPLE_PATH")
                value_add(word)
            elif g == 8:
                word = m.group(8)
                start = m.start(8)
                kind_add(operators[word])
                value_add(word)
            elif g == 11:
                start = m.start(11)
                kind_add('"')
                value_add('"')
                stack.append(_DEFAULT_MODE)
                open_at.append(start)
                mode = _STRING_MODE
            elif g == 19:
                # C++ Nix reports "unexpected end of file" at its last
                # lexeme: trailing whitespace or comment, else the last token.
                last = ends[-1] if ends else 0
                start = starts[-1] if starts else 0
                for t in _TRIVIA.finditer(text, last, pos):
                    start = t.start()
                kind_add("EOF")
                value_add(None)
                start_add(start)
                end_add(pos)
                return toks
            elif g == 12:
                start = m.start(12)
                kind_add("IND_STRING_OPEN")
                value_add("''")
                stack.append(_DEFAULT_MODE)
                open_at.append(start)
                mode = _IND_MODE
            elif g == 13:
                start = m.start(13)
                kind_add("DOLLAR_CURLY")
                value_add("${")
                stack.append(_DEFAULT_MODE)
            elif g == 5:
                word = m.group(5)
                start = m.start(5)
                kind_add("FLOAT")
                value_add(_number_float(source, word, start))
            elif g == 1:
                word = m.group(1)
                start = m.start(1)
                kind_add("URI")
                value_add(word)
            elif g == 2:
                word = m.group(2)
                start = m.start(2)
                kind_add("HPATH" if word[0] == "~" else "PATH")
                value_add(word)
                mode = _PATH_MODE
            elif g == 4:
                word = m.group(4)
                start = m.start(4)
                kind_add("SPATH")
                value_add(word[1:-1])
            elif g == 18:
                start = pos - 1
                if text[start] == "\0":
                    raise _error(source, start, "NUL byte in source")
                kind_add("INVALID")
                value_add(text[start])
            else:  # g == 16
                raise _error(source, m.start(16), "unterminated comment")
            start_add(start)
            end_add(pos)
        elif mode == _STRING_MODE:
            m = string_match(text, pos)
            if m is None:
                raise _error(source, open_at[-1], "unterminated string")
            g = m.lastindex
            start = pos
            pos = m.end()
            if g == 1:
                kind_add("STR")
                value_add(unescape(m.group(1)))
            elif g == 2:
                kind_add("DOLLAR_CURLY")
                value_add("${")
                stack.append(_STRING_MODE)
                mode = _DEFAULT_MODE
            else:
                kind_add('"')
                value_add('"')
                open_at.pop()
                mode = stack.pop()
            start_add(start)
            end_add(pos)
        elif mode == _IND_MODE:
            m = ind_match(text, pos)
            if m is None:
                raise _error(source, open_at[-1], "unterminated indented string")
            g = m.lastindex
            start = pos
            pos = m.end()
            if g == 1:
                kind_add("IND_STR")
                value_add(m.group(1))
            elif g == 2:
                kind_add("DOLLAR_CURLY")
                value_add("${")
                stack.append(_IND_MODE)
                mode = _DEFAULT_MODE
            elif g == 7:
                kind_add("IND_STRING_CLOSE")
                value_add("''")
                open_at.pop()
                mode = stack.pop()
            else:
                kind_add("IND_ESC")
                if g == 3:
                    value_add("''")
                elif g in {4, 8}:
                    value_add("$")
                elif g == 9:
                    value_add("'")
                else:
                    c = m.group(6)
                    value_add(_ESCAPES.get(c, c))
            start_add(start)
            end_add(pos)
        else:  # _PATH_MODE: after a path segment or an interpolation in a path
            start = pos
            if text.startswith("${", pos):
                pos += 2
                kind_add("DOLLAR_CURLY")
                value_add("${")
                stack.append(_PATH_MODE)
                mode = _DEFAULT_MODE
            else:
                pm = _PATH_REST.match(text, pos)
                if pm is not None:
                    pos = pm.end()
                    word = pm.group()
                    if word[-1] == "/" and not text.startswith("${", pos):
                        raise _error(source, pos if pos < n else start, "path has a trailing slash")
                    kind_add("STR")
                    value_add(word)
                else:
                    kind_add("PATH_END")
                    value_add(None)
                    mode = _DEFAULT_MODE
            start_add(start)
            end_add(pos)
