"""Generated derivations, written by nix-instantiate and built by us: same bytes, same paths.

Each example is a batch of Nix `derivation { ... }` calls, later ones depending on outputs of
earlier ones. We assemble the same derivations the way `derivationStrict` does (environment
from the attributes, input derivations from the referenced outputs, blank outputs,
hashDerivationModulo, output paths, drv path) and demand Nix's exact `.drv` bytes and paths.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nix_compat.derivation import Derivation, Output
from nix_compat.nixhash import NixHash, ca_hash_from_output_hash

pytestmark = [
    pytest.mark.nix,
    pytest.mark.skipif(
        shutil.which("nix-instantiate") is None, reason="C++ Nix (nix-instantiate) is not installed"
    ),
]

# Nix strings are byte strings without NUL.
nix_bytes = st.binary(max_size=16).map(lambda b: b.replace(b"\x00", b""))
name_chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-._?="
names = st.text(name_chars, min_size=1, max_size=10).filter(lambda s: not s.startswith("."))
# Output names become attributes of the derivation's value, so avoid ones it already has.
output_names = st.sampled_from(["out", "dev", "lib", "bin", "doc", "a", "z", "a-b", "x_1"])
HASHES = [
    ("sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "", "recursive"),
    ("2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "sha1", "flat"),
    ("d41d8cd98f00b204e9800998ecf8427e", "md5", "flat"),
]


@dataclass
class Spec:
    """The attributes of one `derivation` call."""

    name: str
    system: bytes
    builder: bytes
    args: list[bytes]
    env: dict[bytes, bytes]
    outputs: list[str]
    fixed: tuple[str, str, str] | None
    # Environment variables set to an output of an earlier derivation: (index, output name).
    deps: dict[bytes, tuple[int, str]] = field(default_factory=dict)


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    fixed = draw(st.none() | st.sampled_from(HASHES))
    outputs = (
        ["out"] if fixed else draw(st.lists(output_names, min_size=1, max_size=3, unique=True))
    )
    env = draw(st.dictionaries(nix_bytes, nix_bytes, max_size=4))
    return Spec(
        name=draw(names),
        # Nix requires both non-empty, and writes the system unescaped: keep it readable so Nix
        # can re-read its own file.
        system=draw(nix_bytes.filter(lambda b: b and b'"' not in b and b"\\" not in b)),
        builder=draw(nix_bytes.filter(bool)),
        args=draw(st.lists(nix_bytes, max_size=3)),
        env={b"e" + k: v for k, v in env.items()},
        outputs=outputs,
        fixed=fixed,
    )


@st.composite
def batches(draw: st.DrawFn) -> list[Spec]:
    batch = draw(st.lists(specs(), min_size=1, max_size=8))
    for index, spec in enumerate(batch[1:], start=1):
        for dep_number in range(draw(st.integers(0, 2))):
            target = draw(st.integers(0, index - 1))
            output = draw(st.sampled_from(batch[target].outputs))
            spec.deps[b"dep%d" % dep_number] = (target, output)
    return batch


def _nix_string(value: bytes) -> bytes:
    escaped = (
        value.replace(b"\\", b"\\\\")
        .replace(b'"', b'\\"')
        .replace(b"$", b"\\$")
        .replace(b"\n", b"\\n")
        .replace(b"\r", b"\\r")
        .replace(b"\t", b"\\t")
    )
    return b'"' + escaped + b'"'


def _nix_expression(spec: Spec) -> bytes:
    attrs = [
        b"name = " + _nix_string(spec.name.encode()) + b";",
        b"system = " + _nix_string(spec.system) + b";",
        b"builder = " + _nix_string(spec.builder) + b";",
        b"args = [ " + b" ".join(_nix_string(a) for a in spec.args) + b" ];",
        b"outputs = [ " + b" ".join(_nix_string(o.encode()) for o in spec.outputs) + b" ];",
    ]
    if spec.fixed is not None:
        output_hash, algo, mode = spec.fixed
        attrs.append(b"outputHash = " + _nix_string(output_hash.encode()) + b";")
        attrs.append(b"outputHashAlgo = " + _nix_string(algo.encode()) + b";")
        attrs.append(b"outputHashMode = " + _nix_string(mode.encode()) + b";")
    attrs += [_nix_string(k) + b" = " + _nix_string(v) + b";" for k, v in spec.env.items()]
    attrs += [
        b'%s = d%d."%s";' % (key, target, output.encode())
        for key, (target, output) in spec.deps.items()
    ]
    return b"derivation { " + b" ".join(attrs) + b" }"


def _batch_expression(batch: list[Spec]) -> bytes:
    bindings = b"\n".join(b"d%d = %s;" % (i, _nix_expression(s)) for i, s in enumerate(batch))
    return (
        b"let\n" + bindings + b"\nin [ " + b" ".join(b"d%d" % i for i in range(len(batch))) + b" ]"
    )


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


@dataclass
class Built:
    """What evaluating a `derivation` call gives, plus its modulo hash for dependents."""

    drv: Derivation
    drv_path: str
    modulo_hash: NixHash


def _derivation_strict(spec: Spec, earlier: list[Built]) -> Built:
    """What `builtins.derivation` computes for ``spec``, given the derivations before it."""
    env = dict(spec.env)
    env |= {b"name": spec.name.encode(), b"system": spec.system, b"builder": spec.builder}
    env[b"outputs"] = " ".join(spec.outputs).encode()
    ca_hash = None
    if spec.fixed is not None:
        output_hash, algo, mode = spec.fixed
        env |= {b"outputHash": output_hash.encode(), b"outputHashAlgo": algo.encode()}
        env[b"outputHashMode"] = mode.encode()
        ca_hash = ca_hash_from_output_hash(output_hash, algo, mode)
    input_derivations: dict[str, set[str]] = {}
    for key, (target, output) in spec.deps.items():
        env[key] = earlier[target].drv.outputs[output].path.encode()
        input_derivations.setdefault(earlier[target].drv_path, set()).add(output)
    drv = Derivation(
        outputs={o: Output("", ca_hash) for o in spec.outputs},
        input_derivations=input_derivations,
        system=_decode(spec.system),
        builder=_decode(spec.builder),
        arguments=[_decode(a) for a in spec.args],
        environment={_decode(k): v for k, v in env.items()},
    )
    modulo_hashes = {built.drv_path: built.modulo_hash for built in earlier}
    drv.prepare_for_output_path_calculation()
    drv.calculate_output_paths(spec.name, drv.derivation_or_fod_hash(modulo_hashes.__getitem__))
    drv_path = drv.calculate_derivation_path(spec.name).to_absolute_path()
    return Built(drv, drv_path, drv.derivation_or_fod_hash(modulo_hashes.__getitem__))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batches())
def test_generated_derivations_match_nix(tmp_path: Path, batch: list[Spec]) -> None:
    source = tmp_path / "generated.nix"
    source.write_bytes(_batch_expression(batch))
    result = subprocess.run(
        ["nix-instantiate", "--store", str(tmp_path), str(source)], capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    nix_drv_paths = [line.partition("!")[0] for line in result.stdout.decode().splitlines()]
    assert len(nix_drv_paths) == len(batch)

    built: list[Built] = []
    for spec, nix_drv_path in zip(batch, nix_drv_paths, strict=True):
        built.append(_derivation_strict(spec, built))
        assert built[-1].drv_path == nix_drv_path
        assert built[-1].drv.to_aterm_bytes() == (tmp_path / nix_drv_path.lstrip("/")).read_bytes()
