"""``python -m mock_provider serve``: what it prints, how it stops, how it fails."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
import requests

from mock_provider import DataSet, ProviderConfig
from mock_provider.cli import build_parser, describe

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 20


@dataclass
class Running:
    """A ``serve`` process and the lines it has printed so far."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str | None]
    stderr: Path

    def read_until(self, marker: str) -> list[str]:
        """Return the printed lines up to and including the one holding ``marker``."""
        seen: list[str] = []
        while True:
            line = self.lines.get(timeout=TIMEOUT)
            if line is None:
                raise AssertionError(f"exited before {marker!r}: {seen}")
            seen.append(line.rstrip("\n"))
            if marker in line:
                return seen


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "mock_provider", *args]


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT),
    }


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Running]]:
    """Start ``serve`` with extra arguments; every process is ended at teardown."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> Running:
        stderr = tmp_path / f"stderr-{len(started)}.log"
        with stderr.open("w") as errors:
            process = subprocess.Popen(
                _command("serve", "--port", "0", *args),
                cwd=ROOT,
                env=_env(),
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
        started.append(process)
        lines: queue.Queue[str | None] = queue.Queue()
        assert process.stdout is not None
        threading.Thread(
            target=_pump, args=(process.stdout, lines), daemon=True
        ).start()
        return Running(process, lines, stderr)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=TIMEOUT)
        assert process.stdout is not None
        process.stdout.close()


def _url(lines: list[str]) -> str:
    match = re.search(r"listening on (http://\S+)", lines[0])
    assert match, lines
    return match.group(1)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["int", "term"])
def test_cli_serve_prints_url_and_credentials_then_stops(
    serve: Callable[..., Running], stop: signal.Signals
) -> None:
    running = serve()

    printed = running.read_until("Press Ctrl-C to stop.")
    url = _url(printed)
    index = requests.get(url + "/", timeout=TIMEOUT)
    running.process.send_signal(stop)
    tail = running.read_until("stopped")

    text = "\n".join(printed)
    assert url.startswith("http://127.0.0.1:")
    assert "(sandbox realm)" in printed[0]
    assert "client id:      test-client-id" in text
    assert "client secret:  test-client-secret" in text
    assert "test user:      demo@example.com / password" in text
    assert "company:        00012345 auth code 222222" in text
    assert f"authorise URL:  {url}/oauth2/authorise?response_type=code" in text
    assert f"control plane:  {url}/_mock/" in text
    assert index.status_code == 200
    assert tail[-1] == "ch-oauth-mock: stopped"
    assert running.process.wait(timeout=TIMEOUT) == 0


@pytest.mark.parametrize(
    ("args", "path", "status", "shown"),
    [
        ((), "/_mock/clock", 200, "control plane:"),
        (("--no-control",), "/_mock/clock", 404, "client id:      test-client-id"),
        (("--strict",), "/oauth/verify", 404, "(sandbox realm)"),
        (("--realm", "live"), "/oauth/verify", 400, "client id:      live-client-id"),
    ],
    ids=["control", "no-control", "strict", "live"],
)
def test_cli_serve_switches_shape_provider(
    serve: Callable[..., Running],
    args: tuple[str, ...],
    path: str,
    status: int,
    shown: str,
) -> None:
    running = serve(*args)
    printed = running.read_until("Press Ctrl-C to stop.")

    response = requests.get(_url(printed) + path, timeout=TIMEOUT)

    assert response.status_code == status
    assert any(shown in line for line in printed), printed
    assert ("--no-control" in args) is not any("control plane" in p for p in printed)
    running.process.send_signal(signal.SIGINT)
    assert running.process.wait(timeout=TIMEOUT) == 0


def test_cli_serve_with_data_file(
    serve: Callable[..., Running], tmp_path: Path
) -> None:
    data = tmp_path / "one.toml"
    data.write_text(
        '[[clients]]\nclient_id = "mine"\nclient_secret = "mine-secret"\n'
        'name = "Mine"\nredirect_uris = ["http://127.0.0.1:9/cb"]\n'
    )
    running = serve("--data", str(data), "--no-control")

    printed = running.read_until("Press Ctrl-C to stop.")

    text = "\n".join(printed)
    assert "client id:      mine" in text
    assert "test user" not in text
    assert "control plane" not in text


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad.toml", '[[companies]]\nnumber = "x"', "companies[0].number"),
        ("absent.toml", None, "cannot be read"),
    ],
    ids=["bad-entry", "missing"],
)
def test_cli_broken_data_file_exits_2_naming_it(
    tmp_path: Path, name: str, content: str | None, expected: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)

    result = subprocess.run(
        _command("serve", "--port", "0", "--data", str(path)),
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.startswith(f"ch-oauth-mock: {path}: ")
    assert expected in result.stderr
    assert result.stdout == ""


def test_cli_port_in_use_exits_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = subprocess.run(
            _command("serve", "--port", str(port)),
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    assert result.returncode == 1
    assert "in use" in result.stderr


@pytest.mark.parametrize(
    "argv",
    [[], ["serve", "--realm", "production"], ["serve", "--port", "x"], ["start"]],
    ids=["no-command", "bad-realm", "bad-port", "unknown-command"],
)
def test_cli_bad_arguments_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(argv)

    assert caught.value.code == 2
    assert "usage: ch-oauth-mock" in capsys.readouterr().err


def test_cli_describe_leaves_out_what_data_lacks() -> None:
    config = ProviderConfig(data=DataSet(), control=False)

    text = describe(config, "http://localhost:1")

    assert text.splitlines() == [
        "ch-oauth-mock: listening on http://localhost:1 (sandbox realm)",
        "Press Ctrl-C to stop.",
    ]
