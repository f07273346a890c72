"""``POST /oauth2/token``: client authentication, both grants, errors on the wire."""

from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import quote, urlencode

import pytest
from provider_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    COMPANY,
    REDIRECT_URI,
    ROA,
    Flow,
)
from werkzeug.test import TestResponse

from mock_provider import ProviderConfig
from mock_provider.scopes import PROFILE_SCOPE

ERROR = r"^[\x20\x21\x23-\x5B\x5D-\x7E]+$"


def _basic(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> str:
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def _assert_error(response: TestResponse, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["error"] == error
    assert isinstance(body["error_description"], str)


def test_token_code_exchange_returns_documented_fields(flow: Flow) -> None:
    code = flow.code()

    response = flow.exchange(code)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"] != body["refresh_token"]


@pytest.mark.parametrize("path", ["/oauth2/token", "/oauth/token"])
def test_token_served_at_both_spellings_by_default(flow: Flow, path: str) -> None:
    code = flow.code()

    response = flow.token(
        path, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI
    )

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/verify"])
def test_token_aliases_off_when_strict(
    make_flow: Callable[..., Flow], path: str
) -> None:
    strict = make_flow(ProviderConfig().strict())

    response = strict.http.post(path, data={"grant_type": "refresh_token"})

    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_token_other_methods_get_405_json(flow: Flow, method: str) -> None:
    response = flow.http.open("/oauth2/token", method=method)

    _assert_error(response, "invalid_request", 405)
    assert response.headers["Allow"] == "POST"


def test_token_parameters_in_query_string_with_basic(flow: Flow) -> None:
    query = urlencode(
        {
            "grant_type": "authorization_code",
            "code": flow.code(),
            "redirect_uri": REDIRECT_URI,
        }
    )

    response = flow.http.post(
        f"/oauth2/token?{query}", headers={"Authorization": _basic()}
    )

    assert response.status_code == 200
    exchange = flow.control.journal(endpoint="token")[-1]
    assert exchange.client_auth == "client_secret_basic"


def test_token_parameters_in_multipart_body(flow: Flow) -> None:
    fields = {
        "grant_type": "authorization_code",
        "code": flow.code(),
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }

    response = flow.http.post(
        "/oauth2/token", data=fields, content_type="multipart/form-data"
    )

    assert response.status_code == 200


def test_token_refresh_with_everything_in_query_and_json_type(flow: Flow) -> None:
    refresh_token = flow.tokens()["refresh_token"]
    query = urlencode(
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
    )

    response = flow.http.post(
        f"/oauth2/token?{query}",
        headers={"Authorization": "Bearer something-else"},
        content_type="application/json",
    )

    assert response.status_code == 200
    exchange = flow.control.journal(endpoint="token")[-1]
    assert exchange.client_auth == "client_secret_query"


def test_token_basic_and_body_credentials_agreeing_accepted(flow: Flow) -> None:
    code = flow.code()

    response = flow.http.post(
        "/oauth2/token",
        headers={"Authorization": _basic()},
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )

    assert response.status_code == 200


def test_token_basic_credentials_form_encoded_accepted(flow: Flow) -> None:
    flow.control.register_client(
        client_id="id:with space",
        client_secret="secret+/:&",
        redirect_uris=[REDIRECT_URI],
    )
    code = flow.code(client_id="id:with space")

    response = flow.http.post(
        "/oauth2/token",
        headers={"Authorization": _basic("id:with space", "secret+/:&")},
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
        },
    )

    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    ("authorization", "form", "www_authenticate"),
    [
        (_basic(), {"client_id": "insolvency-client-id"}, True),
        (_basic(), {"client_secret": "other"}, True),
        (_basic(secret="wrong"), {}, True),
        (_basic(client_id="nobody"), {}, True),
        ("Basic !!!not-base64", {}, True),
        ("Basic " + base64.b64encode(b":secret").decode(), {}, True),
        ("Basic ", {}, True),
        ("Basic Zm9v\u00e9", {}, True),
        (None, {"client_id": CLIENT_ID, "client_secret": "wrong"}, False),
        (None, {"client_id": "nobody", "client_secret": "x"}, False),
        (None, {"client_id": CLIENT_ID}, False),
        (None, {}, False),
        (
            None,
            {"client_id": "live-client-id", "client_secret": "live-client-secret"},
            False,
        ),
    ],
    ids=[
        "basic-body-id-disagree",
        "basic-body-secret-disagree",
        "basic-wrong-secret",
        "basic-unknown-client",
        "basic-not-base64",
        "basic-no-username",
        "basic-empty",
        "basic-not-ascii",
        "body-wrong-secret",
        "body-unknown-client",
        "body-no-secret",
        "no-credentials",
        "live-client-in-sandbox",
    ],
)
def test_token_bad_client_credentials_get_invalid_client(
    flow: Flow,
    authorization: str | None,
    form: dict[str, str],
    www_authenticate: bool,
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    code = flow.code()

    response = flow.http.post(
        "/oauth2/token",
        headers=headers,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            **form,
        },
    )

    _assert_error(response, "invalid_client", 401)
    assert ("WWW-Authenticate" in response.headers) is www_authenticate
    if www_authenticate:
        assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": None}, "invalid_request"),
        ({"grant_type": ""}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"code": None}, "invalid_request"),
        ({"redirect_uri": None}, "invalid_request"),
        ({"code": "not-a-code"}, "invalid_grant"),
        ({"redirect_uri": "http://localhost:8000/callback"}, "invalid_grant"),
        ({"redirect_uri": REDIRECT_URI + "?"}, "invalid_grant"),
    ],
    ids=[
        "no-grant-type",
        "empty-grant-type",
        "password-grant",
        "client-credentials-grant",
        "no-code",
        "no-redirect-uri",
        "unknown-code",
        "other-registered-redirect-uri",
        "redirect-uri-not-same-string",
    ],
)
def test_token_bad_code_request_gets_error(
    flow: Flow, form: dict[str, str | None], error: str
) -> None:
    body = {
        "grant_type": "authorization_code",
        "code": flow.code(),
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **form,
    }

    response = flow.http.post(
        "/oauth2/token", data={k: v for k, v in body.items() if v is not None}
    )

    _assert_error(response, error)


