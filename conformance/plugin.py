"""The conformance suite's pytest plugin: options, the client and target, reports.

Registered through the ``pytest11`` entry point; it does nothing until the suite's
tests (``pytest --pyargs conformance``) ask for its fixtures.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mock_provider import ProviderServer

from .drivers import ClientStartError, Endpoints, RunningClient, free_port, start_client
from .judge import Judge, Results
from .profile import ClientProfile, ProfileError, load_profile
from .report import summary_lines, write_reports
from .scenario import Scenario, Target
from .targets import (
    SANDBOX_API,
    SANDBOX_IDENTITY,
    InteractivePerson,
    fake_target,
    remote_target,
)

RESULTS = pytest.StashKey[Results]()
PROFILE = pytest.StashKey[ClientProfile]()
REPORTS = pytest.StashKey[list[Path]]()
STARTED = pytest.StashKey[float]()
SCENARIO = pytest.StashKey[Scenario]()
SUITE_DIR = Path(__file__).parent / "suite"


@dataclass
class Run:
    """The client under test and the target, for the whole session."""

    profile: ClientProfile
    client: RunningClient
    target: Target
    results: Results
    grace: float


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the suite's options."""
    group = parser.getgroup("conformance", "Companies House OAuth conformance suite")
    group.addoption(
        "--client",
        dest="ch_client",
        metavar="PROFILE",
        help="the client profile (TOML) of the client under test",
    )
    group.addoption(
        "--target",
        dest="ch_target",
        default="fake",
        metavar="TARGET",
        help="fake (default), sandbox, or the URL of a provider",
    )
    group.addoption(
        "--identity-url",
        dest="ch_identity_url",
        metavar="URL",
        help="with --target sandbox: another identity host",
    )
    group.addoption(
        "--api-url",
        dest="ch_api_url",
        metavar="URL",
        help="with --target sandbox or URL: another API host",
    )
    group.addoption(
        "--person",
        dest="ch_person",
        choices=("auto", "interactive"),
        help="who signs in on a remote target: the suite filling the "
        "pages (auto) or you in a browser (interactive, the sandbox default)",
    )
    group.addoption(
        "--sign-in-timeout",
        dest="ch_sign_in_timeout",
        type=float,
        metavar="SECONDS",
        default=300.0,
        help="seconds to wait for an interactive sign-in",
    )
    group.addoption(
        "--grace",
        dest="ch_grace",
        type=float,
        metavar="SECONDS",
        default=0.1,
        help="seconds a client may take to act after answering (0.1)",
    )
    group.addoption(
        "--report",
        dest="ch_report",
        default="conformance-report",
        metavar="DIR",
        help="where to write results.json and report.md",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and read the profile early, so a bad one stops the run."""
    config.addinivalue_line(
        "markers", "requirements(*ids): the requirement ids a conformance test checks"
    )
    config.stash[RESULTS] = Results()
    config.stash[STARTED] = time.time()
    path = config.getoption("ch_client", None)
    if path and (
        config.getoption("numprocesses", None) or hasattr(config, "workerinput")
    ):
        raise pytest.UsageError(
            "conformance: run the suite in one process (without -n): its verdicts "
            "and report are gathered by that process"
        )
    if path:
        _interrupt_on_sigterm()
        try:
            config.stash[PROFILE] = load_profile(path)
        except ProfileError as exc:
            raise pytest.UsageError(f"conformance: {exc}") from exc


def _interrupt_on_sigterm() -> None:
    """Let SIGTERM stop the run like Ctrl-C, so started clients are stopped too."""
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:

        def interrupt(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, interrupt)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Refuse to run the suite without a client profile."""
    in_suite = any(Path(item.path).is_relative_to(SUITE_DIR) for item in items)
    if in_suite and PROFILE not in config.stash:
        raise pytest.UsageError(
            "conformance: --client PROFILE is required (a TOML file describing the "
            "client under test; see the README's 'Client profiles')"
        )


@pytest.fixture(scope="session")
def conformance_run(pytestconfig: pytest.Config) -> Iterator[Run]:
    """Start the target and the client under test; stop both at the end."""
    profile = pytestconfig.stash[PROFILE]
    port = profile.port or free_port()
    target, server = _target(pytestconfig, profile, port)
    try:
        endpoints = Endpoints(
            target.identity_url, target.api_url, target.client_id, target.client_secret
        )
        try:
            client = start_client(profile, endpoints, port)
        except (ClientStartError, ProfileError) as exc:
            pytest.exit(f"conformance: {exc}", returncode=3)
        try:
            yield Run(
                profile,
                client,
                target,
                pytestconfig.stash[RESULTS],
                pytestconfig.getoption("ch_grace"),
            )
        finally:
            client.stop()
    finally:
        if server is not None:
            server.stop()


def _target(
    config: pytest.Config, profile: ClientProfile, port: int
) -> tuple[Target, ProviderServer | None]:
    name = config.getoption("ch_target")
    if name == "fake":
        return fake_target(profile, port)
    if name == "sandbox":
        identity = config.getoption("ch_identity_url") or SANDBOX_IDENTITY
        api = config.getoption("ch_api_url") or SANDBOX_API
        person = config.getoption("ch_person") or "interactive"
    elif name.startswith(("http://", "https://")):
        identity = name
        api = config.getoption("ch_api_url") or name
        person = config.getoption("ch_person") or "auto"
    else:
        pytest.exit(
            f"conformance: --target: expected fake, sandbox or a URL, got {name!r}",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
    via = None
    if person == "interactive" and not _has_terminal():
        pytest.exit(
            "conformance: --person interactive needs a terminal to read the pasted "
            "address from; run it in one, or use --person auto",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
    if person == "interactive":
        capture = config.pluginmanager.getplugin("capturemanager")
        suspend = capture.global_and_fixture_disabled if capture else None
        via = InteractivePerson(config.getoption("ch_sign_in_timeout"), suspend)
    try:
        return remote_target(profile, name, identity, api, via), None
    except ProfileError as exc:
        pytest.exit(f"conformance: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)


def _has_terminal() -> bool:
    try:
        with open("/dev/tty"):
            return True
    except OSError:
        return False


@pytest.fixture
def scenario(
    request: pytest.FixtureRequest, conformance_run: Run
) -> Iterator[Scenario]:
    """One scenario: a reset fake, a fresh browser, a judge for the named ids."""
    marker = request.node.get_closest_marker("requirements")
    if marker is None:
        pytest.fail(f"{request.node.nodeid} names no requirements", pytrace=False)
    target = conformance_run.target
    if target.identity is not None:
        target.identity.reset()
    judge = Judge(request.node.nodeid, marker.args, conformance_run.results)
    current = Scenario(
        profile=conformance_run.profile,
        client=conformance_run.client,
        target=target,
        judge=judge,
        grace=conformance_run.grace,
    )
    request.node.stash[SCENARIO] = current
    yield current
    current.browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """After a scenario's test body, judge it: a failed MUST fails the test."""
    result = yield
    current = item.stash.get(SCENARIO, None)
    if current is not None:
        current.finish()
    return result


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the reports if the suite ran."""
    config = session.config
    results = config.stash[RESULTS]
    if not results.verdicts or PROFILE not in config.stash:
        return
    profile = config.stash[PROFILE]
    started = config.stash[STARTED]
    meta = {
        "client": profile.name,
        "profile": str(profile.path),
        "target": config.getoption("ch_target"),
        "started": started,
        "finished": time.time(),
        "duration": time.time() - started,
        "scenarios": len({v.test for v in results.verdicts}),
    }
    folder = Path(config.getoption("ch_report"))
    config.stash[REPORTS] = write_reports(
        results, folder, meta, profile.expected_failures
    )


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print the one-screen summary."""
    results = config.stash[RESULTS]
    if not results.verdicts:
        return
    terminalreporter.section("Companies House OAuth conformance")
    profile = config.stash.get(PROFILE, None)
    expected = profile.expected_failures if profile else {}
    reports: list[Path] = config.stash.get(REPORTS, [])
    for line in summary_lines(results, reports, expected):
        terminalreporter.write_line(line)
