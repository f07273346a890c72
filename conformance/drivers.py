"""How the suite reaches the client under test: a process it starts, a URL, or an
adapter object served in-process. Whatever it starts, it stops."""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

import requests

from .profile import ClientProfile, ProfileError

__all__ = [
    "ClientStartError",
    "Endpoints",
    "RunningClient",
    "free_port",
    "redirect_uri_for",
    "start_client",
]

log = logging.getLogger(__name__)

# Processes still running when the interpreter exits (an interrupted run that
# skipped fixture teardown) are stopped then.
_RUNNING: set[ProcessClient] = set()


@atexit.register
def _stop_leftovers() -> None:
    for client in list(_RUNNING):
        client.stop()


class ClientStartError(RuntimeError):
    """The client under test could not be started or did not become ready."""


class RunningClient(Protocol):
    """A client the suite can send a browser to."""

    base_url: str
    redirect_uri: str

    def stop(self) -> None:
        """Stop whatever was started; safe to call twice."""

    def log_tail(self) -> str:
        """The last lines the client wrote, for failure messages."""


@dataclass
class Endpoints:
    """The values the suite fills into a profile's placeholders."""

    identity_url: str
    api_url: str
    client_id: str
    client_secret: str

    def values(self, profile: ClientProfile, port: int) -> dict[str, str]:
        """Return every placeholder's value for this run."""
        values = {
            "python": sys.executable,
            "port": str(port),
            "identity_url": self.identity_url,
            "api_url": self.api_url,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "http_timeout": f"{profile.http_timeout:g}",
            "company_number": "{company_number}",
        }
        values["redirect_uri"] = profile.fill(profile.redirect_uri, values)
        return values


def free_port() -> int:
    """Return a port the OS says is free now (the client binds it soon after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def redirect_uri_for(profile: ClientProfile, endpoints: Endpoints, port: int) -> str:
    """Return the client's redirect URI once its port is known."""
    return endpoints.values(profile, port)["redirect_uri"]


def start_client(
    profile: ClientProfile, endpoints: Endpoints, port: int
) -> RunningClient:
    """Start or reach the client the profile describes."""
    values = endpoints.values(profile, port)
    if profile.adapter is not None:
        return start_adapter(profile, values)
    base_url = profile.fill(profile.base_url, values).rstrip("/")
    if profile.command is None:
        client: RunningClient = UrlClient(base_url, values["redirect_uri"])
    else:
        client = ProcessClient(profile, values, base_url).start()
    wait_ready(client, profile)
    return client


def start_adapter(profile: ClientProfile, values: Mapping[str, str]) -> RunningClient:
    """Load the profile's adapter and serve it; its failures stop the run once."""
    from .adapter import AdapterClient

    adapter = load_adapter(profile)
    try:
        return AdapterClient(adapter, values).start()
    except ClientStartError:
        raise
    except Exception as exc:  # noqa: BLE001 - any adapter failure is reported
        raise ClientStartError(
            f"{profile.path}: client.adapter: {profile.adapter} failed to start: "
            f"{exc!r}"
        ) from exc


def load_adapter(profile: ClientProfile) -> object:
    """Import ``module:Class`` from the profile and instantiate it."""
    assert profile.adapter is not None
    module_name, _, attribute = profile.adapter.partition(":")
    if not attribute:
        raise ProfileError(
            f"{profile.path}: client.adapter: expected 'module:Class', "
            f"got {profile.adapter!r}"
        )
    sys.path.insert(0, str(profile.cwd or profile.path.parent))
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ProfileError(
            f"{profile.path}: client.adapter: cannot load {profile.adapter!r}: {exc}"
        ) from exc
    try:
        return factory()
    except Exception as exc:  # noqa: BLE001 - the adapter's own code failed
        raise ClientStartError(
            f"{profile.path}: client.adapter: {profile.adapter}() failed: {exc!r}"
        ) from exc


class UrlClient:
    """A client already running somewhere; nothing to start or stop."""

    def __init__(self, base_url: str, redirect_uri: str) -> None:
        self.base_url = base_url
        self.redirect_uri = redirect_uri

    def stop(self) -> None:
        """Nothing to stop."""

    def log_tail(self) -> str:
        """No log: the suite did not start it."""
        return ""


class ProcessClient:
    """A client process the suite starts with the profile's command and env."""

    def __init__(
        self, profile: ClientProfile, values: Mapping[str, str], base_url: str
    ) -> None:
        assert profile.command is not None
        self.profile = profile
        self.argv = [profile.fill(part, values) for part in profile.command]
        self.env = {
            **os.environ,
            **{k: profile.fill(v, values) for k, v in profile.env.items()},
        }
        self.base_url = base_url
        self.redirect_uri = values["redirect_uri"]
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] = tempfile.TemporaryFile()

    def start(self) -> ProcessClient:
        """Start the process in its own process group."""
        try:
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.profile.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise ClientStartError(
                f"{self.profile.path}: client.command: cannot run {self.argv[0]!r}: "
                f"{exc.strerror}"
            ) from exc
        _RUNNING.add(self)
        return self

    def exited(self) -> int | None:
        """The exit status, if the process has ended."""
        return None if self.process is None else self.process.poll()

    def stop(self) -> None:
        """Stop the process group: SIGTERM, then SIGKILL after 5 s.

        The client is forgotten only once it has ended, so a stop cut short by
        an interrupt is finished at exit.
        """
        process = self.process
        if process is not None and process.poll() is None:
            _end_group(process)
        self.process = None
        _RUNNING.discard(self)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the client's output."""
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])


def _end_group(process: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(5.0)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_ready(client: RunningClient, profile: ClientProfile) -> None:
    """Wait until the client answers its ready path, it exits, or time runs out.

    A started process announces nothing, so this polls, with a short back-off.
    """
    url = client.base_url + profile.ready_path
    deadline = time.monotonic() + profile.start_timeout
    pause = 0.01
    while True:
        status = _try_get(url)
        if status is not None and status < 500:
            return
        code = client.exited() if isinstance(client, ProcessClient) else None
        if code is not None:
            raise ClientStartError(
                f"the client exited with status {code} before answering {url}:\n"
                f"{client.log_tail()}"
            )
        if time.monotonic() > deadline:
            client.stop()
            raise ClientStartError(
                f"the client did not answer {url} within {profile.start_timeout:g} s "
                f"(client.start_timeout in {profile.path}):\n{client.log_tail()}"
            )
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _try_get(url: str) -> int | None:
    try:
        return requests.get(url, timeout=2, allow_redirects=False).status_code
    except requests.RequestException:
        return None


def profile_folder(profile: ClientProfile) -> Path:
    """The folder relative paths in the profile start from."""
    return profile.cwd or profile.path.parent
