#!/usr/bin/env python3
"""Parse the Nix language test corpus and check every file behaves as required.

In ../shared/seed/tvix/eval/src/tests (nix_tests and tvix_tests, including
notyetpassing): every `parse-okay-*` file parses and every `parse-fail-*`
file fails; every `eval-okay-*` and `identity-*` file parses; each
`eval-fail-*` file parses unless C++ Nix rejects it as a syntax error (asked
through `nix-instantiate --parse` when it is installed; a known list
otherwise). C++ Nix also reports undefined variables while parsing: those
`parse-fail-*` files are expected to parse here (the compiler rejects them)
and are counted separately.

Prints counts per category and exits non-zero if any file misbehaves.
Usage: python tools/parse_corpus.py [CORPUS_DIR] [-v]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "seed" / "tvix" / "eval" / "src" / "tests"
# eval-fail files C++ Nix 2.8 rejects while parsing (used without nix-instantiate).
KNOWN_NIX_SYNTAX_ERRORS = {"eval-fail-path-slash.nix"}
KNOWN_UNDEFINED_VARIABLE = {"parse-fail-undef-var.nix", "parse-fail-regression-20060610.nix"}


def nix_verdict(path: Path) -> str | None:
    """'ok', 'syntax' or 'undefined' according to C++ Nix; None without Nix."""
    nix = shutil.which("nix-instantiate")
    if nix is None:
        return None
    proc = subprocess.run([nix, "--parse", str(path)], capture_output=True, text=True, check=False)
    if proc.returncode == 0:
        return "ok"
    return "undefined" if "undefined variable" in proc.stderr else "syntax"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("-v", "--verbose", action="store_true", help="print every file")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "packages" / "tvix-eval" / "src"))
    from tvix_eval.errors import NixParseError
    from tvix_eval.syntax import parse

    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    counts: Counter[str] = Counter()
    failures: list[str] = []
    for path in sorted(args.corpus.rglob("*.nix")):
        name = path.name
        try:
            parse(path.read_bytes(), str(path))
            error = None
        except NixParseError as exc:
            error = exc.render()
        if name.startswith("parse-okay-"):
            category, good = "parse-okay", error is None
        elif name.startswith("parse-fail-"):
            verdict = nix_verdict(path)
            undefined = verdict == "undefined" or (
                verdict is None and name in KNOWN_UNDEFINED_VARIABLE
            )
            if undefined:
                category, good = "parse-fail (undefined variable: parses here)", error is None
            else:
                category, good = "parse-fail", error is not None
        elif name.startswith(("eval-okay-", "identity-")):
            category = "eval-okay" if name.startswith("eval-okay-") else "identity"
            good = error is None
        elif name.startswith("eval-fail-"):
            verdict = nix_verdict(path)
            nix_syntax = verdict == "syntax" or (
                verdict is None and name in KNOWN_NIX_SYNTAX_ERRORS
            )
            if nix_syntax:
                category, good = "eval-fail (syntax error in C++ Nix too)", error is not None
            else:
                category, good = "eval-fail", error is None
        else:
            category, good = "other", True
        counts[f"{category}: {'as required' if good else 'WRONG'}"] += 1
        if not good:
            failures.append(f"{path}: {error or 'parsed, but must fail'}")
        if args.verbose:
            print(f"{'ok ' if good else 'BAD'} {category:45} {path.relative_to(args.corpus)}")
    for key in sorted(counts):
        print(f"{counts[key]:5}  {key}")
    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    print(f"{sum(counts.values())} files, {len(failures)} wrong")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
