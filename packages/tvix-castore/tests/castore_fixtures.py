"""The test vectors, from :mod:`tvix_castore.fixtures` (ported from the reference's fixtures.rs)."""

from tvix_castore.fixtures import *  # noqa: F403
