"""Run the Nix language test corpus through tvix_eval, the way Nix's own lang test runner does.

For every ``eval-okay-*.nix``: evaluate with ``--eval --strict`` semantics (plus the test's
``.flags``), ``NIX_PATH`` set to the corpus' ``dir3:dir4``, ``TEST_VAR=foo``, ``HOME=/fake-home``,
and compare the printed value with ``.exp`` (and the XML output with ``.exp.xml``, as
``--xml --no-location``). Every ``eval-fail-*.nix`` must fail with a Nix error.
``parse-okay``/``parse-fail`` tests only parse. The corpus runs from a temporary copy in which
the symlinks the seed lost are recreated (:data:`UPSTREAM_SYMLINKS`, :data:`LANG_SIBLINGS`).
It runs three times: first every file is parsed (and stored in a parse cache of the run's own),
then every tree comes lazily from that cache, then every lambda's body is compiled to Python
source at its first call (``TVIX_TIER_THRESHOLD=1``; normally that happens at its second).

Tests that do not pass yet are listed, one per line with a reason, in
``tools/conformance_notyetpassing.txt`` (``name  # reason``). The run exits 0 only if every failure
is listed; listed tests that now pass are reported so the list can shrink.

Usage: ``python tools/conformance.py [--corpus DIR] [-v] [FILTER…]``
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "seed" / "tvix" / "eval" / "src" / "tests"
NOTYETPASSING = Path(__file__).resolve().parent / "conformance_notyetpassing.txt"
SUITES = ("nix_tests", "tvix_tests", "nix_tests/notyetpassing", "tvix_tests/notyetpassing")

#: Symlinks of the upstream corpus that the seed holds as text files containing the link target
#: (the way git stores a symlink): ``path -> target``, relative to the corpus root. The runner
#: evaluates a temporary copy of the corpus with these recreated.
UPSTREAM_SYMLINKS = {
    # the import cache is keyed by the real path: importing 1 and 2 yields the same value
    "tvix_tests/observable-eval-cache2.nix": "observable-eval-cache1.nix",
    # Nix's lang/readDir: a symlink to a directory and one to a file (readFileType, readDir)
    "nix_tests/notyetpassing/readDir/ldir": "foo",
    "nix_tests/notyetpassing/readDir/linked": "foo/git-hates-directories",
}

#: Tests moved from Nix's ``lang/`` into ``notyetpassing/`` that still refer to their old
#: siblings by relative path; in the copy those siblings are linked in (fixtures, not answers).
LANG_SIBLINGS = {
    "nix_tests/notyetpassing/lib.nix": "../lib.nix",
    "nix_tests/notyetpassing/dir1": "../dir1",
    "nix_tests/notyetpassing/dir2": "../dir2",
}


@dataclass
class Outcome:
    """The result of one test."""

    name: str
    ok: bool
    detail: str = ""


def load_list(path: Path) -> dict[str, str]:
    """The not-yet-passing list: test name -> reason."""
    out: dict[str, str] = {}
    if not path.exists():
        return out
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition("#")
        out[name.strip()] = reason.strip()
    return out


def _parse_flags(text: str, lang_dir: Path) -> dict[str, list[tuple[str, str]]]:
    args = shlex.split(text.replace("lang/", f"{lang_dir}/"))
    flags: dict[str, list[tuple[str, str]]] = {
        "arg": [],
        "argstr": [],
        "attr": [],
        "include": [],
        "features": [],
    }
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--arg", "--argstr"):
            flags[a[2:]].append((args[i + 1], args[i + 2]))
            i += 3
        elif a == "-A":
            flags["attr"].append((args[i + 1], ""))
            i += 2
        elif a == "--extra-experimental-features":
            flags["features"].extend((f, "") for f in args[i + 1].split())
            i += 2
        elif a == "-I":
            flags["include"].append((args[i + 1], ""))
            i += 2
        else:
            flags.setdefault("unknown", []).append((a, ""))
            i += 1
    return flags


def run_eval(nix_file: Path, lang_dir: Path, *, xml: bool = False) -> str:
    """Evaluate one test file like ``nix-instantiate --eval --strict``; returns the output."""
    from tvix_eval.api import Evaluator
    from tvix_eval.runtime.ops import call_value, force_deep
    from tvix_eval.runtime.printer import print_value
    from tvix_eval.runtime.values import Lambda, NixAttrs, force

    flags_file = nix_file.with_suffix(".flags")
    flags = _parse_flags(flags_file.read_text(), lang_dir) if flags_file.exists() else {}
    if flags.get("unknown"):
        raise RuntimeError(f"unsupported flags: {flags['unknown']}")
    search = [p for p, _ in flags.get("include", [])]
    search.append(f"{lang_dir}/dir3:{lang_dir}/dir4")
    evaluator = Evaluator(impure=True, search_path=search, trace=lambda s: None)
    features = [f for f, _ in flags.get("features", [])]
    if features:
        evaluator.state.extra["experimental_features"] = frozenset(features)
    cwd = os.getcwd()
    os.chdir(lang_dir.parent)
    try:
        source = nix_file.read_text()

        def go() -> str:
            evaluator.state.extra["strict"] = True
            ev = evaluator._compile(source, str(nix_file))
            value = ev([None])
            value = force(value)
            if type(value) is Lambda and value.formals is not None:
                auto: dict[str, object] = {}
                for name, text in flags.get("arg", []):
                    auto[name] = evaluator._compile(text, None)([None])
                for name, text in flags.get("argstr", []):
                    auto[name] = text
                value = force(call_value(value, NixAttrs(auto)))
            for path, _ in flags.get("attr", []):
                for part in path.split("."):
                    value = force(value.d[part])
            value = force_deep(value)
            if xml:
                from tvix_eval.builtins.xml import to_xml

                return to_xml(value)[0]
            return print_value(value).replace(str(nix_file.parent), "/pwd/lang") + "\n"

        return evaluator.run(go)
    finally:
        os.chdir(cwd)


def run_parse(nix_file: Path) -> None:
    """Parse one file (parse-okay / parse-fail tests)."""
    from tvix_eval.api import Evaluator

    Evaluator()._compile(nix_file.read_text(), str(nix_file))


def run_test(nix_file: Path, suite_dir: Path) -> Outcome:
    """Run one corpus test."""

    name = nix_file.stem
    lang_dir = suite_dir if (suite_dir / "dir3").exists() else suite_dir.parent
    saved = {k: os.environ.get(k) for k in ("TEST_VAR", "HOME")}
    os.environ["TEST_VAR"] = "foo"
    os.environ["HOME"] = "/fake-home"
    try:
        return _run_test(nix_file, name, lang_dir)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _run_test(nix_file: Path, name: str, lang_dir: Path) -> Outcome:
    from tvix_eval.errors import NixError

    try:
        if name.startswith("parse-okay"):
            run_parse(nix_file)
            return Outcome(name, True)
        if name.startswith("parse-fail"):
            try:
                run_parse(nix_file)
            except NixError:
                return Outcome(name, True)
            return Outcome(name, False, "parsed without error")
        if name.startswith("eval-fail"):
            try:
                out = run_eval(nix_file, lang_dir)
            except NixError as e:
                return Outcome(name, True, e.message)
            return Outcome(name, False, f"evaluated to {out.strip()[:200]}")
        exp = nix_file.with_suffix(".exp")
        exp_xml = Path(str(nix_file.with_suffix("")) + ".exp.xml")
        if not exp.exists() and not exp_xml.exists():
            return Outcome(name, True, "no expectation")
        if exp.exists():
            out = run_eval(nix_file, lang_dir)
            want = exp.read_text()
            if out.rstrip("\n") != want.rstrip("\n"):
                return Outcome(
                    name, False, f"got {out.strip()[:300]!r}, want {want.strip()[:300]!r}"
                )
        if exp_xml.exists():
            out = run_eval(nix_file, lang_dir, xml=True)
            if out != exp_xml.read_text():
                return Outcome(name, False, "XML output differs")
        return Outcome(name, True)
    except NixError as e:
        return Outcome(name, False, "error: " + e.message[:300])
    except Exception as e:
        return Outcome(name, False, f"crash: {type(e).__name__}: {e}"[:300])


def collect(corpus: Path) -> list[tuple[str, Path, Path]]:
    """``(test id, file, suite dir)`` for every test in the corpus."""
    out = []
    for suite in SUITES:
        d = corpus / suite
        if not d.is_dir():
            continue
        for f in sorted(d.glob("*.nix")):
            if f.name.startswith(("eval-", "parse-")):
                out.append((f"{suite}/{f.stem}", f, d))
    return out


def prepare_corpus(corpus: Path, dest: Path) -> Path:
    """A writable copy of ``corpus`` under ``dest`` with the links of the tables above made."""
    import shutil
    import stat

    copy = dest / "tests"
    shutil.copytree(corpus, copy, symlinks=True)
    for root, dirs, files in os.walk(copy):
        for name in dirs + files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                os.chmod(p, os.lstat(p).st_mode | stat.S_IWUSR)
    for table in (UPSTREAM_SYMLINKS, LANG_SIBLINGS):
        for rel, target in table.items():
            link = copy / rel
            if not link.parent.is_dir():
                continue
            if link.is_symlink() or link.is_file():
                link.unlink()
            elif link.exists():
                raise RuntimeError(f"{link} exists and is not a file")
            link.symlink_to(target)
    return copy


def main(argv: list[str] | None = None) -> int:
    """Run the corpus; exit status 0 iff every failure is listed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("filters", nargs="*")
    args = ap.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    listed = load_list(NOTYETPASSING)
    saved_cache = os.environ.get("TVIX_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="tvix-conformance-") as tmp:
        corpus = prepare_corpus(args.corpus, Path(tmp))
        os.environ["TVIX_CACHE_DIR"] = str(Path(tmp) / "parse-cache")
        saved_tiers = os.environ.get("TVIX_TIER_THRESHOLD")
        try:
            status = 0
            for trees in ("parsed", "loaded from the parse cache"):
                print(f"syntax trees {trees}:")
                status |= _run_all(collect(corpus), listed, args.filters, verbose=args.verbose)
            # most tests call a lambda once: this pass runs them in the generated Python code
            # that lambdas called often are compiled to
            os.environ["TVIX_TIER_THRESHOLD"] = "1"
            print("every lambda compiled to Python source at its first call:")
            status |= _run_all(collect(corpus), listed, args.filters, verbose=args.verbose)
            return status
        finally:
            _restore("TVIX_CACHE_DIR", saved_cache)
            _restore("TVIX_TIER_THRESHOLD", saved_tiers)


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _run_all(
    tests: list[tuple[str, Path, Path]],
    listed: dict[str, str],
    filters: list[str],
    *,
    verbose: bool,
) -> int:
    """Run ``tests`` (those matching ``filters``, if any); 0 iff every failure is listed."""
    if filters:
        tests = [t for t in tests if any(f in t[0] for f in filters)]
    passed = failed = 0
    unexpected: list[Outcome] = []
    now_passing: list[str] = []
    start = time.monotonic()
    for test_id, f, suite in tests:
        outcome = run_test(f, suite)
        if outcome.ok:
            passed += 1
            if test_id in listed:
                now_passing.append(test_id)
        else:
            failed += 1
            if test_id not in listed:
                unexpected.append(outcome)
                print(f"FAIL {test_id}: {outcome.detail}")
            elif verbose:
                print(f"fail (listed) {test_id}: {outcome.detail}")
    elapsed = time.monotonic() - start
    for test_id in now_passing:
        print(f"now passing, remove from the list: {test_id}")
    print(f"{passed} passed, {failed} failed ({len(unexpected)} not listed) in {elapsed:.1f}s")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
