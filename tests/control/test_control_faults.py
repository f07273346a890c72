"""Every fault kind and response variant of ``faults.py``, on its endpoints."""

from __future__ import annotations

import json

import pytest
import requests

from mock_provider.faults import KINDS, VARIANTS, Fault
from mock_provider.testing import scope_for

ENDPOINTS = ["authorise", "token", "verify", "profile", "api"]
TOKEN_ENDPOINTS = ["verify", "profile", "api"]
COMPANY = "00012345"
SCOPES = scope_for(COMPANY)


def _is_json(response: requests.Response) -> bool:
    try:
        json.loads(response.text)
    except ValueError:
        return False
    return True


# Response faults: the endpoint answers this instead of its usual response.


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_status_fault_answers_the_status_and_body_given(ch_oauth, app, endpoint):
    body = {"error": "temporarily_unavailable", "error_description": "arranged"}
    ch_oauth.control.fault(endpoint, "status", status=503, body=body)

    answer = app.call(endpoint)

    assert answer.status_code == 503
    assert answer.json() == body


@pytest.mark.parametrize("endpoint", ["authorise", "token", "verify", "profile"])
@pytest.mark.parametrize(
    ("options", "status", "body"),
    [
        ({}, 500, {"error": "server_error", "error_description": "arranged failure"}),
        (
            {"status": 400},
            400,
            {"error": "invalid_grant", "error_description": "arranged failure"},
        ),
        (
            {"status": 400, "error": "invalid_request"},
            400,
            {"error": "invalid_request", "error_description": "arranged failure"},
        ),
    ],
    ids=["default-500", "400-invalid-grant", "400-error-given"],
)
def test_status_fault_without_body_answers_oauth_error_json(
    ch_oauth, app, endpoint, options, status, body
):
    ch_oauth.control.fault(endpoint, "status", **options)

    answer = app.call(endpoint)

    assert answer.status_code == status
    assert answer.json() == body


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, "Invalid Authorization"),
        (429, "Rate limit exceeded"),
        (500, "Internal server error"),
    ],
    ids=["401", "429", "500"],
)
def test_api_status_fault_answers_companies_house_error_body(
    ch_oauth, app, status, message
):
    ch_oauth.control.fault("api", "status", status=status)

    answer = app.call("api")

    assert answer.status_code == status
    assert answer.json() == {"error": message, "type": "ch:service"}


def test_api_fault_covers_reading_a_transaction_too(ch_oauth, app):
    access_token = app.company_tokens()["access_token"]
    created = app.create_transaction(access_token).json()
    ch_oauth.control.fault("api", "status", status=429)

    answer = requests.get(
        f"{ch_oauth.url}{created['links']['self']}",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )

    assert answer.status_code == 429
    assert answer.json() == {"error": "Rate limit exceeded", "type": "ch:service"}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_html_fault_answers_an_html_error_page(ch_oauth, app, endpoint):
    ch_oauth.control.fault(endpoint, "html")

    answer = app.call(endpoint)

    assert answer.status_code == 500
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "<html>" in answer.text
    assert not _is_json(answer)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("kind", ["truncated_json", "invalid_json"])
def test_broken_json_fault_answers_200_that_does_not_parse(
    ch_oauth, app, endpoint, kind
):
    ch_oauth.control.fault(endpoint, kind)

    answer = app.call(endpoint)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.text
    assert not _is_json(answer)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("options", "error"),
    [({}, "invalid_grant"), ({"error": "access_denied"}, "access_denied")],
    ids=["default-error", "error-given"],
)
def test_error_200_fault_answers_200_with_an_error_object(
    ch_oauth, app, endpoint, options, error
):
    ch_oauth.control.fault(endpoint, "error_200", **options)

    answer = app.call(endpoint)

    assert answer.status_code == 200
    assert answer.json() == {"error": error}


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        (
            "verify",
            {
                "error": "invalid_token",
                "error_description": "the access token has expired",
            },
        ),
        (
            "profile",
            {
                "error": "invalid_token",
                "error_description": "the access token has expired",
            },
        ),
        ("api", {"error": "Invalid Authorization", "type": "ch:service"}),
    ],
    ids=TOKEN_ENDPOINTS,
)
def test_expired_fault_treats_a_live_token_as_expired(ch_oauth, app, endpoint, body):
    ch_oauth.control.fault(endpoint, "expired")

    answer = app.call(endpoint)
    again = app.call(endpoint)

    assert answer.status_code == 401
    assert answer.json() == body
    assert again.status_code in (200, 201)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_delay_fault_answers_normally_after_the_delay(ch_oauth, app, endpoint):
    ch_oauth.control.fault(endpoint, "delay", seconds=0.05)

    answer = app.call(endpoint)

    assert answer.status_code in (200, 201, 302)
    delayed = ch_oauth.journal(endpoint)[0]
    assert delayed.notes["fault"] == "delay"
    assert delayed.duration_ms >= 50
    assert delayed.status == answer.status_code


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_drop_fault_closes_the_connection_without_an_answer(ch_oauth, app, endpoint):
    ch_oauth.control.fault(endpoint, "drop")

    with pytest.raises(requests.ConnectionError):
        app.call(endpoint)

    # The client sees the connection close before the fake records the exchange.
    dropped = ch_oauth.wait_for(endpoint)[-1]
    assert dropped.notes["fault"] == "drop"


