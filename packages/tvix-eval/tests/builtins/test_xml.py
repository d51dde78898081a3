"""toXML: byte-identical to C++ Nix, derivations included."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest
from tvix_eval.api import Evaluator
from tvix_eval.io import FilesystemIO
from tvix_eval.runtime.printer import print_xml

from .conftest import NIX_INSTANTIATE, Run, batch, nix_string

FAKE_DRV = (
    '{ type = "derivation"; drvPath = "/nix/store/aaa-x.drv"; outPath = "/nix/store/bbb-x"; '
    'name = "x"; }'
)

CASES = [
    'builtins.toXML [ 1 1.5 2.0 1.0e20 "a<>&\\"\'\\n\\t\\ré" true null /a/b ]',
    "builtins.toXML [ (x: x) ({a, b ? 1, ...}: a) ({a}@z: a) (z@{b, a}: a) builtins.map ]",
    'builtins.toXML { a = 1; "b c" = [ ]; d = { }; }',
    f"let d = {FAKE_DRV}; in builtins.toXML [ d d {{ x = d; y = d; }} ]",
    f"let d = {FAKE_DRV} // {{ all = [ d ]; }}; in builtins.toXML d",
    'builtins.toXML { type = "derivation"; outPath = 1; }',
    'builtins.getContext (builtins.toXML "${builtins.toFile "x" "y"}")',
]


@pytest.mark.nix
@pytest.mark.parametrize("src", CASES)
def test_xml_matches_nix(tvix: Run, nix: Run, src: str) -> None:
    assert tvix(src) == nix(src)


def test_xml_layout(tvix: Run) -> None:
    assert tvix("builtins.toXML [ ]") == (
        "\"<?xml version='1.0' encoding='utf-8'?>\\n<expr>\\n  <list>\\n  </list>\\n</expr>\\n\""
    )


def random_expr(r: random.Random, depth: int = 3) -> str:
    """A random Nix expression over every kind of value toXML prints."""
    kind = r.randrange(10 if depth > 0 else 7)
    if kind == 0:
        return r.choice(["null", "true", "false"])
    if kind == 1:
        return f"({r.randint(-1000, 1000)})"
    if kind == 2:
        return r.choice(["0.1", "1.5", "1.0e20", "1.0e-7", "123456789.0", "2.0", "(-3.25)"])
    if kind == 3:
        alphabet = ["a", "é", "<", ">", "&", '"', "'", "\n", "\t", "\r", "\x01", "€"]
        return nix_string("".join(r.choice(alphabet) for _ in range(r.randint(0, 5))))
    if kind == 4:
        return r.choice(["/a/b", "/", "/x/y/z.nix"])
    if kind == 5:
        return r.choice(
            [
                "(x: x)",
                "({ a, b ? 1 }: a)",
                "({ z, a, ... }@args: a)",
                "builtins.map",
                "(builtins.map (x: x))",
            ]
        )
    if kind == 6:
        return '{ type = "derivation"; drvPath = "/nix/store/a.drv"; outPath = "/nix/store/b"; }'
    if kind in (7, 8):
        return "[ " + " ".join(random_expr(r, depth - 1) for _ in range(r.randint(0, 3))) + " ]"
    names = ["a", "b", "x y", "", "é"]
    return (
        "{ "
        + "".join(
            f"{nix_string(n)} = {random_expr(r, depth - 1)}; "
            for n in r.sample(names, r.randint(0, 3))
        )
        + "}"
    )


@pytest.mark.nix
@pytest.mark.parametrize("seed", range(2))
def test_random_to_xml_matches_nix(tvix: Run, nix: Run, seed: int) -> None:
    r = random.Random(seed)
    src = batch([f"builtins.toXML {random_expr(r)}" for _ in range(40)])
    assert tvix(src) == nix(src)


# --------------------------------------------------------------------------- --xml with locations

LOCATED = """\
let
  e = { f = 1; g = x: x; };
in
rec {
  a = 1;
  b = { c = x: x; d = { y ? 1, ... }@z: y; };
  inherit e;
  inherit (e)   f g;
  l = [ (z@{ p, q }: p) builtins.map (builtins.map (x: x)) ];
  m = builtins.listToAttrs [ { name = "k"; value = a; } ];
  n = builtins.mapAttrs (k: v: v) { k = 1; };
  o = e // { h = 2; };
  p = builtins.functionArgs ({ u, v ? 1 }: u);
  s = "<&>\\n";
}
"""

# ``nix-instantiate --eval --xml FILE`` (and with ``--strict``) for LOCATED, FILE written as @PATH@
LOCATED_LAZY = """\
<?xml version='1.0' encoding='utf-8'?>
<expr>
  <attrs>
    <attr column="3" line="5" name="a" path="@PATH@">
      <int value="1" />
    </attr>
    <attr column="3" line="6" name="b" path="@PATH@">
      <unevaluated />
    </attr>
    <attr column="10" line="7" name="e" path="@PATH@">
      <unevaluated />
    </attr>
    <attr column="14" line="8" name="f" path="@PATH@">
      <unevaluated />
    </attr>
    <attr column="14" line="8" name="g" path="@PATH@">
      <unevaluated />
    </attr>
    <attr column="3" line="9" name="l" path="@PATH@">
      <unevaluated />
    </attr>
    <attr column="3" line="10" name="m" path="@PATH@">
      <unevaluated />
    </attr>
    <attr column="3" line="11" name="n" path="@PATH@">
      <unevaluated />
    </attr>
    <attr column="3" line="12" name="o" path="@PATH@">
      <unevaluated />
    </attr>
    <attr column="3" line="13" name="p" path="@PATH@">
      <unevaluated />
    </attr>
    <attr column="3" line="14" name="s" path="@PATH@">
      <string value="&lt;&amp;&gt;&#xA;" />
    </attr>
  </attrs>
