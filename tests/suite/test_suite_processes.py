"""The client process the suite starts is stopped however the run ends, and a client
that cannot start stops the run with a message saying why."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from suite_support import (
    CLIENT_START_FAILED,
    example_document,
    interrupt,
    is_running,
    printed,
    read_pid,
    recording_pid,
    run_suite,
    wait_until,
    write_profile,
)

NEVER_READY = ["-c", "import time; time.sleep(120)"]


def _profile(tmp_path: Path, example: str, recorder: Path, pidfile: Path) -> Path:
    """An example's profile, its client started through the pid recorder."""
    document = example_document(example)
    recording_pid(document, recorder, pidfile)
    return write_profile(tmp_path / "profile.toml", document)


def _never_ready(
    tmp_path: Path, recorder: Path, pidfile: Path, start_timeout: float
) -> Path:
    """A profile whose client runs but never answers its ready path."""
    document = example_document("reference")
    recording_pid(document, recorder, pidfile)
    document["client"]["command"] = [*document["client"]["command"][:2], *NEVER_READY]
    document["client"]["start_timeout"] = start_timeout
    return write_profile(tmp_path / "profile.toml", document)


@pytest.mark.parametrize(
    "how",
    [
        pytest.param(signal.SIGINT, id="ctrl-c"),
        pytest.param(signal.SIGTERM, id="terminated"),
    ],
)
def test_client_is_stopped_when_the_run_is_interrupted(
    tmp_path: Path,
    pid_recorder: Path,
    pidfile: Path,
    suite_in_background: Callable[..., subprocess.Popen[bytes]],
    how: int,
) -> None:
    profile = _profile(tmp_path, "reference", pid_recorder, pidfile)
    folder = tmp_path / "run"
    suite = suite_in_background(folder, "--client", profile, "-v")
    wait_until(lambda: printed(folder, " PASSED"), suite, folder)

    run = interrupt(suite, folder, how)

    assert run.returncode == pytest.ExitCode.INTERRUPTED
    assert "KeyboardInterrupt" in run.output
    pid = read_pid(pidfile)
    assert pid is not None
    assert not is_running(pid)


def test_client_is_stopped_when_the_run_is_interrupted_while_it_starts(
    tmp_path: Path,
    pid_recorder: Path,
    pidfile: Path,
    suite_in_background: Callable[..., subprocess.Popen[bytes]],
) -> None:
    profile = _never_ready(tmp_path, pid_recorder, pidfile, start_timeout=120)
    folder = tmp_path / "run"
    suite = suite_in_background(folder, "--client", profile)
    wait_until(lambda: read_pid(pidfile) is not None, suite, folder)

    run = interrupt(suite, folder)

    assert run.returncode == pytest.ExitCode.INTERRUPTED
    pid = read_pid(pidfile)
    assert pid is not None
    assert not is_running(pid)


def test_client_is_stopped_when_the_run_stops_at_the_first_failure(
    tmp_path: Path, pid_recorder: Path, pidfile: Path
) -> None:
    # requests-oauthlib accepts a replayed callback: a MUST failure early in the run.
    profile = _profile(tmp_path, "requests_oauthlib_client", pid_recorder, pidfile)

    run = run_suite(tmp_path / "run", "--client", profile, "-x")

    assert run.returncode == pytest.ExitCode.TESTS_FAILED
    assert "stopping after 1 failures" in run.output
    pid = read_pid(pidfile)
    assert pid is not None
    assert not is_running(pid)


def test_client_that_exits_at_once_stops_the_run_with_its_status_and_log(
    tmp_path: Path,
) -> None:
    document = example_document("reference")
    document["client"]["command"] = [
        "{python}",
        "-c",
        "import sys; print('client: CH_SETTINGS is not set'); sys.exit(7)",
    ]
    profile = write_profile(tmp_path / "profile.toml", document)

    run = run_suite(tmp_path / "run", "--client", profile)

    assert run.returncode == CLIENT_START_FAILED
    assert "the client exited with status 7 before answering" in run.output
    assert "client: CH_SETTINGS is not set" in run.output
    assert "Traceback" not in run.output


def test_client_that_never_answers_is_stopped_after_its_start_timeout(
    tmp_path: Path, pid_recorder: Path, pidfile: Path
) -> None:
    profile = _never_ready(tmp_path, pid_recorder, pidfile, start_timeout=1)

    run = run_suite(tmp_path / "run", "--client", profile)

    assert run.returncode == CLIENT_START_FAILED
    assert "did not answer" in run.output
    assert f"within 1 s (client.start_timeout in {profile})" in run.output
    pid = read_pid(pidfile)
    assert pid is not None
    assert not is_running(pid)
