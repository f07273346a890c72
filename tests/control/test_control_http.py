"""The control plane as JSON over HTTP under ``/_mock/``, for apps in any language."""

from __future__ import annotations

import pytest
import requests

from mock_provider import ProviderConfig, ProviderServer
from mock_provider.control_http import ROUTES
from mock_provider.testing import scope_for

COMPANY = "00012345"


def _call(ch_oauth, method: str, operation: str, **kwargs) -> requests.Response:
    return requests.request(
        method, f"{ch_oauth.url}/_mock/{operation}", timeout=10, **kwargs
    )


def _tokens(ch_oauth) -> dict:
    return ch_oauth.exchange(ch_oauth.authorise(scope=scope_for(COMPANY)).code)


# One test per route; the last checks that the table below is the whole of ROUTES.


def test_post_clients_registers_a_client_without_echoing_its_secret(ch_oauth):
    answer = _call(
        ch_oauth,
        "POST",
        "clients",
        json={
            "client_id": "http-app",
            "client_secret": "http-secret",
            "redirect_uris": ["http://127.0.0.1:7000/cb"],
            "name": "HTTP App",
        },
    )

    assert answer.status_code == 200
    assert answer.json() == {
        "client_id": "http-app",
        "name": "HTTP App",
        "redirect_uris": ["http://127.0.0.1:7000/cb"],
        "realm": "sandbox",
        "insolvency": False,
    }
    assert ch_oauth.provider.registry.client("http-app").client_secret == "http-secret"


def test_post_users_adds_a_user_without_echoing_the_password(ch_oauth):
    answer = _call(
        ch_oauth,
        "POST",
        "users",
        json={"user_id": "u-http", "email": "http@example.com", "password": "pw"},
    )

    assert answer.status_code == 200
    assert answer.json()["user_id"] == "u-http"
    assert "password" not in answer.json()
    assert ch_oauth.provider.registry.users["u-http"].email == "http@example.com"


def test_post_companies_adds_a_company(ch_oauth):
    answer = _call(
        ch_oauth,
        "POST",
        "companies",
        json={"number": "OC123456", "name": "HTTP LLP", "auth_code": "LLP123"},
    )

    assert answer.json() == {
        "number": "OC123456",
        "name": "HTTP LLP",
        "auth_code": "LLP123",
    }
    assert "OC123456" in ch_oauth.provider.registry.companies


def test_post_auth_code_changes_it_and_says_how_many_grants_lost_the_company(
    ch_oauth,
):
    _tokens(ch_oauth)

    answer = _call(
        ch_oauth, "POST", "auth-code", json={"number": COMPANY, "auth_code": "777777"}
    )

    assert answer.json() == {"value": 1}
    assert ch_oauth.provider.registry.companies[COMPANY].auth_code == "777777"


def test_post_revoke_user_says_how_many_grants_were_revoked(ch_oauth):
    _tokens(ch_oauth)
    _tokens(ch_oauth)

    answer = _call(ch_oauth, "POST", "revoke-user", json={"user_id": "user-0001"})

    assert answer.json() == {"value": 2}


def test_post_arrange_makes_the_next_authorisation_skip_the_pages(ch_oauth):
    answer = _call(
        ch_oauth,
        "POST",
        "arrange",
        json={"user": "second@example.com", "auth_codes": {COMPANY: "222222"}},
    )
    page = requests.get(
        ch_oauth.authorise_url(scope=scope_for(COMPANY)),
        allow_redirects=False,
        timeout=10,
    )

    assert answer.json() == {
        "user_id": "user-0002",
        "auth_codes": {COMPANY: ["222222"]},
        "decision": "approve",
        "times": 1,
    }
    assert page.status_code == 302
    assert "code=" in page.headers["Location"]


def test_post_faults_arranges_a_fault(ch_oauth, app):
    answer = _call(
        ch_oauth,
        "POST",
        "faults",
        json={"endpoint": "verify", "kind": "status", "status": 503, "times": None},
    )
    verify = app.verify("any-token")

    assert answer.json()["kind"] == "status"
    assert "times" not in answer.json()  # None, until cleared, is left out
    assert verify.status_code == 503


