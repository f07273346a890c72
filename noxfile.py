"""How to test, lint, type-check, benchmark and run the project: ``nox -s NAME``."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """Run the project's own tests, spread over the cores by pytest-xdist.

    Extra arguments go to pytest instead of the default ``-n auto``.
    """
    session.install("-e", ".[test,examples]")
    session.run("pytest", *(session.posargs or ["-n", "auto"]))


@nox.session
def lint(session: nox.Session) -> None:
    """Check formatting and lint with ruff."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Type-check the packages with mypy (strict)."""
    session.install("-e", ".[test]", "mypy>=1.10", "types-requests")
    session.run("mypy")


@nox.session
def conformance(session: nox.Session) -> None:
    """Run the conformance suite: ``nox -s conformance -- --client PROFILE``.

    With no ``--client``, it runs against the bundled reference client.
    """
    session.install("-e", ".[examples]")
    args = list(session.posargs)
    if not any(a == "--client" or a.startswith("--client=") for a in args):
        args = ["--client", "examples/reference/profile.toml", *args]
    if not any(a.startswith("--junitxml") for a in args):
        args.append("--junitxml=conformance-report/junit.xml")
    session.run("pytest", "--pyargs", "conformance", "-p", "no:cacheprovider", *args)


@nox.session
def serve(session: nox.Session) -> None:
    """Run the fake identity service (extra arguments go to ``serve``)."""
    session.install("-e", ".")
    session.run("ch-oauth-mock", "serve", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks in bench/ and print their figures."""
    session.install("-e", ".[test]")
    for script in session.posargs or ["bench/provider.py"]:
        session.run("python", script)
