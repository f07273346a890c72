"""Property tests: no request, however malformed, makes the provider fail.

Requests are built as raw WSGI environments, so the query string, path and headers
can hold bytes no well-behaved client library would send (invalid UTF-8, broken
percent-encodings, lying Content-Length).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from provider_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    COMPANY,
    REDIRECT_URI,
    ROA,
    START,
    Flow,
    parse_page,
)
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder, run_wsgi_app

from mock_provider import Clock, Provider, ProviderConfig
from mock_provider.authorise import BROWSER_COOKIE, SESSION_COOKIE
from mock_provider.scopes import PROFILE_SCOPE

FUZZ = settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    # A failure should be reported in seconds: one bug, no explain phase.
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ERROR_CODE = re.compile(r"^[\x20\x21\x23-\x5B\x5D-\x7E]+$")
MIB = 1024 * 1024
PATHS = [
    "/",
    "/oauth2/authorise",
    "/oauth2/authorise/signin",
    "/oauth2/authorise/company-auth-code",
    "/oauth2/authorise/consent",
    "/oauth2/token",
    "/oauth/token",
    "/oauth2/verify",
    "/oauth/verify",
    "/user/profile",
    "/transactions",
    "/transactions/000000-000000-000000",
    "/oauth2//token",
    "/transactions//x",
    "/nowhere",
]
NAMES = [
    "response_type",
    "client_id",
    "client_secret",
    "redirect_uri",
    "scope",
    "state",
    "hint",
    "reauthenticate",
    "grant_type",
    "code",
    "refresh_token",
    "access_token",
    "access-token",
    "journey",
    "csrf_token",
    "email",
    "password",
    "auth_code",
    "action",
    "decision",
    "company_number",
]
FIXED_VALUES = [
    CLIENT_ID,
    CLIENT_SECRET,
    "live-client-id",
    "insolvency-client-id",
    REDIRECT_URI,
    PROFILE_SCOPE,
    ROA.format(COMPANY),
    ROA.format("bad"),
    f"{PROFILE_SCOPE}+{ROA.format(COMPANY)}",
    "code",
    "token",
    "authorization_code",
    "refresh_token",
    "true",
    "approve",
    "decline",
    "cancel",
    "continue",
    "demo@example.com",
    "password",
    "222222",
    COMPANY,
    "",
]


@dataclass
class Target:
    """A provider under fuzzing and live values worth mixing into requests."""

    provider: Provider
    values: list[str]
    cookie: str


@pytest.fixture(scope="module")
def target() -> Target:
    """One provider for every example, holding live codes, tokens and a journey."""
    provider = Provider(ProviderConfig(), clock=Clock(start=START))
    flow = Flow(provider)
    values = [flow.code(), flow.code(f"{PROFILE_SCOPE} {ROA.format(COMPANY)}")]
    tokens = flow.tokens(ROA.format(COMPANY))
    values += [tokens["access_token"], tokens["refresh_token"]]
    signin = parse_page(
        flow.authorise(scope=ROA.format(COMPANY)).get_data(as_text=True)
    )
    fields = signin.submit(email="demo@example.com", password="password")
    flow.http.post(signin.form.action, data=fields)
    consent = parse_page(flow.authorise().get_data(as_text=True))
    for page in (signin, consent):
        values += [page.form.fields["journey"], page.form.fields["csrf_token"]]
    cookies = [flow.http.get_cookie(n) for n in (BROWSER_COOKIE, SESSION_COOKIE)]
    cookie = "; ".join(f"{c.key}={c.value}" for c in cookies if c is not None)
    return Target(provider, FIXED_VALUES + values, cookie)


# Pieces of requests.


def _text(max_size: int = 40) -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="utf-8"), max_size=max_size)


def _encoded(value: str | bytes, style: str) -> str:
    """Encode one query or form value in one of several ways, some of them broken."""
    raw = value if isinstance(value, bytes) else value.encode()
    if style == "plus":
        return quote_plus(raw)
    if style == "percent":
        return quote(raw, safe="")
    if style == "raw":
        return raw.decode("latin-1")
    return raw.decode("latin-1") + style


def _pairs(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A query string or form body: pairs, maybe repeated, maybe badly encoded."""
    key = st.sampled_from(NAMES) | _text(10)
    value = values | _text() | st.binary(max_size=20)
    style = st.sampled_from(["plus", "percent", "raw", "%", "%zz", "%e2%82", "%ff"])
    pair = st.tuples(key, value, style, st.booleans()).map(
        lambda p: _encoded(p[0], "plus") + ("=" + _encoded(p[1], p[2]) if p[3] else "")
    )
    separator = st.sampled_from(["&", ";", "&&"])
    return st.tuples(st.lists(pair, max_size=8), separator).map(
        lambda t: t[1].join(t[0])
    )