def test_get_faults_lists_the_faults_in_force(ch_oauth):
    ch_oauth.control.fault("token", "html", times=2)
    ch_oauth.control.fault("verify", "different_scope")

    answer = _call(ch_oauth, "GET", "faults")

    items = answer.json()["items"]
    assert [(f["endpoint"], f["kind"], f["times"]) for f in items] == [
        ("token", "html", 2),
        ("verify", "different_scope", 1),
    ]


def test_delete_faults_clears_them(ch_oauth):
    ch_oauth.control.fault("token", "html", times=None)

    answer = _call(ch_oauth, "DELETE", "faults")

    assert answer.json() == {"ok": True}
    assert ch_oauth.control.faults.active() == []


def test_get_clock_reads_the_fake_time(ch_oauth):
    ch_oauth.advance(100)

    answer = _call(ch_oauth, "GET", "clock")

    assert answer.json()["value"] == pytest.approx(ch_oauth.control.now(), abs=5)


def test_post_clock_moves_the_fake_time(ch_oauth):
    before = ch_oauth.control.now()

    answer = _call(ch_oauth, "POST", "clock", json={"seconds": 3600})

    assert answer.json()["value"] >= before + 3600
    assert ch_oauth.provider.clock.offset == 3600


def test_get_journal_filters_by_endpoint_and_client(ch_oauth):
    other = ch_oauth.control.register_client(
        client_id="other-app",
        client_secret="other-secret",
        redirect_uris=["http://127.0.0.1:9000/cb"],
    )
    _tokens(ch_oauth)
    ch_oauth.use_client(other)
    ch_oauth.exchange(ch_oauth.authorise().code)

    answer = _call(
        ch_oauth,
        "GET",
        "journal",
        params={"endpoint": "token", "client_id": "other-app"},
    )

    items = answer.json()["items"]
    assert [(e["endpoint"], e["client_id"], e["status"]) for e in items] == [
        ("token", "other-app", 200)
    ]
    assert items[0]["form"]["client_secret"] == ["other-…"]


def test_get_journal_since_returns_later_exchanges(ch_oauth, app):
    app.verify("one")
    mark = ch_oauth.provider.journal.last_seq
    app.verify("two")

    answer = _call(
        ch_oauth, "GET", "journal", params={"endpoint": "verify", "since": mark}
    )

    assert [e["seq"] for e in answer.json()["items"]] == [mark + 1]


def test_delete_journal_clears_it(ch_oauth, app):
    app.verify("one")

    answer = _call(ch_oauth, "DELETE", "journal")

    assert answer.json() == {"ok": True}
    assert ch_oauth.journal("verify") == []


def test_post_reset_resets_everything(ch_oauth):
    ch_oauth.control.fault("token", "html", times=None)
    ch_oauth.advance(60)

    answer = _call(ch_oauth, "POST", "reset")

    assert answer.json() == {"ok": True}
    assert ch_oauth.control.faults.active() == []
    assert ch_oauth.provider.clock.offset == 0


def test_every_route_has_a_test_above():
    tested = {
        ("POST", "clients"),
        ("POST", "users"),
        ("POST", "companies"),
        ("POST", "auth-code"),
        ("POST", "revoke-user"),
        ("POST", "arrange"),
        ("POST", "faults"),
        ("GET", "faults"),
        ("DELETE", "faults"),
        ("GET", "clock"),
        ("POST", "clock"),
        ("GET", "journal"),
        ("DELETE", "journal"),
        ("POST", "reset"),
    }

    assert tested == set(ROUTES)


# Errors: 400 JSON with a description that says what was wrong.


