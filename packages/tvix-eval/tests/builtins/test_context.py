"""String context builtins."""

from __future__ import annotations

import pytest
from tvix_eval.builtins.context import context_info, decode_context, is_store_path

from .conftest import Run, batch

DRV = "/nix/store/gwwjwi08fyrbrz2d8zkfvy65nzzq2czp-x.drv"
OUT = "/nix/store/gwwjwi08fyrbrz2d8zkfvy65nzzq2czp-x"


def test_decode_context() -> None:
    assert decode_context(OUT) == (OUT, None)
    assert decode_context("=" + DRV) == (DRV, "=")
    assert decode_context(f"!dev!{DRV}") == (DRV, "dev")


def test_context_info_groups_outputs() -> None:
    info = context_info(frozenset({f"!out!{DRV}", f"!dev!{DRV}", "=" + DRV, OUT}))
    assert sorted(info.d) == [OUT, DRV]
    assert info.d[DRV].d == {"allOutputs": True, "outputs": ["dev", "out"]}
    assert info.d[OUT].d == {"path": True}


@pytest.mark.parametrize(
    ("path", "ok"),
    [(OUT, True), (DRV, True), (OUT + "/bin", False), ("/tmp/x", False), ("/nix/store/x", False)],
)
def test_is_store_path(path: str, ok: bool) -> None:
    assert is_store_path(path, "/nix/store") is ok


DRV_OUTPUTS = f'{{ "{DRV}" = {{ outputs = ["out" "dev"]; allOutputs = true; }}; }}'

CASES = [
    f'builtins.getContext (builtins.appendContext "foo" {DRV_OUTPUTS})',
    f'builtins.appendContext "foo" {{ "{OUT}" = {{ path = true; }}; }}',
    f'builtins.getContext (builtins.appendContext "foo" {{ "{OUT}" = {{ path = false; }}; }})',
    "builtins.getContext (builtins.unsafeDiscardOutputDependency (builtins.appendContext "
    + f'"foo" {{ "{DRV}" = {{ allOutputs = true; }}; }}))',
    'builtins.hasContext "${builtins.toFile "x" "y"}"',
    'builtins.hasContext "a"',
    'builtins.unsafeDiscardStringContext "${builtins.toFile "x" "y"}"',
    'builtins.hasContext (builtins.unsafeDiscardStringContext "${builtins.toFile "x" "y"}")',
    'builtins.getContext ("a" + "${builtins.toFile "x" "y"}")',
]


@pytest.mark.nix
def test_context_matches_nix(tvix: Run, nix: Run) -> None:
    src = batch(CASES)
    assert tvix(src) == nix(src)


@pytest.mark.nix
@pytest.mark.parametrize(
    "src",
    [
        'builtins.appendContext "foo" { "/tmp/x" = { path = true; }; }',
        f'builtins.appendContext "foo" {{ "{OUT}" = {{ allOutputs = true; }}; }}',
        f'builtins.appendContext "foo" {{ "{OUT}" = {{ outputs = [ "out" ]; }}; }}',
        "builtins.getContext 1",
        "builtins.hasContext 1",
    ],
)
def test_context_errors_match_nix(tvix: Run, nix: Run, src: str) -> None:
    assert tvix(src) == nix(src)