@pytest.mark.parametrize(
    "send",
    [
        lambda http, form, code: http.post(
            "/oauth2/token?" + urlencode({"code": code}), data=form
        ),
        lambda http, form, code: http.post(
            "/oauth2/token",
            data=urlencode([*form.items(), ("code", code)]),
            content_type="application/x-www-form-urlencoded",
        ),
        lambda http, form, code: http.post(
            "/oauth2/token?" + urlencode([("code", code), ("code", code)]), data=form
        ),
    ],
    ids=["query-and-body", "body-twice", "query-twice"],
)
def test_token_repeated_parameter_gets_invalid_request(
    flow: Flow, send: Callable[..., TestResponse]
) -> None:
    code = flow.code()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }

    response = send(flow.http, form, code)

    _assert_error(response, "invalid_request")
    assert "repeated" in response.get_json()["error_description"]


def test_token_non_basic_authorization_header_ignored(flow: Flow) -> None:
    code = flow.code()

    response = flow.http.post(
        "/oauth2/token",
        headers={"Authorization": "Bearer not-a-client-credential"},
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )

    assert response.status_code == 200


def test_token_code_replay_refused_and_revokes_tokens(flow: Flow) -> None:
    code = flow.code()
    first = flow.exchange(code).get_json()

    replay = flow.exchange(code)

    _assert_error(replay, "invalid_grant")
    assert flow.verify(first["access_token"]).status_code == 401
    _assert_error(flow.refresh(first["refresh_token"]), "invalid_grant")


