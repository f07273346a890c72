"""The interactive sign-in on a remote target, as a person at a terminal meets it.

The suite runs in a subprocess whose controlling terminal is a pseudo-terminal held
here, so its prompt appears on the pty and its read from ``/dev/tty`` gets what is
typed into it. The fake, control plane off, stands in for the sandbox; the test
plays the person, walking the fake's pages in a browser of its own.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import os
import re
import select
import signal
import subprocess
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from suite_support import (
    SuiteRun,
    example_document,
    is_running,
    provider_without_control,
    read_pid,
    recording_pid,
    suite_argv,
    suite_env,
)

# A run takes a few seconds; past this it is hanging, and the test says so.
RUN_DEADLINE = 30.0
AUTHORISE_URL = re.compile(rb"(http://\S+/oauth2/authorise\?\S+)")
PROMPT_END = b"paste it here"
EMAIL = "demo@example.com"
PASSWORD = "password"
SEEN_FROM_THE_BROWSER = {
    "authorise-request",
    "state-present",
    "secret-not-in-url",
    "signed-in",
}
# What the walking scenario checks that only the fake's journal could show.
NEEDS_CONTROL = {
    "redirect-uri-identical",
    "token-request",
    "code-exchanged-once",
    "profile-read",
    "bearer-header",
    "oauth2-paths",
    "client-auth-method",
    "verify-used",
}


@dataclass(frozen=True)
class Sandbox:
    """A provider standing in for the sandbox, and the options that point at it."""

    profile: Path
    options: tuple[str, ...]


@pytest.fixture
def sandbox(tmp_path: Path, pid_recorder: Path, pidfile: Path) -> Iterator[Sandbox]:
    """The fake, control plane off, with the reference client registered on a port."""
    document = example_document("reference")
    recording_pid(document, pid_recorder, pidfile)
    with provider_without_control(tmp_path, document) as (url, profile):
        options = (
            "--target",
            "sandbox",
            "--identity-url",
            url,
            "--api-url",
            url,
            "--person",
            "interactive",
        )
        yield Sandbox(profile, options)


class Terminal:
    """A run of the suite whose stdin, stdout and controlling terminal are a pty."""

    def __init__(self, process: subprocess.Popen[bytes], master: int) -> None:
        self.process = process
        self.master = master
        self.output = bytearray()
        self.deadline = time.monotonic() + RUN_DEADLINE

    @property
    def text(self) -> str:
        """Everything the run has printed so far."""
        return self.output.decode("utf-8", "replace")

    def read_until(self, pattern: re.Pattern[bytes]) -> re.Match[bytes]:
        """Read the run's output until ``pattern`` appears in it."""
        while (match := pattern.search(self.output)) is None:
            if not self._read():
                raise AssertionError(
                    f"the suite ended without printing {pattern.pattern!r}:\n"
                    f"{self.text}"
                )
        return match

    def type_line(self, line: str) -> None:
        """Type a line at the terminal, as a person pasting and pressing Enter."""
        os.write(self.master, line.encode() + b"\n")

    def wait(self) -> int:
        """Read the rest of the output until the run ends; return its exit status."""
        while self._read():
            pass
        try:
            return self.process.wait(max(self.deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the suite did not exit:\n{self.text}") from None

    def _read(self) -> bool:
        """Read what is there, waiting up to the deadline; false at end of output."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.master], [], [], remaining)[0]:
            raise AssertionError(
                f"the suite was still running after {RUN_DEADLINE:g} s:\n{self.text}"
            )
        try:
            chunk = os.read(self.master, 4096)
        except OSError as exc:
            # Linux: EIO once no process holds the terminal open any more.
            if exc.errno != errno.EIO:
                raise
            return False
        self.output += chunk
        return bool(chunk)


def _take_terminal() -> None:
    """In the child, after setsid: make stdin, the pty, its controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@contextmanager
def suite_at_terminal(folder: Path, *args: str | Path) -> Iterator[Terminal]:
    """Start the suite at a terminal of its own; kill what is left of it after."""
    folder.mkdir(parents=True, exist_ok=True)
    master, slave = os.openpty()
    try:
        process = subprocess.Popen(
            suite_argv(folder, *args),
            cwd=folder,
            env=suite_env(),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            preexec_fn=_take_terminal,
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    try:
        yield Terminal(process, master)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        os.close(master)


@dataclass
class _Form:
    action: str = ""
    hidden: dict[str, str] = dataclasses.field(default_factory=dict)


class _FormReader(HTMLParser):
    """Reads the first form on a page: where it posts, and its hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.form: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and self.form is None:
            self.form = _Form(action=attributes.get("action", ""))
        elif self.form is not None and tag == "input":
            if attributes.get("type") == "hidden" and attributes.get("name"):
                self.form.hidden[attributes["name"]] = attributes.get("value", "")


def _submit(
    browser: requests.Session, page: requests.Response, **fields: str
) -> requests.Response:
    """Fill the page's form with ``fields`` and post it, following no redirect."""
    assert page.status_code == 200, page.text
    reader = _FormReader()
    reader.feed(page.text)
    assert reader.form is not None, page.text
    return browser.post(
        urljoin(page.url, reader.form.action),
        data={**reader.form.hidden, **fields},
        allow_redirects=False,
        timeout=10,
    )


def sign_in_as_person(authorise_url: str) -> str:
    """Sign in and approve in a browser; return the address the browser lands on."""
    with requests.Session() as browser:
        page = browser.get(authorise_url, timeout=10)
        page = _submit(browser, page, email=EMAIL, password=PASSWORD)
        answer = _submit(browser, page, decision="approve")

    assert answer.is_redirect, answer.text
    return urljoin(answer.url, answer.headers["Location"])


def test_interactive_sign_in_reads_the_pasted_callback_from_the_terminal(
    tmp_path: Path, sandbox: Sandbox, pidfile: Path
) -> None:
    folder = tmp_path / "run"
    options = (*sandbox.options, "--sign-in-timeout", "20", "-k", "walking")

    with suite_at_terminal(folder, "--client", sandbox.profile, *options) as terminal:
        authorise_url = terminal.read_until(AUTHORISE_URL).group(1).decode()
        terminal.read_until(re.compile(re.escape(PROMPT_END)))
        terminal.type_line(sign_in_as_person(authorise_url))
        returncode = terminal.wait()

    run = SuiteRun(returncode, terminal.text, "", folder)
    assert run.returncode == pytest.ExitCode.OK, run.output
    verdicts = run.verdicts()
    assert {rid for rid in SEEN_FROM_THE_BROWSER if verdicts[rid] != "pass"} == set()
    assert {rid for rid in NEEDS_CONTROL if verdicts[rid] != "skip"} == set()
    reasons = [
        check["detail"]
        for rid in NEEDS_CONTROL
        for check in run.requirement(rid)["checks"]
    ]
    assert reasons
    assert [reason for reason in reasons if "control plane" not in reason] == []
    _assert_client_stopped(pidfile)


def test_interactive_sign_in_nobody_answers_skips_after_the_timeout(
    tmp_path: Path, sandbox: Sandbox, pidfile: Path
) -> None:
    folder = tmp_path / "run"
    options = (*sandbox.options, "--sign-in-timeout", "1", "-k", "walking")

    with suite_at_terminal(folder, "--client", sandbox.profile, *options) as terminal:
        terminal.read_until(re.compile(rb"paste it here \(waiting 1 s\)"))
        returncode = terminal.wait()

    run = SuiteRun(returncode, terminal.text, "", folder)
    assert run.returncode == pytest.ExitCode.OK, run.output
    assert run.verdicts()["signed-in"] == "skip"
    [check] = run.requirement("signed-in")["checks"]
    assert "no callback address was given" in check["detail"]
    assert "Traceback" not in run.output
    assert "INTERNALERROR" not in run.output
    # The run waited out the timeout at the terminal rather than giving up at once.
    [case] = run.testcases()
    assert float(case.get("time", "0")) >= 1.0
    _assert_client_stopped(pidfile)


def _assert_client_stopped(pidfile: Path) -> None:
    pid = read_pid(pidfile)
    assert pid is not None
    assert not is_running(pid)
