"""Developer and CI sessions for the tvix-python monorepo.

Every session installs what it needs into its own virtualenv (with uv when it
is available), so a machine needs nothing but python3 and nox.
"""

from __future__ import annotations

import glob
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "tests_compiled", "conformance"]

# Each distribution with the local distributions it depends on, leaves first.
PACKAGES: dict[str, list[str]] = {
    "nix-compat": [],
    "tvix-eval": ["nix-compat"],
    "tvix-castore": [],
    "tvix-store": ["nix-compat", "tvix-castore"],
    "tvix-serde": ["nix-compat", "tvix-eval"],
    "tvix-cli": ["nix-compat", "tvix-eval", "tvix-castore", "tvix-store"],
}
PYTHONS = ["3.11", "3.12", "3.13"]


def install_local(session: nox.Session, package: str, *, extras: str = "test") -> None:
    """Install a distribution editable, together with its local dependencies."""
    args: list[str] = []
    for dep in PACKAGES[package]:
        args += ["-e", f"packages/{dep}"]
    args += ["-e", f"packages/{package}[{extras}]" if extras else f"packages/{package}"]
    session.install(*args)


def run_pytest(session: nox.Session, package: str) -> None:
    """Install one distribution with its test extras and run its suite on every core."""
    install_local(session, package)
    session.install("pytest-xdist>=3.5")
    args = session.posargs or ["-n", "auto"]
    session.run("pytest", f"packages/{package}/tests", *args, success_codes=[0, 5])


@nox.session(python=PYTHONS[0])
@nox.parametrize("package", list(PACKAGES))
def tests(session: nox.Session, package: str) -> None:
    """Run one distribution's test suite (pytest, hypothesis, differential tests)."""
    run_pytest(session, package)


@nox.session(python=PYTHONS[0])
def tests_compiled(session: nox.Session) -> None:
    """The evaluator's suite with every lambda compiled to Python source at its first call
    (normally at its second, so that most tests would run only the closure compiler's code)."""
    session.env["TVIX_TIER_THRESHOLD"] = "1"
    run_pytest(session, "tvix-eval")


@nox.session(python=PYTHONS)
@nox.parametrize("package", list(PACKAGES))
def tests_all_pythons(session: nox.Session, package: str) -> None:
    """The test suites on every supported interpreter that is installed."""
    run_pytest(session, package)


@nox.session(python=PYTHONS[0])
def lint(session: nox.Session) -> None:
    """ruff lint and format check over the whole tree."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHONS[0])
@nox.parametrize("package", list(PACKAGES))
def typecheck(session: nox.Session, package: str) -> None:
    """mypy --strict over one distribution's sources."""
    install_local(session, package)
    session.install("mypy>=1.11", "types-protobuf", "grpc-stubs")
    session.run("mypy", "--strict", f"packages/{package}/src")


@nox.session(python=PYTHONS[0])
def conformance(session: nox.Session) -> None:
    """Run the Nix language test corpus through the evaluator."""
    install_local(session, "tvix-eval", extras="")
    session.run("python", "tools/conformance.py", *session.posargs)


@nox.session(python=PYTHONS[0])
def bench(session: nox.Session) -> None:
    """Benchmarks side by side with C++ Nix; prints ratios (never a timed test)."""
    session.install(*(arg for package in PACKAGES for arg in ("-e", f"packages/{package}")))
    session.run("python", "tools/bench.py", *session.posargs)


@nox.session(python=PYTHONS[0])
def dist(session: nox.Session) -> None:
    """Build every sdist, a wheel from each sdist, install the wheels and import them."""
    out = ROOT / "dist"
    shutil.rmtree(out, ignore_errors=True)
    session.install("build>=1.2")
    for package in PACKAGES:
        session.run("python", "-m", "build", "--sdist", "--outdir", str(out), f"packages/{package}")
    for sdist in sorted(glob.glob(str(out / "*.tar.gz"))):
        session.run("python", "-m", "build", "--wheel", "--outdir", str(out), sdist)
    wheels = sorted(glob.glob(str(out / "*.whl")))
    check = session.create_tmp()
    venv = Path(check) / "wheel-venv"
    session.run("python", "-m", "venv", "--clear", str(venv))  # never a stale install
    pip = str(venv / "bin" / "pip")
    session.run(pip, "install", "--quiet", *wheels, external=True)
    session.run(
        str(venv / "bin" / "python"),
        "tools/check_dist_imports.py",
        external=True,
    )