def test_drop_fault_still_records_what_the_request_sent(ch_oauth, app):
    ch_oauth.control.fault("token", "drop")

    with pytest.raises(requests.ConnectionError):
        app.call("token")

    dropped = ch_oauth.wait_for("token")[-1]
    assert dropped.client_auth == "client_secret_post"
    assert dropped.form["grant_type"] == ["authorization_code"]


# How many times a fault applies.


@pytest.mark.parametrize(
    ("times", "faulted"),
    [(1, 1), (3, 3), (None, 5)],
    ids=["times-1", "times-3", "times-None-until-cleared"],
)
def test_fault_applies_the_number_of_times_asked(ch_oauth, app, times, faulted):
    access_token = app.tokens()["access_token"]
    ch_oauth.control.fault("verify", "status", status=503, times=times)

    statuses = [app.verify(access_token).status_code for _ in range(5)]
    ch_oauth.control.clear_faults()
    after = app.verify(access_token).status_code

    assert statuses == [503] * faulted + [200] * (5 - faulted)
    assert after == 200
    assert ch_oauth.control.faults.active() == []


def test_two_faults_on_one_endpoint_fire_on_consecutive_requests(ch_oauth, app):
    access_token = app.tokens()["access_token"]
    ch_oauth.control.fault("verify", "status", status=503)
    ch_oauth.control.fault("verify", "html")

    first = app.verify(access_token)
    second = app.verify(access_token)
    third = app.verify(access_token)

    assert first.status_code == 503
    assert second.headers["Content-Type"].startswith("text/html")
    assert third.status_code == 200


def test_fault_on_one_endpoint_leaves_the_others_alone(ch_oauth, app):
    access_token = app.tokens(scope=SCOPES)["access_token"]
    ch_oauth.control.fault("profile", "status", status=503)

    verify = app.verify(access_token)
    api = app.create_transaction(access_token)
    profile = app.profile(access_token)

    assert (verify.status_code, api.status_code, profile.status_code) == (
        200,
        201,
        503,
    )


# Token response variants.


@pytest.mark.parametrize(
    ("kind", "options", "expected"),
    [
        ("expires_in_string", {}, {"expires_in": "3600"}),
        ("token_type_lower", {}, {"token_type": "bearer"}),
        ("token_type_absent", {}, {"token_type": None}),
        ("no_refresh_token", {}, {"refresh_token": None}),
        ("scope_echoed", {}, {"scope": SCOPES}),
        ("scope_omitted", {}, {"scope": None}),
        ("scope_narrowed", {}, {"scope": scope_for()}),
        ("scope_narrowed", {"scope": SCOPES.split()[1]}, {"scope": SCOPES.split()[1]}),
    ],
    ids=[
        "expires_in_string",
        "token_type_lower",
        "token_type_absent",
        "no_refresh_token",
        "scope_echoed",
        "scope_omitted",
        "scope_narrowed-first-scope",
        "scope_narrowed-scope-given",
    ],
)
def test_token_variant_shapes_the_next_token_response(
    ch_oauth, app, kind, options, expected
):
    ch_oauth.control.fault("token", kind, **options)

    tokens = app.tokens(scope=SCOPES)
    again = app.tokens(scope=SCOPES)

    for name, value in expected.items():
        assert tokens.get(name) == value, name
    assert again["expires_in"] == 3600
    assert again["token_type"] == "Bearer"
    assert "refresh_token" in again
    assert "scope" not in again


def test_scope_narrowed_also_narrows_what_verify_reports(ch_oauth, app):
    narrowed = SCOPES.split()[1]
    ch_oauth.control.fault("token", "scope_narrowed", scope=narrowed)

    tokens = app.tokens(scope=SCOPES)
    verify = app.verify(tokens["access_token"])
    profile = app.profile(tokens["access_token"])

    assert verify.json()["scope"] == narrowed
    assert profile.status_code == 403


def test_rotate_refresh_token_issues_a_new_one_and_refuses_the_old(ch_oauth, app):
    old = app.tokens()["refresh_token"]
    ch_oauth.control.fault("token", "rotate_refresh_token")

    rotated = app.refresh(old)
    new = rotated.json()["refresh_token"]
    with_old = app.refresh(old)
    with_new = app.refresh(new)

    assert rotated.status_code == 200
    assert new != old
    assert with_old.status_code == 400
    assert with_old.json()["error"] == "invalid_grant"
    assert with_new.status_code == 200