def test_token_code_replay_leaves_other_grants_alone(flow: Flow) -> None:
    other = flow.tokens()
    code = flow.code()
    flow.exchange(code)

    flow.exchange(code)

    assert flow.verify(other["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("seconds", "status"),
    [(0, 200), (119, 200), (120, 400), (121, 400)],
    ids=["at-once", "just-in-time", "at-expiry", "after-expiry"],
)
def test_token_code_expires_after_120_seconds(
    flow: Flow, seconds: int, status: int
) -> None:
    code = flow.code()
    flow.provider.clock.advance(seconds)

    response = flow.exchange(code)

    assert response.status_code == status
    if status == 400:
        assert response.get_json()["error"] == "invalid_grant"


def test_token_code_bound_to_client(flow: Flow) -> None:
    code = flow.code()

    response = flow.token(
        client_id="insolvency-client-id",
        client_secret="insolvency-client-secret",
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
    )

    _assert_error(response, "invalid_grant")


def test_token_code_bound_to_redirect_uri(flow: Flow) -> None:
    code = flow.code(redirect_uri="http://localhost:8000/callback")

    response = flow.exchange(code)

    _assert_error(response, "invalid_grant")


def test_token_refresh_returns_no_refresh_token(flow: Flow) -> None:
    refresh_token = flow.tokens()["refresh_token"]

    response = flow.refresh(refresh_token)

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert flow.verify(body["access_token"]).status_code == 200


def test_token_refresh_token_stays_valid_after_refreshes(flow: Flow) -> None:
    first = flow.tokens()

    second = flow.refresh(first["refresh_token"]).get_json()
    third = flow.refresh(first["refresh_token"]).get_json()

    tokens = {first["access_token"], second["access_token"], third["access_token"]}
    assert len(tokens) == 3
    for token in tokens:
        assert flow.verify(token).status_code == 200


def test_token_refresh_with_narrower_scope(flow: Flow) -> None:
    scope = f"{PROFILE_SCOPE} {ROA.format(COMPANY)}"
    refresh_token = flow.tokens(scope)["refresh_token"]

    response = flow.refresh(refresh_token, scope=PROFILE_SCOPE)

    assert response.status_code == 200
    access_token = response.get_json()["access_token"]
    assert flow.verify(access_token).get_json()["scope"] == PROFILE_SCOPE


@pytest.mark.parametrize(
    "scope",
    [
        f"{PROFILE_SCOPE} {ROA.format(COMPANY)}",
        ROA.format("00099999"),
        "https://example.com/unknown",
    ],
    ids=["wider", "other-company", "unknown"],
)
def test_token_refresh_with_excess_scope_gets_invalid_scope(
    flow: Flow, scope: str
) -> None:
    refresh_token = flow.tokens(PROFILE_SCOPE)["refresh_token"]

    response = flow.refresh(refresh_token, scope=scope)

    _assert_error(response, "invalid_scope")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"refresh_token": None}, "invalid_request"),
        ({"refresh_token": "unknown"}, "invalid_grant"),
        (
            {
                "client_id": "insolvency-client-id",
                "client_secret": "insolvency-client-secret",
            },
            "invalid_grant",
        ),
    ],
    ids=["missing", "unknown", "other-client"],
)
def test_token_bad_refresh_request_gets_error(
    flow: Flow, change: dict[str, str | None], error: str
) -> None:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": flow.tokens()["refresh_token"],
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **change,
    }

    response = flow.http.post(
        "/oauth2/token", data={k: v for k, v in form.items() if v is not None}
    )

    _assert_error(response, error)


def test_token_refresh_token_expires_after_seven_days(flow: Flow) -> None:
    refresh_token = flow.tokens()["refresh_token"]
    flow.provider.clock.advance(7 * 24 * 3600)

    response = flow.refresh(refresh_token)

    _assert_error(response, "invalid_grant")


def test_token_refresh_is_not_a_code(flow: Flow) -> None:
    refresh_token = flow.tokens()["refresh_token"]

    response = flow.exchange(refresh_token)

    _assert_error(response, "invalid_grant")


def test_token_expires_in_string_when_configured(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow(expires_in_as_string=True)
    body = flow.tokens()

    refreshed = flow.refresh(body["refresh_token"]).get_json()

    assert body["expires_in"] == "3600"
    assert refreshed["expires_in"] == "3600"
    assert flow.verify(body["access_token"]).get_json()["expires_in"] == "3600"


def test_token_lifetime_follows_config(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow(access_token_lifetime=60)

    body = flow.tokens()

    assert body["expires_in"] == 60


def test_token_journal_redacts_secrets(flow: Flow) -> None:
    body = flow.tokens()

    exchange = flow.control.journal(endpoint="token")[-1]

    text = repr(exchange.json())
    for secret in (CLIENT_SECRET, body["access_token"], body["refresh_token"]):
        assert secret not in text
    assert exchange.client_id == CLIENT_ID
    assert exchange.client_auth == "client_secret_post"
