"""Measuring helpers: figures, tables, process memory, and the servers compared.

The bare app is the baseline every figure is set against: werkzeug answering any
request with a constant token response, on the same threaded server as ours.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from mock_provider import Provider

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
TOKEN_BODY = json.dumps(
    {
        "access_token": "a" * 43,
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": "r" * 43,
    }
).encode()

# The bare app as a process of its own, for the cold start and memory baselines.
BARE_SCRIPT = """
import sys
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response
BODY = sys.argv[1].encode()
class Quiet(WSGIRequestHandler):
    def log_request(self, *args): pass
@Request.application
def app(request):
    return Response(BODY, mimetype="application/json")
server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
print(f"bare: listening on http://127.0.0.1:{server.server_port}", flush=True)
server.serve_forever()
"""
SERVE = [sys.executable, "-m", "mock_provider", "serve", "--port", "0"]
BARE = [sys.executable, "-c", BARE_SCRIPT, TOKEN_BODY.decode()]


# Figures and tables.


def summarise(samples: Sequence[float]) -> dict[str, float]:
    """Return the median, the 90th percentile (nearest rank) and the count."""
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return {"median": statistics.median(ordered), "p90": p90, "n": len(ordered)}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} µs"


def mib(size: float) -> str:
    return f"{size / MIB:.1f} MiB"


def verdict(target: str, ok: bool) -> str:
    return f"{target} {'ok' if ok else 'MISSED'}"


def print_table(
    title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Print a plain text table under a title."""
    body = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(header)]
    rule = "  ".join("-" * w for w in widths)
    print(f"\n{title}\n{rule}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    print(rule)
    for row in body:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """Return VmRSS and VmHWM of a process, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


def time_calls(call: Callable[[], Any], n: int) -> list[float]:
    """Call ``n`` times; return each call's seconds."""
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


# Servers.


class QuietHandler(WSGIRequestHandler):
    """No log line per request, as in :class:`mock_provider.ProviderServer`."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@Request.application
def bare_app(request: Request) -> Response:
    """The baseline: whatever is asked, a constant token response."""
    return Response(TOKEN_BODY, mimetype="application/json")


class TimedProvider(Provider):
    """Our provider, keeping the seconds each WSGI call spent inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.samples: list[float] = []

    def __call__(self, environ: Any, start_response: Any) -> Any:
        started = time.perf_counter()
        result = super().__call__(environ, start_response)
        self.samples.append(time.perf_counter() - started)
        return result


class TimedBare:
    """The bare app, timed the same way."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    def __call__(self, environ: Any, start_response: Any) -> Any:
        started = time.perf_counter()
        result = bare_app(environ, start_response)
        self.samples.append(time.perf_counter() - started)
        return result


@contextmanager
def bare_server(app: Any = bare_app) -> Iterator[str]:
    """Serve the bare app on a thread, the way ProviderServer serves ours."""
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@contextmanager
def served_process(
    command: list[str], env: dict[str, str]
) -> Iterator[tuple[int, str, float]]:
    """Start a server process; yield its pid, URL and seconds until GET / gave 200."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = _listening_url(process)
        _poll_until_ok(url + "/", deadline=started + 30)
        yield process.pid, url, time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _poll_until_ok(url: str, deadline: float) -> None:
    with requests.Session() as session:
        session.trust_env = False
        while time.perf_counter() < deadline:
            try:
                if session.get(url, timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.001)
    raise RuntimeError(f"GET {url} gave no 200 in time")


def _listening_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return found.group(1)
    raise RuntimeError(f"the server exited ({process.wait()}) before listening")


def child_envs(cache_dir: str) -> dict[str, dict[str, str]]:
    """Environments for child interpreters: as this one runs, and with bytecode cached.

    ``PYTHONDONTWRITEBYTECODE`` (set in some sandboxes and CI images) makes every
    start compile the package from source; an installed package has its bytecode.
    The cache goes to a temporary directory, never into the source tree.
    """
    plain = {**os.environ, "PYTHONPATH": str(ROOT)}
    cached = {k: v for k, v in plain.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = cache_dir
    return {"as run here": plain, "bytecode cached": cached}
