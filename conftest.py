"""Workspace-wide pytest settings shared by every distribution's test suite.

Hypothesis' timing health checks and deadlines measure the machine, not the code: CI runs the
suites on two shared cores, where generating an example or calling C++ Nix can be slow at any
moment. Its "filters too much" check depends on the random seed for strategies that filter by
design (e.g. trees C++ Nix cannot print back); a strategy that yields nothing still fails as
unsatisfiable. Every property is still checked on every example.

Evaluators cache parsed files on disk; the suites point that cache at a directory of their own
(``$TVIX_CACHE_DIR``, unless already set), removed when the run ends, so that tests neither
write into the user's cache nor depend on what is in it.
"""

import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "tvix",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile("tvix")

_CREATED_CACHE = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    if "TVIX_CACHE_DIR" not in os.environ:
        created = tempfile.mkdtemp(prefix="tvix-test-parse-cache-")
        os.environ["TVIX_CACHE_DIR"] = created
        config.stash[_CREATED_CACHE] = created


def pytest_unconfigure(config: pytest.Config) -> None:
    created = config.stash.get(_CREATED_CACHE, None)
    if created is not None:
        shutil.rmtree(created, ignore_errors=True)
