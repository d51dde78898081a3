"""Builtin groups loaded on first call: the table the evaluator trusts until then, and the stubs."""

from __future__ import annotations

import pkgutil

import tvix_eval.builtins as builtins_pkg
from tvix_eval.api import Evaluator
from tvix_eval.builtins import EAGER_GROUPS, load_all
from tvix_eval.builtins.lazy import LAZY_BUILTINS, LAZY_GROUPS, lazy_primop
from tvix_eval.builtins.registry import CONSTANTS, REGISTRY
from tvix_eval.runtime.values import PrimOp

_PREFIX = "tvix_eval.builtins."


def _group(fn: object) -> str:
    module: str = getattr(fn, "__module__", "")
    return module.removeprefix(_PREFIX)


def test_every_group_is_eager_or_lazy() -> None:
    groups = {
        info.name
        for info in pkgutil.iter_modules(builtins_pkg.__path__)
        if not info.name.startswith("_") and info.name not in ("registry", "lazy")
    }
    assert set(EAGER_GROUPS) | set(LAZY_GROUPS) == groups
    assert not set(EAGER_GROUPS) & set(LAZY_GROUPS)


def test_the_table_matches_what_the_groups_register() -> None:
    load_all()
    registered = {
        name: (_group(spec.fn), spec.arity, spec.lazy_args, spec.global_, spec.impure)
        for name, spec in REGISTRY.items()
        if _group(spec.fn) in LAZY_GROUPS
    }
    assert registered == LAZY_BUILTINS
    eager_names = {n for n, spec in REGISTRY.items() if _group(spec.fn) in EAGER_GROUPS}
    assert len(eager_names) + len(LAZY_BUILTINS) == len(REGISTRY)
    # constants go into the builtins set at construction, so lazy groups have none
    assert not {_group(c.factory) for c in CONSTANTS.values()} & set(LAZY_GROUPS)


def test_stub_installs_the_implementation_and_keeps_working() -> None:
    prim = lazy_primop("compareVersions")
    stub = prim.fn
    assert (prim.name, prim.arity, prim.lazy, prim.doc) == ("compareVersions", 2, (), None)
    assert stub("1.0", "1.1") == -1
    assert prim.fn is REGISTRY["compareVersions"].fn
    assert prim.doc == REGISTRY["compareVersions"].doc
    # code compiled before the first call keeps the stub, which now forwards
    assert stub("2", "1") == 1


def test_every_lazy_builtin_has_its_primop_from_the_start() -> None:
    ev = Evaluator(impure=True)
    members = ev.state.builtins.d
    for name, (_, arity, lazy_args, global_, _) in LAZY_BUILTINS.items():
        prim = members[name]
        assert type(prim) is PrimOp
        assert (prim.name, prim.arity, prim.lazy) == (name, arity, lazy_args)
        assert (name in ev.globals) == global_
        assert ev.globals["__" + name] is prim


def test_results_through_compiled_calls_and_partial_application() -> None:
    ev = Evaluator()
    source = """
      let versions = map (builtins.compareVersions "1.2") [ "1.1" "1.2" "1.10" ];
          split = builtins.split ",";
      in [ versions (split "a,b") (builtins.fromJSON (builtins.toJSON { x = 1; })) ]
    """
    value = ev.evaluate(source, strict=True)
    assert ev.to_python(value) == [[1, 0, -1], ["a", [], "b"], {"x": 1}]
    assert ev.print(ev.evaluate("builtins.match", strict=True)) == "<PRIMOP>"