def _multipart(values: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[bytes, str]]:
    boundary = "fuzzbOUNDARY"
    part = st.tuples(
        st.sampled_from(NAMES) | _text(10), values | _text(), st.booleans()
    )

    def build(parts: list[tuple[str, str, bool]], cut: int | None) -> tuple[bytes, str]:
        body = b""
        for name, value, as_file in parts:
            filename = '; filename="f.txt"' if as_file else ""
            body += (
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="{name}"{filename}\r\n\r\n{value}\r\n'
            ).encode("utf-8", "surrogateescape")
        body += f"--{boundary}--\r\n".encode()
        if cut is not None:
            body = body[:cut]
        return body, f"multipart/form-data; boundary={boundary}"

    return st.builds(build, st.lists(part, max_size=6), st.none() | st.integers(0, 200))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text(10), inner),
    max_leaves=10,
)


def _body(
    values: st.SearchStrategy[str],
) -> st.SearchStrategy[tuple[bytes, str | None]]:
    content_type = st.sampled_from(
        [
            None,
            "application/x-www-form-urlencoded",
            "application/json",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "text/plain",
            "application/x-www-form-urlencoded; charset=latin-1",
            "*/*",
            "\u00e9; ;=",
        ]
    )
    form = _pairs(values).map(
        lambda q: (q.encode("latin-1"), "application/x-www-form-urlencoded")
    )
    document = st.dictionaries(st.sampled_from(NAMES), values | _JSON) | _JSON
    as_json = document.map(lambda d: (json.dumps(d).encode(), "application/json"))
    huge = st.tuples(
        st.sampled_from([MIB - 100, MIB + 1, 1_500_000]),
        st.sampled_from([b"code=", b"", b'{"company_number": "']),
        st.sampled_from(
            ["application/x-www-form-urlencoded", "application/json", None]
        ),
    ).map(lambda t: (t[1] + b"x" * t[0], t[2]))
    return st.one_of(
        st.just((b"", None)),
        st.tuples(st.binary(max_size=300), content_type),
        form,
        st.tuples(_pairs(values).map(lambda q: q.encode("latin-1")), content_type),
        _multipart(values),
        as_json,
        huge,
    )


def _authorization(values: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    printable = st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60
    )
    pair = st.tuples(values | _text(20), values | _text(20)).map(
        lambda p: base64.b64encode(f"{p[0]}:{p[1]}".encode()).decode()
    )
    return st.one_of(
        st.none(),
        st.just(
            "Basic "
            + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        ),
        pair.map(lambda b: f"Basic {b}"),
        st.binary(max_size=30).map(lambda b: "Basic " + base64.b64encode(b).decode()),
        printable.map(lambda t: f"Basic {t}"),
        (values | printable).map(lambda t: f"Bearer {t}"),
        printable,
    )


@dataclass
class RawRequest:
    """One request as the fuzzer built it."""

    method: str
    path: str
    query: str
    body: bytes
    content_type: str | None
    authorization: str | None
    cookie: str | None
    content_length: int | None


def _requests(target: Target) -> st.SearchStrategy[RawRequest]:
    good = st.sampled_from(target.values)
    method = st.sampled_from(
        ["GET", "POST", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    ) | st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)
    path = st.sampled_from(PATHS) | st.tuples(
        st.sampled_from(PATHS),
        st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF), max_size=12),
    ).map("/".join)
    return st.builds(
        _request,
        method,
        path.filter(lambda p: not p.startswith("/_mock")),
        _pairs(good)
        | st.text(max_size=100).map(lambda t: t.encode().decode("latin-1")),
        _body(good),
        _authorization(good),
        st.sampled_from([None, target.cookie])
        | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E)),
        st.sampled_from([None, None, None, 0, 10, 10**9]),
    )


