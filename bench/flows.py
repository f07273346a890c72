"""The client side: the sign-in flow walked over HTTP, or the app called in process."""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from mock_provider import Provider, ProviderServer
from mock_provider.scopes import PROFILE_SCOPE

CLIENT_ID, CLIENT_SECRET = "test-client-id", "test-client-secret"
CREDENTIALS = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
REDIRECT_URI = "http://127.0.0.1:8000/callback"
EMAIL, PASSWORD = "demo@example.com", "password"
AUTHORISE = {
    "response_type": "code",
    "client_id": CLIENT_ID,
    "redirect_uri": REDIRECT_URI,
    "scope": PROFILE_SCOPE,
    "state": "bench-state",
}
STEPS = ("authorise", "signin", "consent", "token", "verify", "profile")


# Over HTTP.


def new_session() -> requests.Session:
    """A session that does not read proxy settings from the environment.

    The session would keep connections alive, but werkzeug's server closes each one
    after its response, so every request connects afresh, on both sides alike. Both
    sides pay the client's cost too; leaving out the per-request scan of the
    environment (about 1 ms here) leaves more of each figure to the server.
    """
    session = requests.Session()
    session.trust_env = False
    return session


class _HiddenInputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("type") == "hidden" and found.get("name"):
            self.values[str(found["name"])] = found.get("value") or ""


def hidden_inputs(html: str) -> dict[str, str]:
    """Return the hidden inputs of a page (``journey`` and ``csrf_token``)."""
    parser = _HiddenInputs()
    parser.feed(html)
    return parser.values


def code_from(location: str) -> str:
    """Return the ``code`` of a redirect back to the client."""
    return parse_qs(urlsplit(location).query)["code"][0]


def code_form(code: str) -> dict[str, str]:
    """Return the token request redeeming ``code``, credentials in the body."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        **CREDENTIALS,
    }


class Steps:
    """Sends requests, keeping each one's seconds; refuses an unexpected status."""

    def __init__(self, session: requests.Session, url: str) -> None:
        self.session, self.url = session, url
        self.times: list[float] = []

    def send(
        self, method: str, path: str, status: int, **options: Any
    ) -> requests.Response:
        started = time.perf_counter()
        response = self.session.request(method, self.url + path, **options)
        self.times.append(time.perf_counter() - started)
        if response.status_code != status:
            raise RuntimeError(
                f"{method} {path}: {response.status_code} {response.text[:200]}"
            )
        return response


def walk_flow(session: requests.Session, url: str) -> list[float]:
    """Walk the six requests of a sign-in as a program would; return their times."""
    session.cookies.clear()
    steps = Steps(session, url)
    page = steps.send(
        "GET", "/oauth2/authorise", 200, params=AUTHORISE, allow_redirects=False
    )
    form = {**hidden_inputs(page.text), "email": EMAIL, "password": PASSWORD}
    page = steps.send("POST", "/oauth2/authorise/signin", 200, data=form)
    form = {**hidden_inputs(page.text), "decision": "approve"}
    back = steps.send(
        "POST", "/oauth2/authorise/consent", 302, data=form, allow_redirects=False
    )
    exchange = code_form(code_from(back.headers["Location"]))
    issued = steps.send("POST", "/oauth2/token", 200, data=exchange)
    access = issued.json()["access_token"]
    steps.send("GET", "/oauth2/verify", 200, params={"access_token": access})
    steps.send(
        "GET", "/user/profile", 200, headers={"Authorization": f"Bearer {access}"}
    )
    return steps.times


def walk_bare(session: requests.Session, url: str) -> list[float]:
    """The same six requests, of the same shapes and sizes, sent to the bare app."""
    session.cookies.clear()
    steps, secret = Steps(session, url), "s" * 43
    form = {"journey": secret, "csrf_token": secret}
    steps.send("GET", "/oauth2/authorise", 200, params=AUTHORISE, allow_redirects=False)
    steps.send(
        "POST",
        "/oauth2/authorise/signin",
        200,
        data={**form, "email": EMAIL, "password": PASSWORD},
    )
    steps.send(
        "POST",
        "/oauth2/authorise/consent",
        200,
        data={**form, "decision": "approve"},
        allow_redirects=False,
    )
    steps.send("POST", "/oauth2/token", 200, data=code_form("c" * 32))
    steps.send("GET", "/oauth2/verify", 200, params={"access_token": secret})
    steps.send(
        "GET", "/user/profile", 200, headers={"Authorization": f"Bearer {secret}"}
    )
    return steps.times


Walk = Callable[[requests.Session, str], list[float]]


def run_flows(walk: Walk, url: str, flows: int, warmup: int = 0) -> list[list[float]]:
    """Walk ``warmup`` untimed flows, then ``flows`` timed ones, on one session."""
    with new_session() as session:
        for _ in range(warmup):
            walk(session, url)
        return [walk(session, url) for _ in range(flows)]


def post_ok(session: requests.Session, url: str, data: dict[str, str]) -> None:
    """POST a form; anything but 200 stops the benchmark."""
    response = session.post(url, data=data)
    if response.status_code != 200:
        raise RuntimeError(f"POST {url}: {response.status_code} {response.text[:200]}")


def issue_codes(session: requests.Session, url: str, n: int) -> list[str]:
    """Authorise ``n`` times under a standing arrangement; return the codes."""
    return [
        code_from(
            session.get(
                url + "/oauth2/authorise", params=AUTHORISE, allow_redirects=False
            ).headers["Location"]
        )
        for _ in range(n)
    ]


def refresh_form(session: requests.Session, server: ProviderServer) -> dict[str, str]:
    """Arrange every authorisation, redeem one code; return a refresh grant's form."""
    assert server.provider.control is not None
    server.provider.control.arrange(times=None)
    code = issue_codes(session, server.url, 1)[0]
    first = session.post(server.url + "/oauth2/token", data=code_form(code))
    return {
        "grant_type": "refresh_token",
        "refresh_token": first.json()["refresh_token"],
        **CREDENTIALS,
    }


# In process.


def wsgi_call(
    app: Any,
    method: str,
    path: str,
    query: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> tuple[str, dict[str, str], bytes]:
    """Call a WSGI app directly; return status, headers and body."""
    body = urlencode(form or {}).encode()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": urlencode(query or {}),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded" if form else "",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    answer: list[Any] = []
    chunks = app(
        environ, lambda status, headers, exc_info=None: answer.extend((status, headers))
    )
    try:
        return answer[0], dict(answer[1]), b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()


def arranged_flow(provider: Provider) -> None:
    """Authorise (arranged), redeem the code and verify the token, in process."""
    _, headers, _ = wsgi_call(provider, "GET", "/oauth2/authorise", AUTHORISE)
    code = code_from(headers["Location"])
    status, _, body = wsgi_call(provider, "POST", "/oauth2/token", form=code_form(code))
    if status.startswith("200"):
        query = {"access_token": json.loads(body)["access_token"]}
        status, _, body = wsgi_call(provider, "GET", "/oauth2/verify", query)
    if not status.startswith("200"):
        raise RuntimeError(f"in-process flow: {status} {body[:200]!r}")
