"""``GET /oauth2/authorise``: validation, error redirects, where the journey starts."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from provider_support import (
    CLIENT_ID,
    COMPANY,
    REDIRECT_URI,
    ROA,
    Flow,
    parse_page,
    query_of,
)

from mock_provider import ProviderConfig
from mock_provider.authorise import BROWSER_COOKIE, SESSION_COOKIE
from mock_provider.scopes import PROFILE_SCOPE

INSOLVENCY = (
    "https://api.company-information.service.gov.uk/company/*/insolvency.write-full"
)
PSC_API = (
    "https://api.company-information.service.gov.uk/psc-discrepancy-reports.write-full"
)
PSC_IDENTITY = (
    "https://identity.company-information.service.gov.uk"
    "/psc-discrepancy-reports.write-full"
)


@pytest.mark.parametrize(
    ("params", "title"),
    [
        ({"client_id": "nobody"}, "Unknown application"),
        ({"client_id": None}, "Unknown application"),
        ({"client_id": "live-client-id"}, "Unknown application"),
        ({"redirect_uri": "https://attacker.example/callback"}, "Invalid redirect"),
        ({"redirect_uri": REDIRECT_URI + "/"}, "Invalid redirect"),
        ({"redirect_uri": REDIRECT_URI.upper()}, "Invalid redirect"),
        ({"redirect_uri": None}, "Invalid redirect"),
    ],
    ids=[
        "unknown-client",
        "no-client",
        "live-client-in-sandbox",
        "unregistered-redirect",
        "trailing-slash",
        "case-differs",
        "no-redirect",
    ],
)
def test_authorise_untrusted_client_gets_html_page_not_redirect(
    flow: Flow, params: dict[str, str | None], title: str
) -> None:
    response = flow.authorise(**params)

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers
    assert title in response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["client_id", "redirect_uri"])
def test_authorise_repeated_client_parameter_gets_html_page(
    flow: Flow, name: str
) -> None:
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "state": "s",
    }
    repeated = urlencode(query) + "&" + urlencode({name: query[name]})

    response = flow.http.get("/oauth2/authorise?" + repeated)

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers
    assert f"{name} is repeated" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": None}, "invalid_request"),
        ({"response_type": ""}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"scope": "https://example.com/unknown.read"}, "invalid_scope"),
        ({"scope": PROFILE_SCOPE + " openid"}, "invalid_scope"),
        ({"scope": ROA.format("1234")}, "invalid_scope"),
        ({"scope": ROA.format("sc123456")}, "invalid_scope"),
        ({"scope": ROA.format("*")}, "invalid_scope"),
        ({"scope": ROA.format("12345678")}, "invalid_scope"),
        ({"scope": INSOLVENCY}, "unauthorized_client"),
    ],
    ids=[
        "no-response-type",
        "empty-response-type",
        "implicit",
        "hybrid",
        "unknown-scope",
        "one-unknown-scope",
        "short-company-number",
        "lowercase-company-number",
        "wildcard-company",
        "unknown-company",
        "insolvency-for-ordinary-client",
    ],
)
def test_authorise_bad_request_redirects_with_error_and_state(
    flow: Flow, params: dict[str, str | None], error: str
) -> None:
    response = flow.authorise(state="xyz 123/+&=", **params)

    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    query = query_of(response.headers["Location"])
    assert query["error"] == error
    assert query["error_description"]
    assert query["state"] == "xyz 123/+&="
    assert "code" not in query


def test_authorise_repeated_other_parameter_redirects_with_invalid_request(
    flow: Flow,
) -> None:
    query = urlencode(
        [
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("scope", PROFILE_SCOPE),
            ("scope", PROFILE_SCOPE),
        ]
    )

    response = flow.http.get("/oauth2/authorise?" + query)

    assert response.status_code == 302
    assert query_of(response.headers["Location"])["error"] == "invalid_request"


def test_authorise_error_without_state_sends_no_state(flow: Flow) -> None:
    response = flow.authorise(state=None, response_type="token")

    query = query_of(response.headers["Location"])
    assert query["error"] == "unsupported_response_type"
    assert "state" not in query


def test_authorise_insolvency_client_may_ask_insolvency_scope(flow: Flow) -> None:
    flow.control.arrange()

    response = flow.authorise(client_id="insolvency-client-id", scope=INSOLVENCY)

    assert response.status_code == 302
    assert "code" in query_of(response.headers["Location"])


@pytest.mark.parametrize("scope", [PSC_API, PSC_IDENTITY], ids=["api", "identity"])
def test_authorise_psc_scope_accepted_on_either_host(flow: Flow, scope: str) -> None:
    flow.control.arrange()

    response = flow.authorise(scope=scope)

    assert "code" in query_of(response.headers["Location"])


def test_authorise_redirect_keeps_registered_query(flow: Flow) -> None:
    redirect_uri = "http://127.0.0.1:8000/cb?tenant=a&x=1"
    flow.control.register_client(
        client_id="query-client", client_secret="s", redirect_uris=[redirect_uri]
    )
    flow.control.arrange()

    approved = flow.authorise(client_id="query-client", redirect_uri=redirect_uri)
    failed = flow.authorise(
        client_id="query-client", redirect_uri=redirect_uri, response_type="token"
    )

    for response in (approved, failed):
        location = response.headers["Location"]
        assert location.startswith("http://127.0.0.1:8000/cb?tenant=a&x=1&")
        assert query_of(location)["tenant"] == "a"
    assert "code" in query_of(approved.headers["Location"])
    assert query_of(failed.headers["Location"])["error"] == "unsupported_response_type"


@pytest.mark.parametrize("separator", ["+", "%20", "%2B", "%20%20"])
def test_authorise_scope_separators_all_split(flow: Flow, separator: str) -> None:
    scope = separator.join(
        s.replace(":", "%3A").replace("/", "%2F") for s in (PROFILE_SCOPE, PSC_API)
    )
    query = urlencode(
        {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI}
    )
    flow.control.arrange()

    response = flow.http.get(f"/oauth2/authorise?{query}&scope={scope}")
    token = flow.exchange(query_of(response.headers["Location"])["code"]).get_json()

    verified = flow.verify(token["access_token"]).get_json()
    assert verified["scope"] == f"{PROFILE_SCOPE} {PSC_API}"


def test_authorise_without_scope_grants_profile(flow: Flow) -> None:
    code = flow.code(scope=None)

    token = flow.exchange(code).get_json()

    assert flow.verify(token["access_token"]).get_json()["scope"] == PROFILE_SCOPE


def test_authorise_state_echoed_byte_for_byte(flow: Flow) -> None:
    state = "a b+c%2Fd/é&=?#"
    flow.control.arrange()

    response = flow.authorise(state=state)

    assert query_of(response.headers["Location"])["state"] == state


def test_authorise_unknown_parameters_ignored_and_recorded(flow: Flow) -> None:
    flow.control.arrange()

    response = flow.authorise(nonce="n", code_challenge="c", prompt="login")

    assert "code" in query_of(response.headers["Location"])
    exchange = flow.control.journal(endpoint="authorise")[-1]
    assert exchange.query["nonce"] == ["n"]
    assert exchange.query["prompt"] == ["login"]


@pytest.mark.parametrize(
    ("state", "expected"),
    [(None, "invalid_request"), ("", "invalid_request"), ("s", None)],
    ids=["absent", "empty", "given"],
)
def test_authorise_strict_config_requires_state(
    make_flow: Callable[..., Flow], state: str | None, expected: str | None
) -> None:
    strict = make_flow(ProviderConfig().strict())
    strict.control.arrange()

    response = strict.authorise(state=state)

    assert query_of(response.headers["Location"]).get("error") == expected


def test_authorise_lenient_config_allows_missing_state(flow: Flow) -> None:
    flow.control.arrange()

    response = flow.authorise(state=None)

    query = query_of(response.headers["Location"])
    assert "code" in query
    assert "state" not in query


def test_authorise_live_realm_knows_live_clients_only(
    make_flow: Callable[..., Flow],
) -> None:
    live = make_flow(realm="live")
    live.control.arrange()

    accepted = live.authorise(
        client_id="live-client-id", redirect_uri="https://filing.example.com/callback"
    )
    refused = live.authorise()

    assert accepted.status_code == 302
    assert "code" in query_of(accepted.headers["Location"])
    assert refused.status_code == 400
    assert "Unknown application" in refused.get_data(as_text=True)


def test_authorise_shows_sign_in_page_and_sets_browser_cookie(flow: Flow) -> None:
    response = flow.authorise()

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert BROWSER_COOKIE in response.headers["Set-Cookie"]
    page = parse_page(response.get_data(as_text=True))
    assert page.form.action == "/oauth2/authorise/signin"
    assert page.form.method == "post"
    assert {"journey", "csrf_token", "email", "password"} <= set(page.form.fields)


def test_authorise_hint_prefills_email(flow: Flow) -> None:
    response = flow.authorise(hint="someone@example.com")

    page = parse_page(response.get_data(as_text=True))
    assert page.form.fields["email"] == "someone@example.com"


def _sign_in(flow: Flow) -> None:
    page = parse_page(flow.authorise().get_data(as_text=True))
    response = flow.http.post(
        page.form.action,
        data=page.submit(email="demo@example.com", password="password"),
    )
    assert SESSION_COOKIE in response.headers["Set-Cookie"]


def test_authorise_signed_in_session_skips_sign_in(flow: Flow) -> None:
    _sign_in(flow)

    response = flow.authorise()

    page = parse_page(response.get_data(as_text=True))
    assert page.form.action == "/oauth2/authorise/consent"
    assert "demo@example.com" in page.text


def test_authorise_signed_in_session_goes_to_company_code(flow: Flow) -> None:
    _sign_in(flow)

    response = flow.authorise(scope=ROA.format(COMPANY))

    page = parse_page(response.get_data(as_text=True))
    assert page.form.action == "/oauth2/authorise/company-auth-code"


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes"])
def test_authorise_reauthenticate_forces_sign_in(flow: Flow, value: str) -> None:
    _sign_in(flow)

    response = flow.authorise(reauthenticate=value)

    page = parse_page(response.get_data(as_text=True))
    assert page.form.action == "/oauth2/authorise/signin"


def test_authorise_expired_session_asks_sign_in_again(flow: Flow) -> None:
    _sign_in(flow)
    flow.provider.clock.advance(flow.provider.config.session_lifetime)

    response = flow.authorise()

    page = parse_page(response.get_data(as_text=True))
    assert page.form.action == "/oauth2/authorise/signin"


def test_authorise_arranged_decline_redirects_access_denied(flow: Flow) -> None:
    flow.control.arrange(decision="decline")

    response = flow.authorise()

    query = query_of(response.headers["Location"])
    assert query["error"] == "access_denied"
    assert query["state"] == "state-123"


def test_authorise_arranged_wrong_codes_redirect_access_denied(flow: Flow) -> None:
    flow.control.arrange(auth_codes={COMPANY: ["000000", "111111", "333333"]})

    response = flow.authorise(scope=ROA.format(COMPANY))

    assert query_of(response.headers["Location"])["error"] == "access_denied"


def test_authorise_records_client_in_journal(flow: Flow) -> None:
    flow.authorise(response_type="token")

    exchange = flow.control.journal(endpoint="authorise")[-1]
    assert exchange.client_id == CLIENT_ID
    assert exchange.error == "unsupported_response_type"
    assert exchange.status == 302


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_authorise_other_methods_get_405(flow: Flow, method: str) -> None:
    response = flow.http.open("/oauth2/authorise", method=method)

    assert response.status_code == 405
    assert response.get_json()["error"] == "invalid_request"
    assert "GET" in response.headers["Allow"]
