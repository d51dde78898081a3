"""Workspace-wide pytest settings shared by every distribution's test suite.

Hypothesis' timing health checks and deadlines measure the machine, not the code: CI runs the
suites on two shared cores, where generating an example or calling C++ Nix can be slow at any
moment. Every property is still checked on every example.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "tvix",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("tvix")
