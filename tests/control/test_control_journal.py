"""The journal: what was sent and answered, in order, with every secret cut short."""

from __future__ import annotations

import base64
import json
import re

import pytest
import requests

from mock_provider.testing import Callback, scope_for

COMPANY = "00012345"
REDACTED = re.compile(r"^.{0,6}…$")


def test_journal_numbers_exchanges_in_order(ch_oauth, app):
    tokens = app.tokens()
    app.verify(tokens["access_token"])
    app.profile(tokens["access_token"])

    journal = ch_oauth.journal()

    assert [e.endpoint for e in journal] == ["authorise", "token", "verify", "profile"]
    seqs = [e.seq for e in journal]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    assert [e.at for e in journal] == sorted(e.at for e in journal)


def test_journal_records_request_and_response(ch_oauth):
    settings = ch_oauth.settings
    code = ch_oauth.authorise().code

    answer = requests.post(
        f"{settings.identity_url}/oauth2/token",
        params={"grant_type": "authorization_code"},
        data={"code": code, "redirect_uri": settings.redirect_uri},
        headers={"X-Request-Id": "abc-123"},
        auth=(settings.client_id, settings.client_secret),
        timeout=10,
    )

    entry = ch_oauth.wait_for("token")[0]
    assert entry.method == "POST"
    assert entry.path == "/oauth2/token"
    assert entry.query == {"grant_type": ["authorization_code"]}
    assert entry.form["redirect_uri"] == [settings.redirect_uri]
    assert entry.headers["X-Request-Id"] == "abc-123"
    assert entry.status == answer.status_code == 200
    assert entry.response_headers["Cache-Control"] == "no-store"
    assert entry.response_json()["token_type"] == "Bearer"
    assert entry.client_id == settings.client_id
    assert entry.client_auth == "client_secret_basic"
    assert entry.error is None
    assert entry.notes["grant_type"] == "authorization_code"
    assert entry.duration_ms > 0


def test_journal_records_a_json_body_and_a_refusal(ch_oauth, app):
    access_token = app.tokens()["access_token"]

    app.create_transaction(access_token, company_number="00099999")

    entry = ch_oauth.journal("api")[0]
    assert json.loads(entry.body)["company_number"] == "00099999"
    assert entry.form == {}
    assert entry.status == 401
    assert entry.error == "Invalid Authorization"


@pytest.mark.parametrize(
    ("send", "client_auth"),
    [
        ({"auth": ("test-client-id", "test-client-secret")}, "client_secret_basic"),
        (
            {"data": {"client_id": "test-client-id", "client_secret": "x"}},
            "client_secret_post",
        ),
        (
            {"params": {"client_id": "test-client-id", "client_secret": "x"}},
            "client_secret_query",
        ),
        ({"data": {"client_id": "test-client-id"}}, "none"),
    ],
    ids=["basic", "post", "query", "none"],
)
def test_journal_records_how_the_client_authenticated(ch_oauth, send, client_auth):
    requests.post(
        f"{ch_oauth.url}/oauth2/token",
        params={
            "grant_type": "refresh_token",
            "refresh_token": "r",
            **send.get("params", {}),
        },
        data=send.get("data"),
        auth=send.get("auth"),
        timeout=10,
    )

    assert ch_oauth.journal("token")[0].client_auth == client_auth


