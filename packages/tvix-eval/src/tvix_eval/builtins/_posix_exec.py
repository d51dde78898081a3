"""libstdc++'s ``std::regex`` depth-first executor in POSIX mode, for ``builtins.split``.

For searches, libstdc++ explores *both* sides of every alternation and keeps the longest match
found, but stops trying fewer repetitions of a loop once any match is known. No backtracking
engine with leftmost-first or leftmost-longest semantics reproduces that, so this module builds
the same automaton libstdc++ builds (from the parse tree of the translated pattern) and runs the
same depth-first search. It is used only where the two differ (patterns with alternation) and
gives up (returns ``None``) on large inputs or when the search takes too many steps.
"""

from __future__ import annotations

import re
import re._constants as _c  # type: ignore[import-not-found]
import re._parser as _p  # type: ignore[import-not-found]
from typing import Any

MAX_SUBJECT = 4096
MAX_STEPS = 200_000

_MATCH, _ALT, _REPEAT, _BEGIN, _END, _BOL, _EOL, _DUMMY, _ACCEPT = range(9)


class _GiveUp(Exception):
    pass


class _NFA:
    """States are lists ``[op, next, alt_or_arg]``; ``next``/``alt`` are state indices."""

    def __init__(self) -> None:
        self.states: list[list[Any]] = []

    def add(self, op: int, arg: Any = None) -> int:
        self.states.append([op, -1, arg])
        return len(self.states) - 1

    def seq(self, items: Any) -> tuple[int, int]:
        """Build a sequence of parse-tree items; returns (start, end) with end's next open."""
        start = end = self.add(_DUMMY)
        for op, av in items:
            s, e = self.item(op, av)
            self.states[end][1] = s
            end = e
        return start, end

    def item(self, op: Any, av: Any) -> tuple[int, int]:
        if op is _c.LITERAL:
            table = bytearray(256)
            table[av] = 1
            s = self.add(_MATCH, bytes(table))
            return s, s
        if op is _c.NOT_LITERAL:
            table = bytearray(b"\x01" * 256)
            table[av] = 0
            s = self.add(_MATCH, bytes(table))
            return s, s
        if op is _c.ANY:
            s = self.add(_MATCH, b"\x01" * 256)
            return s, s
        if op is _c.IN:
            s = self.add(_MATCH, _table(av))
            return s, s
        if op is _c.AT:
            s = self.add(_BOL if av is _c.AT_BEGINNING_STRING else _EOL)
            return s, s
        if op is _c.SUBPATTERN:
            group, _, _, body = av
            if group is None:
                return self.seq(body)
            b = self.add(_BEGIN, group)
            s, e = self.seq(body)
            self.states[b][1] = s
            end = self.add(_END, group)
            self.states[e][1] = end
            return b, end
        if op is _c.BRANCH:
            _, branches = av
            left = self.seq(branches[0])
            for branch in branches[1:]:
                right = self.seq(branch)
                end = self.add(_DUMMY)
                self.states[left[1]][1] = end
                self.states[right[1]][1] = end
                alt = self.add(_ALT, left[0])
                self.states[alt][1] = right[0]
                left = (alt, end)
            return left
        if op is _c.MAX_REPEAT:
            lo, hi, body = av
            start = end = self.add(_DUMMY)
            for _ in range(lo):
                s, e = self.seq(body)
                self.states[end][1] = s
                end = e
            if hi is _c.MAXREPEAT:
                s, e = self.seq(body)
                r = self.add(_REPEAT, s)
                self.states[e][1] = r
                self.states[end][1] = r
                return start, r
            last = self.add(_DUMMY)
            for _ in range(hi - lo):
                s, e = self.seq(body)
                r = self.add(_REPEAT, s)
                self.states[r][1] = last
                self.states[end][1] = r
                end = e
            self.states[end][1] = last
            return start, last
        raise _GiveUp


def _table(items: Any) -> bytes:
    table = bytearray(256)
    negate = False
    for op, av in items:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            table[av] = 1
        elif op is _c.RANGE:
            for b in range(av[0], av[1] + 1):
                table[b] = 1
        else:
            raise _GiveUp
    if negate:
        return bytes(1 - b for b in table)
    return bytes(table)


class Program:
    """The automaton of one pattern and the number of its capture groups."""

    def __init__(self, rx: re.Pattern[bytes]) -> None:
        tree = _p.parse(rx.pattern, rx.flags)
        nfa = _NFA()
        start, end = nfa.seq(list(tree))
        accept = nfa.add(_ACCEPT)
        nfa.states[end][1] = accept
        self.states = [tuple(s) for s in nfa.states]
        self.start = start
        self.groups = rx.groups


