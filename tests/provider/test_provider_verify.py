"""``/oauth2/verify`` and ``/user/profile``: what a token is and whose it is."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from provider_support import CLIENT_ID, COMPANY, ROA, Flow
from werkzeug.test import Client, TestResponse

from mock_provider.scopes import PROFILE_SCOPE

Send = Callable[[Client, str, str], TestResponse]


def _query(
    http: Client, path: str, token: str, name: str = "access_token"
) -> TestResponse:
    return http.get(path, query_string={name: token})


@pytest.mark.parametrize(
    "send",
    [
        lambda http, path, token: http.get(path, query_string={"access_token": token}),
        lambda http, path, token: http.get(path, query_string={"access-token": token}),
        lambda http, path, token: http.post(path, query_string={"access-token": token}),
        lambda http, path, token: http.post(path, data={"access_token": token}),
        lambda http, path, token: http.post(path, data={"access-token": token}),
        lambda http, path, token: http.get(
            path, headers={"Authorization": f"Bearer {token}"}
        ),
        lambda http, path, token: http.post(
            path, headers={"Authorization": f"bearer  {token} "}
        ),
    ],
    ids=[
        "get-query",
        "get-query-hyphen",
        "post-query-hyphen",
        "post-body",
        "post-body-hyphen",
        "get-bearer",
        "post-bearer-lowercase",
    ],
)
@pytest.mark.parametrize("path", ["/oauth2/verify", "/oauth/verify"])
def test_verify_reads_token_from_every_place(flow: Flow, send: Send, path: str) -> None:
    token = flow.tokens()["access_token"]

    response = send(flow.http, path, token)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "application": CLIENT_ID,
        "expires_in": 3600,
        "scope": PROFILE_SCOPE,
        "user_id": "user-0001",
    }


def test_verify_expires_in_counts_down(flow: Flow) -> None:
    token = flow.tokens()["access_token"]
    flow.provider.clock.advance(1000.5)

    response = flow.verify(token)

    assert response.get_json()["expires_in"] == 2599


def test_verify_scope_space_separated(flow: Flow) -> None:
    scope = f"{PROFILE_SCOPE} {ROA.format(COMPANY)}"
    token = flow.tokens(scope)["access_token"]

    response = flow.verify(token)

    assert response.get_json()["scope"] == scope


@pytest.mark.parametrize(
    "send",
    [
        lambda http: http.get("/oauth2/verify"),
        lambda http: http.post("/oauth2/verify"),
        lambda http: http.get("/oauth2/verify", query_string={"access_token": ""}),
        lambda http: http.get("/oauth2/verify", headers={"Authorization": "Bearer "}),
        lambda http: http.get(
            "/oauth2/verify", headers={"Authorization": "Basic eDp5"}
        ),
    ],
    ids=["get-nothing", "post-nothing", "empty", "empty-bearer", "basic-header"],
)
def test_verify_without_token_gets_400(
    flow: Flow, send: Callable[[Client], TestResponse]
) -> None:
    response = send(flow.http)

    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "make_token",
    [
        lambda flow: "not-a-token",
        lambda flow: flow.tokens()["refresh_token"],
        lambda flow: flow.code(),
    ],
    ids=["unknown", "refresh-token", "code"],
)
def test_verify_unknown_token_gets_401(
    flow: Flow, make_token: Callable[[Flow], str]
) -> None:
    token = make_token(flow)

    response = flow.verify(token)

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("seconds", "status"), [(3599, 200), (3600, 401)])
def test_verify_token_expires_after_lifetime(
    flow: Flow, seconds: int, status: int
) -> None:
    token = flow.tokens()["access_token"]
    flow.provider.clock.advance(seconds)

    response = flow.verify(token)

    assert response.status_code == status


def test_profile_returns_user_fields_and_scope(flow: Flow) -> None:
    scope = f"{PROFILE_SCOPE} {ROA.format(COMPANY)}"
    token = flow.tokens(scope)["access_token"]

    response = flow.http.get(
        "/user/profile", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 200
    assert response.get_json() == {
        "id": "user-0001",
        "email": "demo@example.com",
        "forename": "Ada",
        "surname": "Example",
        "locale": "en-GB",
        "scope": scope,
    }


def test_profile_id_matches_verify_user_id(flow: Flow) -> None:
    code = flow.code(user="second@example.com")
    token = flow.exchange(code).get_json()["access_token"]

    profile = flow.http.get(
        "/user/profile", headers={"Authorization": f"Bearer {token}"}
    )

    assert profile.get_json()["id"] == "user-0002"
    assert flow.verify(token).get_json()["user_id"] == "user-0002"


def test_profile_without_profile_scope_gets_403(flow: Flow) -> None:
    token = flow.tokens(ROA.format(COMPANY))["access_token"]

    response = flow.http.get(
        "/user/profile", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 403
    assert response.get_json()["error"] == "insufficient_scope"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer unknown"},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dGVzdDp0ZXN0"},
    ],
    ids=["none", "unknown", "empty-bearer", "basic"],
)
def test_profile_without_valid_bearer_gets_401(
    flow: Flow, headers: dict[str, str]
) -> None:
    response = flow.http.get("/user/profile", headers=headers)

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_profile_token_in_query_not_accepted(flow: Flow) -> None:
    token = flow.tokens()["access_token"]

    response = _query(flow.http, "/user/profile", token)

    assert response.status_code == 401


def test_profile_expired_token_gets_401(flow: Flow) -> None:
    token = flow.tokens()["access_token"]
    flow.provider.clock.advance(3600)

    response = flow.http.get(
        "/user/profile", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401


def test_profile_post_gets_405(flow: Flow) -> None:
    response = flow.http.post("/user/profile")

    assert response.status_code == 405