def _request(
    method: str,
    path: str,
    query: str,
    body: tuple[bytes, str | None],
    authorization: str | None,
    cookie: str | None,
    content_length: int | None,
) -> RawRequest:
    return RawRequest(
        method, path, query, body[0], body[1], authorization, cookie, content_length
    )


def _send(provider: Provider, request: RawRequest) -> tuple[int, Headers, bytes]:
    """Call the WSGI application with a raw environment built from ``request``.

    Errors an earlier, failing example left behind are dropped first, so that
    each example is judged (and replayed) on its own.
    """
    provider.take_errors()
    environ = EnvironBuilder(
        path="/", method=request.method, data=request.body
    ).get_environ()
    environ["PATH_INFO"] = request.path.encode("utf-8").decode("latin-1")
    environ["QUERY_STRING"] = request.query
    environ.pop("CONTENT_TYPE", None)
    if request.content_type is not None:
        environ["CONTENT_TYPE"] = request.content_type
    if request.content_length is not None:
        environ["CONTENT_LENGTH"] = str(request.content_length)
    for name, value in (
        ("HTTP_AUTHORIZATION", request.authorization),
        ("HTTP_COOKIE", request.cookie),
    ):
        if value is not None:
            environ[name] = value.encode("utf-8").decode("latin-1")

    app_iter, status, headers = run_wsgi_app(provider, environ, buffered=True)
    return int(status.split()[0]), headers, b"".join(app_iter)


def _check_error_body(path: str, headers: Headers, body: bytes) -> None:
    mimetype = headers.get("Content-Type", "").split(";")[0]
    if mimetype == "text/html":
        assert path.startswith("/oauth2/authorise"), path
        assert body.lstrip().startswith(b"<!DOCTYPE html>")
        return
    assert mimetype == "application/json", mimetype
    document: Any = json.loads(body)
    assert isinstance(document, dict), document
    assert isinstance(document.get("error"), str), document
    if path.startswith("/transactions") and "type" in document:
        assert set(document) == {"error", "type"}, document
        assert isinstance(document["type"], str)
        return
    assert ERROR_CODE.match(document["error"]), document
    assert set(document) <= {"error", "error_description", "error_uri"}, document
    assert isinstance(document.get("error_description", ""), str), document


def _check(
    provider: Provider, request: RawRequest, response: tuple[int, Headers, bytes]
) -> None:
    status, headers, body = response
    assert provider.take_errors() == []
    assert status < 500, (status, body[:300])
    assert b"Traceback" not in body
    if 300 <= status < 400:
        assert "Location" in headers
    if 400 <= status < 500 and request.method != "HEAD":
        _check_error_body(request.path, headers, body)


@FUZZ
@given(data=st.data())
def test_fuzz_no_request_gets_5xx_or_bad_error_body(
    target: Target, data: st.DataObject
) -> None:
    request = data.draw(_requests(target), label="request")

    response = _send(target.provider, request)

    _check(target.provider, request, response)


@FUZZ
@given(data=st.data())
def test_fuzz_authorise_query_never_fails(target: Target, data: st.DataObject) -> None:
    good = st.sampled_from(target.values)
    base = f"client_id={CLIENT_ID}&redirect_uri={quote_plus(REDIRECT_URI)}&"
    query = data.draw(_pairs(good).map(lambda q: base + q), label="query")
    request = RawRequest("GET", "/oauth2/authorise", query, b"", None, None, None, None)

    response = _send(target.provider, request)

    _check(target.provider, request, response)
    status, headers, _ = response
    if status == 302:
        assert headers["Location"].startswith(REDIRECT_URI + "?")


@FUZZ
@given(data=st.data())
def test_fuzz_token_with_valid_client_never_fails(
    target: Target, data: st.DataObject
) -> None:
    good = st.sampled_from(target.values)
    body = data.draw(_pairs(good), label="body")
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    request = RawRequest(
        "POST",
        "/oauth2/token",
        data.draw(_pairs(good), label="query"),
        body.encode("latin-1"),
        "application/x-www-form-urlencoded",
        data.draw(st.sampled_from([None, f"Basic {basic}"]), label="authorization"),
        None,
        None,
    )

    response = _send(target.provider, request)

    _check(target.provider, request, response)
