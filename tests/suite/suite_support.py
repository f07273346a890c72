"""Helpers for running the conformance suite as its users do: in a subprocess.

Each run gets its own folder under the test's ``tmp_path`` for its profile, report
and JUnit file, so the tests can run side by side under pytest-xdist.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from conformance.drivers import free_port
from mock_provider import Client, ProviderConfig, ProviderServer, default_data

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SUITE = ("-m", "pytest", "--pyargs", "conformance", "-p", "no:cacheprovider")
# Hypothesis's plugin is no part of the suite and takes seconds to import.
QUIET = ("-p", "no:hypothesispytest")
RUN_TIMEOUT = 180.0
# The plugin's exit status when the client under test cannot be started.
CLIENT_START_FAILED = 3

# A stand-in for a client command: records its process id, then becomes the client.
# The suite starts the client in a session of its own, so a client the suite forgets
# to stop outlives the run; the id lets a test see whether it did.
PID_RECORDER = '''\
"""Write this process's id to $CONFORMANCE_PIDFILE, then run the given program."""

import os
import sys

target = os.environ["CONFORMANCE_PIDFILE"]
with open(target + ".tmp", "w") as out:
    out.write(str(os.getpid()))
os.replace(target + ".tmp", target)
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
'''

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class SuiteRun:
    """What one run of the suite left behind."""

    returncode: int
    stdout: str
    stderr: str
    folder: Path

    @property
    def output(self) -> str:
        """Everything the run printed."""
        return self.stdout + self.stderr

    @property
    def report_dir(self) -> Path:
        """Where the run was told to write its reports."""
        return self.folder / "report"

    @property
    def junit(self) -> Path:
        """Where the run was told to write its JUnit XML."""
        return self.folder / "junit.xml"

    @cached_property
    def results(self) -> dict[str, Any]:
        """The parsed ``results.json``."""
        document: dict[str, Any] = json.loads(
            (self.report_dir / "results.json").read_text(encoding="utf-8")
        )
        return document

    @cached_property
    def report_md(self) -> str:
        """The text of ``report.md``."""
        return (self.report_dir / "report.md").read_text(encoding="utf-8")

    def verdicts(self) -> dict[str, str]:
        """Each requirement id with its verdict over the run."""
        return {r["id"]: r["verdict"] for r in self.results["requirements"]}

    def requirement(self, requirement_id: str) -> dict[str, Any]:
        """One requirement's entry in ``results.json``."""
        return next(
            r for r in self.results["requirements"] if r["id"] == requirement_id
        )

    def testcases(self) -> list[ElementTree.Element]:
        """The JUnit file's testcase elements."""
        return list(ElementTree.parse(self.junit).getroot().iter("testcase"))


def suite_env() -> dict[str, str]:
    """This environment without what would steer the inner run from outside."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTEST_", "CH_CONFORMANCE_"))
    }


def suite_argv(folder: Path, *args: str | Path) -> list[str]:
    """The command line of a run that reports into ``folder``."""
    return [
        sys.executable,
        *SUITE,
        *QUIET,
        "--report",
        str(folder / "report"),
        "--junitxml",
        str(folder / "junit.xml"),
        *map(str, args),
    ]


def run_suite(folder: Path, *args: str | Path) -> SuiteRun:
    """Run the suite to the end in ``folder`` with these options."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        suite_argv(folder, *args),
        cwd=folder,
        env=suite_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    return SuiteRun(done.returncode, done.stdout, done.stderr, folder)


def start_suite(folder: Path, *args: str | Path) -> subprocess.Popen[bytes]:
    """Start the suite in the background; its output goes to ``folder/output.txt``."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "output.txt").open("wb") as output:
        return subprocess.Popen(
            suite_argv(folder, *args),
            cwd=folder,
            env={**suite_env(), "PYTHONUNBUFFERED": "1"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def interrupt(
    suite: subprocess.Popen[bytes], folder: Path, how: int = signal.SIGINT
) -> SuiteRun:
    """Signal the running suite (Ctrl-C by default) and wait for it to finish."""
    suite.send_signal(how)
    suite.wait(RUN_TIMEOUT)
    output = (folder / "output.txt").read_text(encoding="utf-8", errors="replace")
    return SuiteRun(suite.returncode, output, "", folder)


def wait_until(
    condition: Callable[[], bool], suite: subprocess.Popen[bytes], folder: Path
) -> None:
    """Poll ``condition`` until it holds; fail if the suite ends first."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while not condition():
        if suite.poll() is not None or time.monotonic() > deadline:
            output = (folder / "output.txt").read_text(errors="replace")
            raise AssertionError(f"the suite ended or hung first:\n{output}")
        time.sleep(0.02)


def printed(folder: Path, text: str) -> bool:
    """Whether a suite started in ``folder`` has printed ``text`` so far."""
    return text in (folder / "output.txt").read_text(errors="replace")


def read_pid(pidfile: Path) -> int | None:
    """The process id a :data:`PID_RECORDER` wrote, once it has."""
    try:
        return int(pidfile.read_text())
    except (FileNotFoundError, ValueError):
        return None


def is_running(pid: int) -> bool:
    """Whether the process exists and has not merely exited unreaped (a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def example_document(name: str) -> dict[str, Any]:
    """An example client's profile, parsed, to be varied by a test."""
    document = tomllib.loads((EXAMPLES / name / "profile.toml").read_text())
    document["client"]["cwd"] = str(EXAMPLES / name)
    return document


def recording_pid(document: dict[str, Any], recorder: Path, pidfile: Path) -> None:
    """Make the profile's command run through :data:`PID_RECORDER`."""
    client = document["client"]
    client["command"] = ["{python}", str(recorder), *client["command"][1:]]
    client.setdefault("env", {})["CONFORMANCE_PIDFILE"] = str(pidfile)


def write_profile(path: Path, document: Mapping[str, Any]) -> Path:
    """Write a profile document as TOML; return its path."""
    lines: list[str] = []
    for name, table in document.items():
        lines += _table(name, table)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _table(name: str, table: Mapping[str, Any]) -> list[str]:
    lines = [f"[{name}]"]
    nested = []
    for key, value in table.items():
        if isinstance(value, Mapping):
            nested.append((f"{name}.{_key(key)}", value))
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    for sub, values in nested:
        lines += _table(sub, values)
    return lines


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    # A JSON string is a TOML basic string: same quotes, same escapes.
    return json.dumps(str(value))


@contextmanager
def provider_without_control(
    tmp_path: Path, document: dict[str, Any]
) -> Iterator[tuple[str, Path]]:
    """Run the fake with its control plane off, knowing the profile's client.

    The client is registered on a fixed port with its own credentials, which
    ``document`` (a profile) is given; yields the fake's URL and the profile path.
    """
    port = free_port()
    client = Client(
        client_id="registered-elsewhere",
        client_secret="remote-" + secrets.token_urlsafe(18),
        name="Reference client on a remote target",
        redirect_uris=(f"http://127.0.0.1:{port}/callback",),
    )
    data = default_data()
    data = dataclasses.replace(data, clients=(*data.clients, client))
    document["client"].update(
        port=port, client_id=client.client_id, client_secret=client.client_secret
    )
    profile = write_profile(tmp_path / "profile.toml", document)
    with ProviderServer(ProviderConfig(data=data, control=False)) as server:
        yield server.url, profile
