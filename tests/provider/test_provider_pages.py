"""The HTML pages: every value escaped, every field labelled, errors summarised."""

from __future__ import annotations

import re

import pytest
from provider_support import COMPANY, COMPANY_CODE, ROA, Flow, Page, parse_page
from werkzeug.test import TestResponse

from mock_provider.scopes import PROFILE_SCOPE

EVIL = "<script>alert('x')</script>\"&"
EVIL_NUMBER = "EV1L0001"


def _page(response: TestResponse) -> Page:
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse_page(response.get_data(as_text=True))


def _post(
    flow: Flow, page: Page, button: str | None = None, **values: str
) -> TestResponse:
    return flow.http.post(page.form.action, data=page.submit(button, **values))


@pytest.fixture
def evil_flow(flow: Flow) -> Flow:
    """A provider whose client, company and user carry markup in their names."""
    flow.control.register_client(
        client_id="evil",
        client_secret="s",
        name=EVIL,
        redirect_uris=["http://127.0.0.1:8000/callback"],
    )
    flow.control.add_company(number=EVIL_NUMBER, name=EVIL, auth_code="111111")
    flow.control.add_user(
        user_id="evil-user",
        email="<b>evil</b>@example.com",
        password="pw",
        forename=EVIL,
    )
    return flow


def _assert_escaped(response: TestResponse) -> None:
    html = response.get_data(as_text=True)
    assert "<script>" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(" in html


def _walk(flow: Flow) -> list[TestResponse]:
    scope = f"{PROFILE_SCOPE} {ROA.format(EVIL_NUMBER)}"
    signin = flow.authorise(client_id="evil", scope=scope, hint=EVIL)
    code = _post(flow, _page(signin), email="<b>evil</b>@example.com", password="pw")
    wrong = _post(flow, _page(code), "continue", auth_code=EVIL)
    consent = _post(flow, _page(wrong), "continue", auth_code="111111")
    return [signin, code, wrong, consent]


def test_pages_escape_names_from_data(evil_flow: Flow) -> None:
    responses = _walk(evil_flow)

    for response in responses:
        _assert_escaped(response)
    consent = _page(responses[-1])
    assert f"Change the registered office address of {EVIL}" in consent.text
    assert "Signed in as <b>evil</b>@example.com" in consent.text


def test_pages_escape_hint_in_attribute(evil_flow: Flow) -> None:
    response = evil_flow.authorise(client_id="evil", hint='"><script>x</script>')

    page = _page(response)
    assert page.form.fields["email"] == '"><script>x</script>'
    assert "<script>x" not in response.get_data(as_text=True)


def test_index_page_escapes_client_names(evil_flow: Flow) -> None:
    response = evil_flow.http.get("/")

    assert response.status_code == 200
    _assert_escaped(response)
    page = parse_page(response.get_data(as_text=True))
    assert "/oauth2/authorise" in page.text
    assert "test-client-id" in page.text
    assert "live-client-id" not in page.text


def test_pages_every_visible_input_has_a_label(evil_flow: Flow) -> None:
    responses = _walk(evil_flow)

    for response in responses:
        page = _page(response)
        visible = [i for i in page.inputs if i.get("type") != "hidden"]
        for field in visible:
            assert field.get("id"), field
            assert page.labels.get(field["id"], "").strip(), field


def test_pages_hidden_fields_carry_journey_and_csrf(flow: Flow) -> None:
    page = _page(flow.authorise())

    hidden = {i["name"] for i in page.inputs if i.get("type") == "hidden"}

    assert hidden == {"journey", "csrf_token"}
    assert page.form.fields["journey"] != page.form.fields["csrf_token"]


def test_pages_signin_error_summary_links_to_field(flow: Flow) -> None:
    signin = _page(flow.authorise())

    response = _post(flow, signin, email="demo@example.com", password="nope")

    page = _page(response)
    assert "error-summary" in page.classes
    assert "There is a problem" in page.text
    assert "#email" in page.links
    assert "email-error" in page.ids
    assert re.search(r"<title>Error: ", response.get_data(as_text=True))
    email = next(i for i in page.inputs if i.get("id") == "email")
    assert email["aria-describedby"] == "email-error"


def test_pages_company_code_error_summary_links_to_field(flow: Flow) -> None:
    signin = _page(flow.authorise(scope=ROA.format(COMPANY)))
    code = _page(_post(flow, signin, email="demo@example.com", password="password"))

    page = _page(_post(flow, code, "continue", auth_code="nope"))

    assert "error-summary" in page.classes
    assert "#auth_code" in page.links
    field = next(i for i in page.inputs if i.get("id") == "auth_code")
    assert field["aria-describedby"].split() == ["auth_code-hint", "auth_code-error"]


def test_pages_without_error_have_no_summary(flow: Flow) -> None:
    signin = _page(flow.authorise(scope=ROA.format(COMPANY)))
    code = _page(_post(flow, signin, email="demo@example.com", password="password"))
    consent = _page(_post(flow, code, "continue", auth_code=COMPANY_CODE))

    for page in (signin, code, consent):
        assert "error-summary" not in page.classes
        assert "There is a problem" not in page.text


def test_error_page_says_why_and_links_nowhere(flow: Flow) -> None:
    response = flow.authorise(client_id="nobody")

    page = parse_page(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "error-detail" in page.ids
    assert "not registered" in page.text
    assert page.forms == []
    assert page.links == []
