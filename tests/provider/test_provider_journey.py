"""The pages after ``/oauth2/authorise``: sign-in, company auth codes, consent."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from provider_support import (
    COMPANY,
    COMPANY_CODE,
    ROA,
    Flow,
    Page,
    parse_page,
    query_of,
)
from werkzeug.test import TestResponse

from mock_provider.authorise import BROWSER_COOKIE
from mock_provider.scopes import PROFILE_SCOPE

SCOTTISH = "SC123456"
OTHER = "00099999"


def _page(response: TestResponse) -> Page:
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse_page(response.get_data(as_text=True))


def _post(
    flow: Flow, page: Page, button: str | None = None, **values: str
) -> TestResponse:
    return flow.http.post(page.form.action, data=page.submit(button, **values))


def _signed_in(flow: Flow, scope: str = PROFILE_SCOPE) -> Page:
    page = _page(flow.authorise(scope=scope))
    return _page(_post(flow, page, email="demo@example.com", password="password"))


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("demo@example.com", "wrong"),
        ("nobody@example.com", "password"),
        ("", ""),
        ("demo@example.com", "PASSWORD"),
    ],
    ids=["wrong-password", "unknown-email", "empty", "password-case"],
)
def test_signin_failure_reprompts_with_error(
    flow: Flow, email: str, password: str
) -> None:
    page = _page(flow.authorise())

    again = _page(_post(flow, page, email=email, password=password))

    assert again.form.action == "/oauth2/authorise/signin"
    assert "error-summary" in again.classes
    assert "Enter a correct email address and password" in again.text
    assert again.form.fields["email"] == email
    assert again.form.fields["journey"] == page.form.fields["journey"]


def test_signin_email_is_case_insensitive(flow: Flow) -> None:
    page = _page(flow.authorise())

    consent = _page(_post(flow, page, email=" Demo@Example.COM ", password="password"))

    assert consent.form.action == "/oauth2/authorise/consent"


def test_signin_then_consent_approve_redirects_with_code_and_state(flow: Flow) -> None:
    consent = _signed_in(flow)

    response = _post(flow, consent, "approve")

    assert response.status_code == 302
    query = query_of(response.headers["Location"])
    assert query["state"] == "state-123"
    assert flow.exchange(query["code"]).status_code == 200


def test_consent_lists_permissions_and_user(flow: Flow) -> None:
    scope = f"{PROFILE_SCOPE} {ROA.format(COMPANY)}"
    code_page = _signed_in(flow, scope)

    consent = _page(_post(flow, code_page, "continue", auth_code=COMPANY_CODE))

    assert "See your name and email address" in consent.text
    assert (
        "Change the registered office address of EXAMPLE TRADING LIMITED"
        in consent.text
    )
    assert "Signed in as demo@example.com" in consent.text


def test_consent_decline_redirects_access_denied(flow: Flow) -> None:
    consent = _signed_in(flow)

    response = _post(flow, consent, "decline")

    query = query_of(response.headers["Location"])
    assert query["error"] == "access_denied"
    assert query["state"] == "state-123"


def test_consent_without_decision_gets_html_400(flow: Flow) -> None:
    consent = _signed_in(flow)

    response = _post(flow, consent)

    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_company_code_page_names_company(flow: Flow) -> None:
    page = _signed_in(flow, ROA.format(COMPANY))

    assert page.form.action == "/oauth2/authorise/company-auth-code"
    assert "EXAMPLE TRADING LIMITED" in page.text
    assert COMPANY in page.text


@pytest.mark.parametrize("typed", ["222222", " 222222 "], ids=["exact", "spaces"])
def test_company_code_right_goes_to_consent(flow: Flow, typed: str) -> None:
    page = _signed_in(flow, ROA.format(COMPANY))

    consent = _page(_post(flow, page, "continue", auth_code=typed))

    assert consent.form.action == "/oauth2/authorise/consent"


def test_company_code_ignores_letter_case(flow: Flow) -> None:
    page = _signed_in(flow, ROA.format(SCOTTISH))

    consent = _page(_post(flow, page, "continue", auth_code="abc123"))

    assert consent.form.action == "/oauth2/authorise/consent"


def test_company_code_wrong_reprompts_with_error(flow: Flow) -> None:
    page = _signed_in(flow, ROA.format(COMPANY))

    again = _page(_post(flow, page, "continue", auth_code="000000"))

    assert again.form.action == "/oauth2/authorise/company-auth-code"
    assert "error-summary" in again.classes
    assert (
        "The authentication code is not correct. You have 2 more tries." in again.text
    )


def test_company_code_wrong_three_times_redirects_access_denied(flow: Flow) -> None:
    page = _signed_in(flow, ROA.format(COMPANY))
    for left in ("2 more tries", "1 more try"):
        page = _page(_post(flow, page, "continue", auth_code="000000"))
        assert left in page.text

    response = _post(flow, page, "continue", auth_code="000000")

    assert response.status_code == 302
    query = query_of(response.headers["Location"])
    assert query["error"] == "access_denied"
    assert query["state"] == "state-123"


def test_company_code_attempts_configurable(make_flow: Callable[..., Flow]) -> None:
    flow = make_flow(max_auth_code_attempts=1)
    page = _signed_in(flow, ROA.format(COMPANY))

    response = _post(flow, page, "continue", auth_code="000000")

    assert query_of(response.headers["Location"])["error"] == "access_denied"


def test_company_code_right_after_wrong_resets_count(flow: Flow) -> None:
    scope = f"{ROA.format(COMPANY)} {ROA.format(OTHER)}"
    page = _signed_in(flow, scope)
    page = _page(_post(flow, page, "continue", auth_code="000000"))
    page = _page(_post(flow, page, "continue", auth_code="000000"))
    page = _page(_post(flow, page, "continue", auth_code=COMPANY_CODE))

    again = _page(_post(flow, page, "continue", auth_code="000000"))

    assert "OTHER COMPANY LIMITED" in again.text
    assert "2 more tries" in again.text


def test_company_code_cancel_redirects_access_denied(flow: Flow) -> None:
    page = _signed_in(flow, ROA.format(COMPANY))

    response = _post(flow, page, "cancel")

    assert query_of(response.headers["Location"])["error"] == "access_denied"


def test_company_codes_asked_in_turn_for_each_company(flow: Flow) -> None:
    scope = " ".join(
        [
            PROFILE_SCOPE,
            ROA.format(COMPANY),
            ROA.format(SCOTTISH),
            ROA.format(COMPANY).replace("office-address", "email-address"),
        ]
    )
    first = _signed_in(flow, scope)

    second = _page(_post(flow, first, "continue", auth_code=COMPANY_CODE))
    consent = _page(_post(flow, second, "continue", auth_code="ABC123"))

    assert "EXAMPLE TRADING LIMITED" in first.text
    assert "SAMPLE SCOTTISH LIMITED" in second.text
    assert consent.form.action == "/oauth2/authorise/consent"
    code = query_of(_post(flow, consent, "approve").headers["Location"])["code"]
    token = flow.exchange(code).get_json()
    assert flow.verify(token["access_token"]).get_json()["scope"] == scope


def test_journey_pages_not_cached_nor_framed(flow: Flow) -> None:
    response = flow.authorise()

    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "forge",
    [
        {"csrf_token": "forged"},
        {"csrf_token": ""},
        {"journey": "no-such-journey"},
        {"journey": ""},
    ],
    ids=["forged-csrf", "missing-csrf", "unknown-journey", "missing-journey"],
)
@pytest.mark.parametrize("step", ["signin", "company", "consent"])
def test_journey_forged_form_gets_html_400(
    flow: Flow, forge: dict[str, str], step: str
) -> None:
    page = _page(flow.authorise(scope=ROA.format(COMPANY)))
    if step != "signin":
        page = _page(_post(flow, page, email="demo@example.com", password="password"))
    if step == "consent":
        page = _page(_post(flow, page, "continue", auth_code=COMPANY_CODE))
    values = {"email": "demo@example.com", "password": "password"}
    values.update(auth_code=COMPANY_CODE, **forge)

    response = _post(flow, page, "approve" if step == "consent" else None, **values)

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers


def test_journey_without_browser_cookie_gets_html_400(flow: Flow) -> None:
    page = _page(flow.authorise())
    flow.http.delete_cookie(BROWSER_COOKIE)

    response = _post(flow, page, email="demo@example.com", password="password")

    assert response.status_code == 400
    assert "Form not accepted" in response.get_data(as_text=True)


def test_journey_with_another_browser_cookie_gets_html_400(flow: Flow) -> None:
    page = _page(flow.authorise())
    flow.http.set_cookie(BROWSER_COOKIE, "someone-else")

    response = _post(flow, page, email="demo@example.com", password="password")

    assert response.status_code == 400
    assert "Form not accepted" in response.get_data(as_text=True)


def test_journey_expired_gets_html_400(flow: Flow) -> None:
    page = _page(flow.authorise())
    flow.provider.clock.advance(flow.provider.config.journey_lifetime)

    response = _post(flow, page, email="demo@example.com", password="password")

    assert response.status_code == 400
    assert "Sign-in expired" in response.get_data(as_text=True)


def test_journey_ended_cannot_be_replayed(flow: Flow) -> None:
    consent = _signed_in(flow)
    assert _post(flow, consent, "approve").status_code == 302

    replay = _post(flow, consent, "approve")

    assert replay.status_code == 400
    assert "Sign-in expired" in replay.get_data(as_text=True)


@pytest.mark.parametrize(
    ("scope", "path"),
    [
        (ROA.format(COMPANY), "/oauth2/authorise/consent"),
        (PROFILE_SCOPE, "/oauth2/authorise/company-auth-code"),
    ],
    ids=["consent-before-code", "code-without-company"],
)
def test_journey_page_out_of_order_gets_html_400(
    flow: Flow, scope: str, path: str
) -> None:
    signin = _page(flow.authorise(scope=scope))
    _post(flow, signin, email="demo@example.com", password="password")

    response = flow.http.post(
        path,
        data={**signin.form.fields, "decision": "approve", "auth_code": COMPANY_CODE},
    )

    assert response.status_code == 400
    assert "Page out of order" in response.get_data(as_text=True)


def test_journey_company_code_before_sign_in_gets_html_400(flow: Flow) -> None:
    signin = _page(flow.authorise(scope=ROA.format(COMPANY)))

    response = flow.http.post(
        "/oauth2/authorise/company-auth-code",
        data={**signin.form.fields, "auth_code": COMPANY_CODE},
    )

    assert response.status_code == 400
    assert "Page out of order" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/oauth2/authorise/signin",
        "/oauth2/authorise/company-auth-code",
        "/oauth2/authorise/consent",
    ],
)
def test_journey_page_get_is_405(flow: Flow, path: str) -> None:
    response = flow.http.get(path)

    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