</expr>
"""

LOCATED_STRICT = """\
<?xml version='1.0' encoding='utf-8'?>
<expr>
  <attrs>
    <attr column="3" line="5" name="a" path="@PATH@">
      <int value="1" />
    </attr>
    <attr column="3" line="6" name="b" path="@PATH@">
      <attrs>
        <attr column="9" line="6" name="c" path="@PATH@">
          <function column="13" line="6" path="@PATH@">
            <varpat name="x" />
          </function>
        </attr>
        <attr column="19" line="6" name="d" path="@PATH@">
          <function column="23" line="6" path="@PATH@">
            <attrspat ellipsis="1" name="z">
              <attr name="y" />
            </attrspat>
          </function>
        </attr>
      </attrs>
    </attr>
    <attr column="10" line="7" name="e" path="@PATH@">
      <attrs>
        <attr column="9" line="2" name="f" path="@PATH@">
          <int value="1" />
        </attr>
        <attr column="16" line="2" name="g" path="@PATH@">
          <function column="20" line="2" path="@PATH@">
            <varpat name="x" />
          </function>
        </attr>
      </attrs>
    </attr>
    <attr column="14" line="8" name="f" path="@PATH@">
      <int value="1" />
    </attr>
    <attr column="14" line="8" name="g" path="@PATH@">
      <function column="20" line="2" path="@PATH@">
        <varpat name="x" />
      </function>
    </attr>
    <attr column="3" line="9" name="l" path="@PATH@">
      <list>
        <function column="10" line="9" path="@PATH@">
          <attrspat name="z">
            <attr name="p" />
            <attr name="q" />
          </attrspat>
        </function>
        <unevaluated />
        <unevaluated />
      </list>
    </attr>
    <attr column="3" line="10" name="m" path="@PATH@">
      <attrs>
        <attr column="44" line="10" name="k" path="@PATH@">
          <int value="1" />
        </attr>
      </attrs>
    </attr>
    <attr column="3" line="11" name="n" path="@PATH@">
      <attrs>
        <attr name="k">
          <int value="1" />
        </attr>
      </attrs>
    </attr>
    <attr column="3" line="12" name="o" path="@PATH@">
      <attrs>
        <attr column="9" line="2" name="f" path="@PATH@">
          <int value="1" />
        </attr>
        <attr column="16" line="2" name="g" path="@PATH@">
          <function column="20" line="2" path="@PATH@">
            <varpat name="x" />
          </function>
        </attr>
        <attr column="14" line="12" name="h" path="@PATH@">
          <int value="2" />
        </attr>
      </attrs>
    </attr>
    <attr column="3" line="13" name="p" path="@PATH@">
      <attrs>
        <attr column="32" line="13" name="u" path="@PATH@">
          <bool value="false" />
        </attr>
        <attr column="35" line="13" name="v" path="@PATH@">
          <bool value="true" />
        </attr>
      </attrs>
    </attr>
    <attr column="3" line="14" name="s" path="@PATH@">
      <string value="&lt;&amp;&gt;&#xA;" />
    </attr>
  </attrs>
</expr>
"""


def _located(tmp_path: Path, *, strict: bool) -> tuple[str, str]:
    """Our ``--eval --xml`` (with locations) for LOCATED, and the file's path."""
    path = tmp_path / "t.nix"
    path.write_text(LOCATED)
    evaluator = Evaluator(io=FilesystemIO(), trace=lambda s: None)
    value = evaluator.evaluate_file(str(path), strict=strict)
    return evaluator.run(lambda: print_xml(value, location=True, strict=strict)), str(path)


@pytest.mark.parametrize("strict", [False, True])
def test_xml_locations(tmp_path: Path, strict: bool) -> None:
    ours, path = _located(tmp_path, strict=strict)
    want = LOCATED_STRICT if strict else LOCATED_LAZY
    assert ours == want.replace("@PATH@", path)


@pytest.mark.nix
@pytest.mark.skipif(NIX_INSTANTIATE is None, reason="nix-instantiate is not installed")
@pytest.mark.parametrize("strict", [False, True])
def test_xml_locations_match_nix(tmp_path: Path, strict: bool) -> None:
    assert NIX_INSTANTIATE is not None
    ours, path = _located(tmp_path, strict=strict)
    flags = ["--strict"] if strict else []
    r = subprocess.run(
        [NIX_INSTANTIATE, "--eval", "--xml", *flags, path],
        capture_output=True,
        text=True,
        check=True,
    )
    assert ours == r.stdout


def test_xml_location_of_code_given_as_text() -> None:
    # C++ Nix 2.8 names code given with -E by its text
    evaluator = Evaluator(trace=lambda s: None)
    value = evaluator.evaluate("{ a = 1; }", strict=True)
    assert evaluator.run(lambda: print_xml(value, location=True)) == (
        "<?xml version='1.0' encoding='utf-8'?>\n<expr>\n  <attrs>\n"
        '    <attr column="3" line="1" name="a" path="{ a = 1; }">\n'
        '      <int value="1" />\n    </attr>\n  </attrs>\n</expr>\n'
    )


def test_to_xml_has_no_locations(tvix: Run) -> None:
    assert tvix("builtins.toXML { a = x: x; }") == (
        "\"<?xml version='1.0' encoding='utf-8'?>\\n<expr>\\n  <attrs>\\n"
        '    <attr name=\\"a\\">\\n      <function>\\n        <varpat name=\\"x\\" />\\n'
        '      </function>\\n    </attr>\\n  </attrs>\\n</expr>\\n"'
    )
