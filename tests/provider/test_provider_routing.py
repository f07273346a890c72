"""The route table: Companies House paths, unknown paths, methods, slashes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from provider_support import Flow, parse_page


def test_index_lists_endpoints_and_realm(flow: Flow) -> None:
    response = flow.http.get("/")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = parse_page(response.get_data(as_text=True))
    for endpoint in (
        "GET /oauth2/authorise",
        "POST /oauth2/token",
        "GET,POST /oauth2/verify",
        "GET /user/profile",
        "POST /transactions",
    ):
        assert endpoint in page.text
    assert "sandbox realm" in page.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nowhere"),
        ("GET", "/oauth2/authorize"),
        ("POST", "/oauth2/revoke"),
        ("GET", "/.well-known/openid-configuration"),
        ("POST", "/oauth2//token"),
        ("GET", "/transactions//x"),
    ],
    ids=[
        "unknown",
        "american-spelling",
        "revoke",
        "discovery",
        "doubled-slash",
        "doubled-slash-api",
    ],
)
def test_routing_unknown_path_gets_404_json(flow: Flow, method: str, path: str) -> None:
    response = flow.http.open(path, method=method)

    assert response.status_code == 404
    assert "Location" not in response.headers
    assert response.get_json()["error"] == "not_found"


def test_routing_trailing_slash_tolerated(flow: Flow) -> None:
    response = flow.http.get("/oauth2/verify/")

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/oauth2/token", "POST"),
        ("TRACE", "/", "GET, HEAD"),
        ("DELETE", "/oauth2/verify", "GET, HEAD, POST"),
        ("GET", "/transactions", "POST"),
        ("POST", "/transactions/1", "GET, HEAD"),
    ],
)
def test_routing_wrong_method_gets_405_with_allow(
    flow: Flow, method: str, path: str, allowed: str
) -> None:
    response = flow.http.open(path, method=method)

    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
    assert response.get_json()["error"] == "invalid_request"


def test_routing_head_answers_like_get_without_body(flow: Flow) -> None:
    response = flow.http.head("/oauth2/verify")

    assert response.status_code == 400
    assert response.get_data() == b""


def test_routing_control_plane_absent_when_turned_off(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow(control=False)

    response = flow.http.get("/_mock/clock")

    assert response.status_code == 404
    assert flow.provider.control is None
