"""Fixtures for the conformance suite's own tests.

The suite is run as a user runs it, in a subprocess. A full run takes seconds, so the
runs of the example clients are made once per session (per worker under xdist) and
shared by the tests that read their results.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from suite_support import (
    EXAMPLES,
    PID_RECORDER,
    SuiteRun,
    is_running,
    read_pid,
    run_suite,
    start_suite,
)


@pytest.fixture(scope="session")
def example_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], SuiteRun]:
    """Return a function giving the full run of an example client on the fake."""
    runs: dict[str, SuiteRun] = {}

    def run(name: str) -> SuiteRun:
        if name not in runs:
            folder = tmp_path_factory.mktemp(name)
            runs[name] = run_suite(folder, "--client", EXAMPLES / name / "profile.toml")
        return runs[name]

    return run


@pytest.fixture
def pid_recorder(tmp_path: Path) -> Path:
    """A script that records its process id, then runs the client command given."""
    path = tmp_path / "record_pid.py"
    path.write_text(PID_RECORDER, encoding="utf-8")
    return path


@pytest.fixture
def pidfile(tmp_path: Path) -> Iterator[Path]:
    """Where the client's process id is recorded; a client left running is killed."""
    path = tmp_path / "client.pid"
    yield path
    pid = read_pid(path)
    if pid is not None and is_running(pid):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def suite_in_background() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Return :func:`start_suite`; a run the test leaves going is killed after it."""
    started: list[subprocess.Popen[bytes]] = []

    def start(folder: Path, *args: str | Path) -> subprocess.Popen[bytes]:
        started.append(start_suite(folder, *args))
        return started[-1]

    yield start
    for suite in started:
        if suite.poll() is None:
            suite.kill()
            suite.wait()
