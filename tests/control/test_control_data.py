"""Data changed at run time, and authorisations arranged instead of walked."""

from __future__ import annotations

import pytest
import requests

from mock_provider.testing import Callback, scope_for

COMPANY = "00012345"


def _authorise_page(ch_oauth, **params) -> requests.Response:
    return requests.get(
        ch_oauth.authorise_url(**params), allow_redirects=False, timeout=10
    )


# Clients, users, companies.


def test_registered_client_can_authorise_and_exchange(ch_oauth, app):
    client = ch_oauth.control.register_client(
        client_id="new-app",
        client_secret="new-app-secret",
        redirect_uris=["http://127.0.0.1:9999/back"],
        name="New App",
    )
    ch_oauth.use_client(client)

    callback = ch_oauth.authorise()
    tokens = ch_oauth.exchange(callback.code)
    verify = app.verify(tokens["access_token"])

    assert callback.url.startswith("http://127.0.0.1:9999/back?")
    assert verify.json()["application"] == "new-app"


def test_registered_client_of_the_other_realm_is_unknown(ch_oauth):
    ch_oauth.control.register_client(
        client_id="live-only",
        client_secret="live-secret",
        redirect_uris=["https://example.com/cb"],
        realm="live",
    )

    page = requests.get(
        f"{ch_oauth.url}/oauth2/authorise",
        params={
            "response_type": "code",
            "client_id": "live-only",
            "redirect_uri": "https://example.com/cb",
        },
        allow_redirects=False,
        timeout=10,
    )

    assert page.status_code == 400
    assert "Location" not in page.headers


@pytest.mark.parametrize(
    "who", ["added@example.com", "user-added"], ids=["by-email", "by-id"]
)
def test_added_user_can_be_arranged_by_email_or_id(ch_oauth, app, who):
    ch_oauth.control.add_user(
        user_id="user-added",
        email="added@example.com",
        password="added-password",
        forename="Grace",
    )

    tokens = app.tokens(user=who)
    profile = app.profile(tokens["access_token"]).json()

    assert profile["id"] == "user-added"
    assert profile["email"] == "added@example.com"
    assert profile["forename"] == "Grace"


def test_added_user_can_sign_in_on_the_pages(ch_oauth, app):
    ch_oauth.control.add_user(
        user_id="user-added", email="added@example.com", password="added-password"
    )

    answer = app.walk_pages(
        scope=scope_for(), email="added@example.com", password="added-password"
    )

    callback = Callback.from_url(answer.headers["Location"])
    tokens = ch_oauth.exchange(callback.code)
    assert app.profile(tokens["access_token"]).json()["id"] == "user-added"


def test_added_company_can_be_asked_for_with_its_auth_code(ch_oauth, app):
    ch_oauth.control.add_company(
        number="NI654321", name="NEW NORTHERN LIMITED", auth_code="XYZ789"
    )

    tokens = app.tokens(scope=scope_for("NI654321"), auth_codes={"NI654321": "XYZ789"})
    verify = app.verify(tokens["access_token"]).json()
    filing = app.create_transaction(tokens["access_token"], "NI654321")

    assert verify["scope"] == scope_for("NI654321")
    assert filing.status_code == 201
    assert filing.json()["company_name"] == "NEW NORTHERN LIMITED"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"user_id": "u", "email": "no-at-sign", "password": "p"}, "email address"),
        ({"user_id": "", "email": "a@example.com", "password": "p"}, r"user\.id"),
    ],
    ids=["bad-email", "no-id"],
)
def test_add_user_refuses_an_incomplete_user(ch_oauth, call, message):
    with pytest.raises(ValueError, match=message):
        ch_oauth.control.add_user(**call)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda c: c.add_company(number="123", name="X", auth_code="111111"),
            "eight capital letters or digits",
        ),
        (
            lambda c: c.set_auth_code(number="77777777", auth_code="111111"),
            "no company with number",
        ),
        (
            lambda c: c.register_client(
                client_id="x", client_secret="y", redirect_uris=["not-a-url"]
            ),
            "absolute http",
        ),
    ],
    ids=["malformed-company-number", "unknown-company", "relative-redirect-uri"],
)
def test_data_call_with_a_wrong_value_is_a_value_error(ch_oauth, call, message):
    with pytest.raises(ValueError, match=message):
        call(ch_oauth.control)