@pytest.mark.parametrize(
    ("method", "operation", "send", "message"),
    [
        ("POST", "clock", {"data": "{not json"}, "the body must be a JSON object"),
        ("POST", "clock", {"json": [3600]}, "the body must be a JSON object"),
        ("POST", "clock", {"json": {"seconds": 1, "minutes": 1}}, "unexpected keyword"),
        ("POST", "clock", {"json": {}}, "missing a required argument: 'seconds'"),
        ("POST", "clock", {"json": {"seconds": -5}}, "the clock only moves forward"),
        (
            "POST",
            "clock",
            {"json": {"seconds": "soon"}},
            "seconds must be a finite number",
        ),
        ("GET", "journal", {"params": {"colour": "red"}}, "unexpected keyword"),
        (
            "GET",
            "journal",
            {"params": {"since": "abc"}},
            "since must be a whole number",
        ),
        ("GET", "faults", {"params": {"endpoint": "token"}}, "unexpected keyword"),
        ("POST", "arrange", {"json": {"user": "nobody"}}, "no user with id or email"),
        ("POST", "arrange", {"json": {"user": 42}}, "no user with id or email 42"),
        ("POST", "arrange", {"json": {"times": 0}}, "times must be at least 1"),
        ("POST", "arrange", {"json": {"times": "2"}}, "times must be at least 1"),
        (
            "POST",
            "arrange",
            {"json": {"auth_codes": {COMPANY: 222222}}},
            "expected a code or codes",
        ),
        ("POST", "arrange", {"json": {"auth_codes": "222222"}}, "auth_codes must map"),
        ("POST", "faults", {"json": {"kind": "html"}}, "'endpoint'"),
        (
            "POST",
            "companies",
            {"json": {"number": "1", "name": "X", "auth_code": "1"}},
            "eight capital letters or digits",
        ),
        (
            "POST",
            "users",
            {"json": {"user_id": "u", "email": "nope", "password": "p"}},
            "an email address",
        ),
        (
            "POST",
            "clients",
            {
                "json": {
                    "client_id": "c",
                    "client_secret": "s",
                    "redirect_uris": "http://127.0.0.1/cb",
                }
            },
            "absolute http(s) URLs",
        ),
        (
            "POST",
            "auth-code",
            {"json": {"number": "77777777", "auth_code": "1"}},
            "no company with number",
        ),
    ],
    ids=[
        "bad-json",
        "json-not-an-object",
        "unknown-argument",
        "missing-argument",
        "clock-backwards",
        "seconds-as-text",
        "unknown-query-argument",
        "since-not-a-number",
        "argument-to-get-faults",
        "unknown-user",
        "user-as-number",
        "arrange-times-0",
        "arrange-times-as-text",
        "auth-code-as-number",
        "auth-codes-not-a-map",
        "fault-without-endpoint",
        "bad-company-number",
        "bad-email",
        "redirect-uris-not-a-list",
        "auth-code-of-unknown-company",
    ],
)
def test_control_error_is_400_json_saying_what_was_wrong(
    ch_oauth, method, operation, send, message
):
    answer = _call(ch_oauth, method, operation, **send)

    assert answer.status_code == 400
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json()["error"] == "invalid_request"
    assert message in answer.json()["error_description"]
    assert ch_oauth.provider.take_errors() == []


@pytest.mark.parametrize(
    ("method", "operation"),
    [("POST", "nothing-here"), ("GET", "reset")],
    ids=["unknown-operation", "wrong-method"],
)
def test_unknown_control_operation_is_404_json(ch_oauth, method, operation):
    answer = _call(ch_oauth, method, operation)

    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


def test_control_method_outside_get_post_delete_is_405_json(ch_oauth):
    answer = _call(ch_oauth, "PUT", "faults")

    assert answer.status_code == 405
    assert answer.headers["Allow"] == "DELETE, GET, HEAD, POST"
    assert answer.json()["error"] == "invalid_request"


def test_control_plane_switched_off_is_404_json():
    with ProviderServer(ProviderConfig(control=False)) as server:
        answer = requests.post(f"{server.url}/_mock/reset", timeout=10)
        faults = requests.get(f"{server.url}/_mock/faults", timeout=10)

    assert (answer.status_code, faults.status_code) == (404, 404)
    assert answer.json()["error"] == "not_found"
    assert server.provider.control is None
