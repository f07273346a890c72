"""Over real HTTP: the server's life cycle and a browser walking the journey."""

from __future__ import annotations

import socket
from urllib.parse import urljoin

import pytest
import requests
from provider_support import COMPANY, COMPANY_CODE, ROA, parse_page
from pytest_httpserver import HTTPServer

from mock_provider import ProviderServer
from mock_provider.scopes import PROFILE_SCOPE

TIMEOUT = 10


def _submit(
    session: requests.Session, response: requests.Response, **values: str
) -> requests.Response:
    """Post the page's form, as a browser would, with ``values`` typed in."""
    assert response.status_code == 200, response.text
    page = parse_page(response.text)
    data = {**page.form.fields, **values}
    action = urljoin(response.url, page.form.action)
    return session.post(action, data=data, timeout=TIMEOUT)


def test_server_serves_until_stopped() -> None:
    server = ProviderServer(port=0)

    with server:
        url = server.url
        response = requests.get(url + "/", timeout=TIMEOUT)
    host, port = url.removeprefix("http://").split(":")

    assert url.startswith("http://127.0.0.1:")
    assert response.status_code == 200
    assert "text/html" in response.headers["Content-Type"]
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=1).close()


def test_server_refuses_second_start(server: ProviderServer) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        server.start()


def test_server_stop_twice_is_harmless() -> None:
    server = ProviderServer().start()

    server.stop()
    server.stop()

    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url


def test_server_shares_provider_given(server: ProviderServer) -> None:
    other = ProviderServer(provider=server.provider)

    with other:
        response = requests.get(other.url + "/oauth2/verify", timeout=TIMEOUT)

    assert response.status_code == 400
    assert server.provider.journal.entries(endpoint="verify")


def test_http_browser_walks_journey_to_client_callback(
    server: ProviderServer, httpserver: HTTPServer
) -> None:
    callback = httpserver.url_for("/callback")
    control = server.provider.control
    assert control is not None
    control.register_client(
        client_id="walker", client_secret="walker-secret", redirect_uris=[callback]
    )
    httpserver.expect_oneshot_request("/callback", method="GET").respond_with_data(
        "signed in"
    )
    scope = f"{PROFILE_SCOPE} {ROA.format(COMPANY)}"
    browser = requests.Session()

    signin = browser.get(
        server.url + "/oauth2/authorise",
        params={
            "response_type": "code",
            "client_id": "walker",
            "redirect_uri": callback,
            "scope": scope,
            "state": "walk-state",
        },
        timeout=TIMEOUT,
    )
    code_page = _submit(browser, signin, email="demo@example.com", password="password")
    consent = _submit(browser, code_page, auth_code=COMPANY_CODE, action="continue")
    back = _submit(browser, consent, decision="approve")

    assert back.status_code == 200
    assert back.text == "signed in"
    httpserver.check_assertions()
    (request, _), *_ = httpserver.log
    assert request.args["state"] == "walk-state"
    code = request.args["code"]
    token = requests.post(
        server.url + "/oauth2/token",
        auth=("walker", "walker-secret"),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback,
        },
        timeout=TIMEOUT,
    )
    assert token.status_code == 200, token.text
    profile = requests.get(
        server.url + "/user/profile",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        timeout=TIMEOUT,
    )
    assert profile.json()["scope"] == scope


def test_http_browser_declines_and_client_gets_access_denied(
    server: ProviderServer, httpserver: HTTPServer
) -> None:
    callback = httpserver.url_for("/callback")
    control = server.provider.control
    assert control is not None
    control.register_client(
        client_id="walker", client_secret="s", redirect_uris=[callback]
    )
    httpserver.expect_oneshot_request("/callback").respond_with_data("ok")
    browser = requests.Session()

    signin = browser.get(
        server.url + "/oauth2/authorise",
        params={
            "response_type": "code",
            "client_id": "walker",
            "redirect_uri": callback,
        },
        timeout=TIMEOUT,
    )
    consent = _submit(browser, signin, email="demo@example.com", password="password")
    _submit(browser, consent, decision="decline")

    (request, _), *_ = httpserver.log
    assert request.args["error"] == "access_denied"
    assert "state" not in request.args


def test_http_token_get_is_405_json(server: ProviderServer) -> None:
    response = requests.get(server.url + "/oauth2/token", timeout=TIMEOUT)

    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "application/json", "multipart/form-data"],
)
def test_http_oversized_body_gets_413_json(
    server: ProviderServer, content_type: str
) -> None:
    body = b"code=" + b"x" * (1536 * 1024)

    response = requests.post(
        server.url + "/oauth2/token",
        data=body,
        headers={"Content-Type": content_type},
        timeout=TIMEOUT,
    )

    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"
    assert len(server.provider.journal.entries(endpoint="token")) == 1