def test_revoked_user_tokens_are_refused(ch_oauth, app):
    tokens = app.tokens()
    other = app.tokens(user="second@example.com")

    revoked = ch_oauth.control.revoke_user(user_id="user-0001")
    verify = app.verify(tokens["access_token"])
    profile = app.profile(tokens["access_token"])
    refresh = app.refresh(tokens["refresh_token"])

    assert revoked == 1
    assert (verify.status_code, profile.status_code) == (401, 401)
    assert refresh.json()["error"] == "invalid_grant"
    assert app.verify(other["access_token"]).status_code == 200


# Arranging the next authorisation.


def test_arranged_user_is_the_one_signed_in(app):
    tokens = app.tokens(user="second@example.com")

    verify = app.verify(tokens["access_token"]).json()

    assert verify["user_id"] == "user-0002"


@pytest.mark.parametrize(
    ("typed", "code", "error"),
    [
        (["222222"], True, None),
        ([" 222222 "], True, None),
        (["000000", "222222"], True, None),
        (["000000", "111111", "222222"], True, None),
        (["000000", "111111", "333333", "222222"], False, "access_denied"),
        (["000000", "111111", "333333"], False, "access_denied"),
        (["000000"], False, "access_denied"),
    ],
    ids=[
        "right",
        "right-with-spaces",
        "wrong-then-right",
        "two-wrong-then-right",
        "three-wrong-then-right",
        "three-wrong",
        "wrong-and-gave-up",
    ],
)
def test_arranged_auth_codes_are_typed_in_order(ch_oauth, typed, code, error):
    callback = ch_oauth.authorise(scope=scope_for(COMPANY), auth_codes={COMPANY: typed})

    assert (callback.code is not None) is code
    assert callback.error == error
    assert callback.state == "state-from-test"


def test_arranged_decline_redirects_with_access_denied(ch_oauth):
    callback = ch_oauth.authorise(decision="decline")

    assert callback.code is None
    assert callback.error == "access_denied"
    assert callback.state == "state-from-test"


@pytest.mark.parametrize(
    ("times", "arranged"), [(1, 1), (2, 2), (None, 4)], ids=["once", "twice", "every"]
)
def test_arrangement_covers_the_number_of_authorisations_asked(
    ch_oauth, times, arranged
):
    ch_oauth.control.arrange(times=times)

    statuses = [_authorise_page(ch_oauth).status_code for _ in range(4)]

    # Arranged: straight back to the client (302); otherwise the sign-in page.
    assert statuses == [302] * arranged + [200] * (4 - arranged)


def test_arrangements_are_used_in_the_order_made(ch_oauth):
    ch_oauth.control.arrange(decision="decline")
    ch_oauth.control.arrange(decision="approve")

    first = Callback.from_url(_authorise_page(ch_oauth).headers["Location"])
    second = Callback.from_url(_authorise_page(ch_oauth).headers["Location"])

    assert (first.error, first.code) == ("access_denied", None)
    assert (second.error, second.code is not None) == (None, True)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"user": "nobody@example.com"}, "no user with id or email"),
        ({"decision": "maybe"}, "decision must be"),
        ({"times": 0}, "times must be at least 1"),
        ({"auth_codes": {COMPANY: 222222}}, "expected a code or codes"),
    ],
    ids=["unknown-user", "unknown-decision", "times-0", "code-not-text"],
)
def test_arrange_refuses_a_wrong_value(ch_oauth, arguments, message):
    with pytest.raises(ValueError, match=message):
        ch_oauth.control.arrange(**arguments)

    assert _authorise_page(ch_oauth).status_code == 200


def test_pages_can_still_be_walked_when_nothing_is_arranged(ch_oauth, app):
    answer = app.walk_pages(scope=scope_for(COMPANY))

    callback = Callback.from_url(answer.headers["Location"])
    tokens = ch_oauth.exchange(callback.code)
    assert answer.status_code == 302
    assert callback.state == "state-from-test"
    assert app.verify(tokens["access_token"]).json()["scope"] == scope_for(COMPANY)