def test_token_variant_waits_for_a_successful_response(ch_oauth, app):
    ch_oauth.control.fault("token", "token_type_lower")

    refused = app.token(grant_type="authorization_code", code="no-such-code")
    tokens = app.tokens()

    assert refused.status_code == 400
    assert tokens["token_type"] == "bearer"


# Verify response variants.


@pytest.mark.parametrize(
    ("options", "scope"),
    [
        ({}, "https://example.com/unrelated.read"),
        ({"scope": "other.read"}, "other.read"),
    ],
    ids=["default-scope", "scope-given"],
)
def test_different_scope_variant_changes_what_verify_reports(
    ch_oauth, app, options, scope
):
    access_token = app.tokens()["access_token"]
    ch_oauth.control.fault("verify", "different_scope", **options)

    first = app.verify(access_token).json()
    second = app.verify(access_token).json()

    assert first["scope"] == scope
    assert second["scope"] == scope_for()


def test_expires_in_string_variant_on_verify_gives_a_string(ch_oauth, app):
    access_token = app.tokens()["access_token"]
    ch_oauth.control.fault("verify", "expires_in_string")

    first = app.verify(access_token).json()
    second = app.verify(access_token).json()

    assert isinstance(first["expires_in"], str)
    assert 3590 <= int(first["expires_in"]) <= 3600
    assert isinstance(second["expires_in"], int)


# Every kind is covered above; invalid specifications are refused.


def test_every_fault_kind_is_one_this_module_exercises():
    responses = {"status", "html", "truncated_json", "invalid_json", "error_200"}
    timing = {"expired", "delay", "drop"}
    token_variants = {
        "expires_in_string",
        "token_type_lower",
        "token_type_absent",
        "no_refresh_token",
        "rotate_refresh_token",
        "scope_echoed",
        "scope_omitted",
        "scope_narrowed",
    }
    verify_variants = {"expires_in_string", "different_scope"}

    assert KINDS == responses | timing | token_variants | verify_variants
    assert VARIANTS == token_variants | verify_variants


INVALID = [
    ({"endpoint": "userinfo", "kind": "status"}, "endpoint must be one of"),
    ({"endpoint": "token", "kind": "explode"}, "kind must be one of"),
    ({"endpoint": "verify", "kind": "token_type_lower"}, "variant of token only"),
    ({"endpoint": "verify", "kind": "rotate_refresh_token"}, "variant of token only"),
    ({"endpoint": "token", "kind": "different_scope"}, "variant of verify only"),
    (
        {"endpoint": "profile", "kind": "expires_in_string"},
        "variant of token and verify only",
    ),
    ({"endpoint": "token", "kind": "expired"}, "expired applies to"),
    ({"endpoint": "token", "kind": "status", "times": 0}, "times must be at least 1"),
    ({"endpoint": "token", "kind": "status", "status": 42}, "HTTP status code"),
    ({"endpoint": "token", "kind": "delay", "seconds": -1}, "seconds must be"),
]
INVALID_IDS = [
    "unknown-endpoint",
    "unknown-kind",
    "token-variant-on-verify",
    "rotate-on-verify",
    "verify-variant-on-token",
    "expires_in_string-on-profile",
    "expired-on-token",
    "times-0",
    "status-42",
    "negative-seconds",
]


@pytest.mark.parametrize(("spec", "message"), INVALID, ids=INVALID_IDS)
def test_invalid_fault_is_a_value_error_in_python(ch_oauth, spec, message):
    spec = dict(spec)

    with pytest.raises(ValueError, match=message):
        ch_oauth.control.fault(spec.pop("endpoint"), spec.pop("kind"), **spec)

    assert ch_oauth.control.faults.active() == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        *INVALID,
        ({"endpoint": "token", "kind": "status", "times": "3"}, "times must be"),
        ({"endpoint": "token", "kind": "status", "status": "500"}, "HTTP status"),
        ({"endpoint": "token", "kind": "status", "colour": "red"}, "colour"),
        ({"kind": "status"}, "endpoint"),
    ],
    ids=[
        *INVALID_IDS,
        "times-as-text",
        "status-as-text",
        "unknown-option",
        "no-endpoint",
    ],
)
def test_invalid_fault_is_a_400_over_http(ch_oauth, spec, message):
    answer = requests.post(f"{ch_oauth.url}/_mock/faults", json=spec, timeout=10)

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert message in answer.json()["error_description"]
    assert ch_oauth.control.faults.active() == []


def test_fault_json_lists_what_was_arranged(ch_oauth):
    fault = ch_oauth.control.fault("token", "status", status=400, times=2)

    listed = [f.json() for f in ch_oauth.control.faults.active()]

    assert isinstance(fault, Fault)
    assert listed == [
        {
            "endpoint": "token",
            "kind": "status",
            "times": 2,
            "status": 400,
            "error": "invalid_grant",
            "seconds": 0.0,
            "fired": 0,
        }
    ]
