#!/usr/bin/env python3
"""tvix-serde speed: loading a ~5,000-line Nix configuration into dataclasses, compared with
the evaluator alone evaluating the same file strictly (``baseline_s``), and the time of
``import tvix_serde``.

Goal (issue: tvix-serde): the typed load within 2x of the evaluator alone; import <= 100 ms.
Usage: ``python tools/bench_serde.py``; ``run() -> list[dict]`` for ``tools/bench.py``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

REPEATS = 7


@dataclass
class Limits:
    cpu: int
    memory: int


@dataclass
class Host:
    name: str
    address: str
    roles: list[str]
    limits: Limits
    weight: float = 1.0


@dataclass
class Service:
    name: str
    port: int
    enable: bool
    replicas: int
    tags: list[str]
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Config:
    version: str
    services: dict[str, Service]
    hosts: list[Host]
    regions: dict[str, list[str]]


def make_config(lines: int = 5000) -> str:
    """A configuration of about ``lines`` lines using sets, lists, lets and functions."""
    head = [
        "let",
        "  base = 8000;",
        "  mkService = name: offset: extra: {",
        "    inherit name;",
        "    port = base + offset;",
        "    enable = offset / 2 * 2 == offset;",
        "    replicas = if offset > 10 then 3 else 1;",
        '    tags = [ "svc" name ];',
        "    env = { NAME = name; PORT = toString (base + offset); } // extra;",
        "  };",
        "  mkLimits = cpu: { inherit cpu; memory = cpu * 1024; };",
        "in",
        "{",
        '  version = "1.0";',
        "  services = {",
    ]
    body: list[str] = []
    i = 0
    budget = lines - len(head) - 10
    while len(body) < budget * 0.4:
        body.append(f'    svc{i} = mkService "svc{i}" {i} {{ LEVEL = "{i % 5}"; }};')
        i += 1
    body += ["  };", "  hosts = ["]
    j = 0
    while len(body) < budget * 0.9:
        body += [
            "    (let",
            f'      name = "host{j}";',
            "    in {",
            "      inherit name;",
            f'      address = "10.0.{j // 250}.{j % 250}";',
            f'      roles = [ "web" "db" "cache-{j % 7}" ];',
            f"      limits = mkLimits {1 + j % 8};",
            f"      weight = {j % 10}.5;",
            "    })",
        ]
        j += 1
    body += ["  ];", "  regions = {"]
    k = 0
    while len(body) < budget:
        body.append(f'    region{k} = builtins.genList (n: "zone-{k}-${{toString n}}") 4;')
        k += 1
    body += ["  };", "}"]
    return "\n".join(head + body) + "\n"


def _best_interleaved(fns: list[Callable[[], Any]]) -> list[float]:
    """The best time of each function, running them in turn so that load from other processes
    affects all alike."""
    best = [float("inf")] * len(fns)
    for _ in range(REPEATS):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def _import_time() -> float:
    code = "import time; t = time.perf_counter(); import tvix_serde; print(time.perf_counter() - t)"
    times = []
    for _ in range(REPEATS):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout))
    return min(times)


def _import_baseline() -> float:
    code = (
        "import time; t = time.perf_counter(); import dataclasses, pathlib, typing, enum; "
        "print(time.perf_counter() - t)"
    )
    times = []
    for _ in range(REPEATS):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout))
    return min(times)


def run() -> list[dict[str, Any]]:
    """Measure and return the rows (``name``, ``ours_s``, ``baseline_s``, ``ratio``)."""
    import tvix_serde
    from tvix_eval.api import Evaluator

    source = make_config()
    n_lines = source.count("\n")
    loaded = tvix_serde.loads(source, Config)
    assert len(loaded.hosts) > 100 and len(loaded.services) > 100

    def evaluator_alone() -> None:
        Evaluator().evaluate(source, strict=True)

    def typed_load() -> None:
        tvix_serde.loads(source, Config)

    def plain_load() -> None:
        tvix_serde.loads(source)

    def evaluator_to_python() -> None:
        ev = Evaluator()
        ev.to_python(ev.evaluate(source))

    evaluator_alone()  # warm caches shared by both (builtins loaded, modules imported)
    baseline, baseline_to_python, ours, plain = _best_interleaved(
        [evaluator_alone, evaluator_to_python, typed_load, plain_load]
    )
    imp = _import_time()
    imp_baseline = _import_baseline()
    rows: list[dict[str, Any]] = [
        {
            "name": f"load {n_lines}-line config into dataclasses",
            "ours_s": ours,
            "baseline_s": baseline,
            "ratio": ours / baseline,
            "goal": "<= 2.0",
        },
        {
            "name": f"load {n_lines}-line config as plain data",
            "ours_s": plain,
            "baseline_s": baseline,
            "ratio": plain / baseline,
        },
        {
            "name": f"load {n_lines}-line config into dataclasses vs evaluate + to_python",
            "ours_s": ours,
            "baseline_s": baseline_to_python,
            "ratio": ours / baseline_to_python,
            "baseline": "tvix_eval Evaluator.evaluate + Evaluator.to_python",
        },
        {
            "name": "import tvix_serde",
            "ours_s": imp,
            "baseline_s": imp_baseline,
            "ratio": imp / imp_baseline,
            "goal": "ours <= 0.100 s",
            "baseline": "import dataclasses, pathlib, typing, enum",
        },
    ]
    return rows


def main() -> None:
    for row in run():
        extra = ", ".join(
            f"{k}={v}" for k, v in row.items() if k not in {"name", "ours_s", "baseline_s", "ratio"}
        )
        print(
            f"{row['name']}: ours {row['ours_s'] * 1000:.1f} ms, baseline "
            f"{row['baseline_s'] * 1000:.1f} ms, ratio {row['ratio']:.2f}"
            + (f" ({extra})" if extra else "")
        )


if __name__ == "__main__":
    main()