class _Run:
    def __init__(
        self, prog: Program, subject: bytes, begin: int, not_null: bool, steps: list[int]
    ) -> None:
        self.states = prog.states
        self.s = subject
        self.n = len(subject)
        self.begin = begin
        self.not_null = not_null
        self.cur: list[tuple[int, int, bool]] = [(-1, -1, False)] * (prog.groups + 1)
        self.results: list[tuple[int, int, bool]] | None = None
        self.sol_pos = -1
        self.has_sol = False
        self.rep: dict[int, tuple[int, int]] = {}
        self.steps = steps

    def dfs(self, i: int, pos: int) -> None:
        steps = self.steps
        steps[0] += 1
        if steps[0] > MAX_STEPS:
            raise _GiveUp
        op, nxt, arg = self.states[i]
        if op == _MATCH:
            if pos < self.n and arg[self.s[pos]]:
                self.dfs(nxt, pos + 1)
        elif op == _DUMMY:
            self.dfs(nxt, pos)
        elif op == _ALT:
            self.dfs(arg, pos)
            had = self.has_sol
            self.has_sol = False
            self.dfs(nxt, pos)
            self.has_sol = self.has_sol or had
        elif op == _REPEAT:
            count = self.rep.get(i)
            if count is None or count[1] == 0 or count[0] != pos:
                self.rep[i] = (pos, 1)
                self.dfs(arg, pos)
                if count is None:
                    del self.rep[i]
                else:
                    self.rep[i] = count
            elif count[1] < 2:
                self.rep[i] = (pos, 2)
                self.dfs(arg, pos)
                self.rep[i] = count
            if not self.has_sol:
                self.dfs(nxt, pos)
        elif op == _BEGIN:
            old = self.cur[arg]
            self.cur[arg] = (pos, old[1], old[2])
            self.dfs(nxt, pos)
            self.cur[arg] = old
        elif op == _END:
            old = self.cur[arg]
            self.cur[arg] = (old[0], pos, True)
            self.dfs(nxt, pos)
            self.cur[arg] = old
        elif op == _BOL:
            if pos == 0:
                self.dfs(nxt, pos)
        elif op == _EOL:
            if pos == self.n:
                self.dfs(nxt, pos)
        else:  # accept (prefix mode)
            if self.not_null and pos == self.begin:
                return
            self.has_sol = True
            if self.sol_pos < 0 or pos > self.sol_pos:
                self.sol_pos = pos
                self.results = list(self.cur)
                self.results[0] = (self.begin, pos, True)


def _search_at(
    prog: Program, subject: bytes, begin: int, not_null: bool, steps: list[int]
) -> list[tuple[int, int, bool]] | None:
    run = _Run(prog, subject, begin, not_null, steps)
    run.dfs(prog.start, begin)
    return run.results if run.has_sol else None


def _search(
    prog: Program,
    subject: bytes,
    start: int,
    *,
    continuous: bool,
    not_null: bool,
    steps: list[int],
) -> list[tuple[int, int, bool]] | None:
    """``std::regex_search`` from ``start``."""
    r = _search_at(prog, subject, start, not_null, steps)
    if r is not None or continuous:
        return r
    for begin in range(start + 1, len(subject) + 1):
        r = _search_at(prog, subject, begin, not_null, steps)
        if r is not None:
            return r
    return None


def split_spans(
    prog: Program, subject: bytes
) -> list[tuple[int, int, list[tuple[int, int] | None]]] | None:
    """What ``std::sregex_iterator`` yields: ``(start, end, groups)``; None if it gives up."""
    if len(subject) > MAX_SUBJECT:
        return None
    out: list[tuple[int, int, list[tuple[int, int] | None]]] = []
    steps = [0]
    try:
        m = _search(prog, subject, 0, continuous=False, not_null=False, steps=steps)
        while m is not None:
            start, end, _ = m[0]
            out.append((start, end, [(a, b) if ok else None for a, b, ok in m[1:]]))
            pos = end
            if start == end:
                if pos == len(subject):
                    break
                m = _search(prog, subject, pos, continuous=True, not_null=True, steps=steps)
                if m is not None:
                    continue
                pos += 1
            m = _search(prog, subject, pos, continuous=False, not_null=False, steps=steps)
    except (_GiveUp, RecursionError):
        return None
    return out
