"""Workspace-wide pytest settings shared by every distribution's test suite.

Hypothesis' timing health checks and deadlines measure the machine, not the code: CI runs the
suites on two shared cores, where generating an example or calling C++ Nix can be slow at any
moment. Its "filters too much" check depends on the random seed for strategies that filter by
design (e.g. trees C++ Nix cannot print back); a strategy that yields nothing still fails as
unsatisfiable. Every property is still checked on every example.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "tvix",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile("tvix")
