"""The seven cases seen in the field, each reproduced with at most one control call.

Companies House clients have tripped over each of these (``ch-oauth-facts``): a test
arranges one with a single call on ``ch_oauth`` and then acts as the app.
"""

from __future__ import annotations

import requests

from mock_provider.testing import scope_for

COMPANY = "00012345"
OTHER_COMPANY = "00099999"


def test_token_response_without_scope_and_refresh_without_rotation_work_twice(app):
    # No control call: this is the fake's default, as the spec documents it.
    tokens = app.tokens()

    first = app.refresh(tokens["refresh_token"])
    second = app.refresh(tokens["refresh_token"])

    assert "scope" not in tokens
    assert [first.status_code, second.status_code] == [200, 200]
    assert "refresh_token" not in first.json()
    assert "refresh_token" not in second.json()
    assert first.json()["access_token"] != second.json()["access_token"]


def test_token_expires_in_as_string_with_one_fault(ch_oauth, app):
    ch_oauth.control.fault("token", "expires_in_string")

    tokens = app.tokens()

    assert tokens["expires_in"] == "3600"


def test_verify_expires_in_as_string_after_the_clock_moves(ch_oauth, app):
    access_token = app.tokens()["access_token"]
    # Half a second of slack for the real time the test itself takes.
    ch_oauth.advance(3600 - 1429 - 0.5)
    ch_oauth.control.fault("verify", "expires_in_string")

    verify = app.verify(access_token)

    assert verify.status_code == 200
    assert verify.json()["expires_in"] == "1429"


def test_token_type_in_lower_case_with_one_fault(ch_oauth, app):
    ch_oauth.control.fault("token", "token_type_lower")

    tokens = app.tokens()

    assert tokens["token_type"] == "bearer"


def test_token_endpoint_answers_500_with_an_html_page(ch_oauth, app):
    ch_oauth.control.fault("token", "html")

    answer = app.call("token")

    assert answer.status_code == 500
    assert answer.headers["Content-Type"].startswith("text/html")
    assert answer.text.lstrip().startswith("<!DOCTYPE html>")


def test_token_endpoint_answers_200_with_an_error_body(ch_oauth, app):
    ch_oauth.control.fault("token", "error_200")

    answer = app.call("token")

    assert answer.status_code == 200
    assert answer.json() == {"error": "invalid_grant"}


def test_client_credentials_by_basic_and_in_body_disagreeing_are_invalid_client(
    ch_oauth,
):
    # No control call: the request alone reproduces it.
    settings = ch_oauth.settings
    code = ch_oauth.authorise().code

    answer = requests.post(
        f"{ch_oauth.url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": settings.redirect_uri,
            "client_id": settings.client_id,
            "client_secret": "a-different-secret",
        },
        auth=(settings.client_id, settings.client_secret),
        timeout=10,
    )

    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"].startswith("Basic")


def test_changed_company_auth_code_refuses_refresh_and_drops_the_scope(ch_oauth, app):
    tokens = app.company_tokens(COMPANY)

    withdrawn = ch_oauth.control.set_auth_code(number=COMPANY, auth_code="654321")
    refresh = app.refresh(tokens["refresh_token"])
    verify = app.verify(tokens["access_token"])

    assert withdrawn == 1
    assert refresh.status_code == 400
    assert refresh.json()["error"] == "invalid_grant"
    assert verify.status_code == 200
    assert f"/company/{COMPANY}/" not in verify.json()["scope"]
    assert verify.json()["scope"] == scope_for()


def test_transaction_for_a_company_outside_the_scope_is_refused(app):
    access_token = app.company_tokens(COMPANY)["access_token"]

    answer = app.create_transaction(access_token, company_number=OTHER_COMPANY)

    assert answer.status_code == 401
    assert answer.json() == {"error": "Invalid Authorization", "type": "ch:service"}
