"""Requests no well-behaved client sends: raw bytes, cut-off bodies, huge bodies.

Each case here was once a crash or a leak; the property tests in
``test_provider_fuzz.py`` look for more of the same kind.
"""

from __future__ import annotations

import gc
import io
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from mock_provider import Provider

BOUNDARY = "testBOUNDARY"


def _call(
    provider: Provider, path: str, body: bytes = b"", **environ: str
) -> tuple[int, bytes]:
    """POST ``body`` in a raw WSGI environment, ``environ`` overriding its keys."""
    built = EnvironBuilder(path=path, method="POST").get_environ()
    built.update(environ)
    built["wsgi.input"] = io.BytesIO(body)
    built.setdefault("CONTENT_LENGTH", str(len(body)))
    app_iter, status, _ = run_wsgi_app(provider, built, buffered=True)
    return int(status.split()[0]), b"".join(app_iter)


def _multipart(*parts: str, end: bool = True) -> bytes:
    body = "".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{name}.txt"\r\n\r\nvalue\r\n'
        for name in parts
    )
    return (body + (f"--{BOUNDARY}--\r\n" if end else "")).encode()


@pytest.fixture
def unraisable() -> Iterator[list[Any]]:
    """Collect what the garbage collector could not close properly."""
    caught: list[Any] = []
    previous = sys.unraisablehook
    sys.unraisablehook = caught.append
    yield caught
    sys.unraisablehook = previous


@pytest.mark.parametrize(
    "path", ["/oauth2/verify", "/oauth2/authorise", "/oauth2/token", "/transactions"]
)
def test_wire_query_of_raw_non_utf8_bytes_is_not_a_crash(
    provider: Provider, path: str
) -> None:
    query = b"access_token=\xff\xfe&client_id=\xc3".decode("latin-1")

    status, body = _call(provider, path, QUERY_STRING=query)

    assert 400 <= status < 500
    assert b"server_error" not in body


def test_wire_state_with_raw_non_utf8_bytes_echoed_replaced(provider: Provider) -> None:
    query = (
        b"response_type=token&client_id=test-client-id"
        b"&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fcallback&state=a\xffb"
    ).decode("latin-1")
    built = EnvironBuilder(path="/oauth2/authorise").get_environ()
    built["QUERY_STRING"] = query

    _, status, headers = run_wsgi_app(provider, built, buffered=True)

    assert status.startswith("302")
    assert "state=a%EF%BF%BDb" in headers["Location"]


@pytest.mark.parametrize(
    "body",
    [
        _multipart("a", "b", end=False),
        _multipart("a", "b")[:90],
        _multipart(*[f"f{i}" for i in range(150)]),
    ],
    ids=["no-end", "cut-in-part", "too-many-parts"],
)
@pytest.mark.parametrize("path", ["/oauth2/token", "/transactions", "/"])
def test_wire_broken_multipart_leaves_no_file_open(
    provider: Provider, unraisable: list[Any], body: bytes, path: str
) -> None:
    status, _ = _call(
        provider,
        path,
        body,
        CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
    )
    gc.collect()

    assert status < 500
    assert unraisable == []


@pytest.mark.parametrize(
    ("content_type", "path"),
    [
        ("application/x-www-form-urlencoded", "/oauth2/token"),
        ("application/x-www-form-urlencoded", "/oauth2/verify"),
        ("application/json", "/transactions"),
        ("text/plain", "/oauth2/authorise/signin"),
    ],
)
def test_wire_oversized_body_answered_and_recorded(
    provider: Provider, content_type: str, path: str
) -> None:
    body = b"a=" + b"x" * (1024 * 1024 + 1)

    status, _ = _call(
        provider,
        path,
        body,
        CONTENT_TYPE=content_type,
    )

    assert status in (400, 401, 405, 413)
    exchange = provider.journal.entries()[-1]
    assert exchange.path == path
    assert exchange.status == status


def test_wire_body_shorter_than_content_length_is_a_client_error(
    provider: Provider,
) -> None:
    status, body = _call(
        provider,
        "/oauth2/token",
        b"grant_type=x",
        CONTENT_TYPE="application/x-www-form-urlencoded",
        CONTENT_LENGTH="1000",
    )

    assert 400 <= status < 500
    assert b"server_error" not in body