def _every_secret_exchange(ch_oauth, app) -> dict[str, str]:
    """Walk the pages and use every token in every way; return the secrets used."""
    settings = ch_oauth.settings
    browser = requests.Session()
    ch_oauth.control.add_user(
        user_id="user-secret", email="secret@example.com", password="pass-Word-9876"
    )
    consent = app.walk_pages(
        scope=scope_for(COMPANY),
        email="secret@example.com",
        password="pass-Word-9876",
        browser=browser,
    )
    code = Callback.from_url(consent.headers["Location"]).code
    tokens = requests.post(
        f"{ch_oauth.url}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": settings.redirect_uri,
            "client_id": settings.client_id,
            "client_secret": settings.client_secret,
        },
        timeout=10,
    ).json()
    access, refresh = tokens["access_token"], tokens["refresh_token"]
    browser.post(
        f"{ch_oauth.url}/oauth2/token",
        params={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=(settings.client_id, settings.client_secret),
        timeout=10,
    )
    browser.get(
        f"{ch_oauth.url}/oauth2/verify", params={"access_token": access}, timeout=10
    )
    browser.post(
        f"{ch_oauth.url}/oauth2/verify", data={"access-token": access}, timeout=10
    )
    app.profile(access)
    app.create_transaction(access)
    return {
        **{f"cookie {c.name}": c.value for c in browser.cookies},
        "client_secret": settings.client_secret,
        "password": "pass-Word-9876",
        "code": code,
        "access_token": access,
        "refresh_token": refresh,
    }


def test_journal_never_holds_a_whole_secret(ch_oauth, app):
    secrets = _every_secret_exchange(ch_oauth, app)

    dumped = json.dumps([e.json() for e in ch_oauth.provider.journal])

    for name, value in secrets.items():
        assert value not in dumped, name
    assert "test-client-id:test-client-secret" not in dumped
    assert "dGVzdC1jbGllbnQtaWQ6dGVzdC1jbGllbnQtc2VjcmV0" not in dumped
    assert {"cookie ch_mock_browser", "cookie ch_mock_session"} <= set(secrets)


def test_journal_cuts_each_secret_to_a_short_prefix(ch_oauth, app):
    secrets = _every_secret_exchange(ch_oauth, app)

    signin = ch_oauth.journal("signin")[0]
    consent = ch_oauth.journal("consent")[0]
    token = ch_oauth.journal("token")
    verify = ch_oauth.journal("verify")
    basic = base64.b64encode(b"test-client-id:test-client-secret").decode()
    checks = [
        ("password", signin.form["password"][0], secrets["password"]),
        ("Set-Cookie", signin.response_headers["Set-Cookie"], "ch_mock_session="),
        ("Cookie", consent.headers["Cookie"], "ch_mock_"),
        (
            "Location code",
            Callback.from_url(consent.response_headers["Location"]).code,
            secrets["code"],
        ),
        ("code", token[0].form["code"][0], secrets["code"]),
        ("client_secret", token[0].form["client_secret"][0], "test-client-secret"),
        (
            "access_token answered",
            token[0].response_json()["access_token"],
            secrets["access_token"],
        ),
        (
            "refresh_token answered",
            token[0].response_json()["refresh_token"],
            secrets["refresh_token"],
        ),
        ("Basic", token[1].headers["Authorization"], f"Basic {basic}"),
        ("refresh_token", token[1].query["refresh_token"][0], secrets["refresh_token"]),
        ("access_token", verify[0].query["access_token"][0], secrets["access_token"]),
        ("access-token", verify[1].form["access-token"][0], secrets["access_token"]),
        (
            "Bearer",
            ch_oauth.journal("profile")[0].headers["Authorization"],
            f"Bearer {secrets['access_token']}",
        ),
    ]

    for what, shown, original in checks:
        value = shown.removeprefix("Basic ").removeprefix("Bearer ")
        assert REDACTED.match(value), (what, shown)
        assert original.startswith(shown[:-1]), (what, shown)


def test_journal_redacts_secrets_sent_to_the_control_plane(ch_oauth):
    body = json.dumps(
        {"user_id": "u-9", "email": "u9@example.com", "password": "hunter2-and-more"}
    )

    # As curl -d sends it: JSON under a form content type.
    requests.post(
        f"{ch_oauth.url}/_mock/users",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )

    entry = ch_oauth.journal("control")[0]
    assert "hunter2-and-more" not in json.dumps(entry.json())
    assert json.loads(entry.body)["password"] == "hunter…"
    assert entry.form == {}


def test_journal_query_by_endpoint_and_by_client(ch_oauth, app):
    other = ch_oauth.control.register_client(
        client_id="other-app",
        client_secret="other-secret",
        redirect_uris=["http://127.0.0.1:9000/cb"],
    )
    app.tokens()
    ch_oauth.use_client(other)
    app.tokens()

    token_calls = ch_oauth.control.journal(endpoint="token")
    other_calls = ch_oauth.control.journal(client_id="other-app")
    other_tokens = ch_oauth.control.journal(endpoint="token", client_id="other-app")

    assert [e.client_id for e in token_calls] == ["test-client-id", "other-app"]
    assert [e.endpoint for e in other_calls] == ["authorise", "token"]
    assert other_tokens == [token_calls[1]]


def test_journal_since_returns_only_later_exchanges(ch_oauth, app):
    app.verify("first")
    mark = ch_oauth.provider.journal.last_seq
    app.verify("second")
    app.verify("third")

    later = ch_oauth.control.journal(since=mark)

    assert [e.query["access_token"] for e in later] == [["…"], ["…"]]
    assert all(e.seq > mark for e in later)
    assert len(ch_oauth.control.journal(since=later[-1].seq)) == 0


def test_clear_journal_empties_it_and_numbering_goes_on(ch_oauth, app):
    app.verify("before")
    last = ch_oauth.journal()[-1].seq

    ch_oauth.control.clear_journal()
    app.verify("after")

    journal = ch_oauth.journal()
    assert len(journal) == 1
    assert journal[0].seq > last


def test_wait_for_returns_as_soon_as_the_request_arrived(ch_oauth, app):
    app.verify("a-token")

    calls = ch_oauth.wait_for("verify", count=1, timeout=0.5)

    assert [c.status for c in calls] == [401]


def test_wait_for_fails_with_the_journal_when_nothing_came(ch_oauth, app):
    app.verify("a-token")

    expected = r"expected 1 request\(s\) to token"
    with pytest.raises(AssertionError, match=expected) as info:
        ch_oauth.wait_for("token", timeout=0.05)

    assert "GET /oauth2/verify" in str(info.value)
