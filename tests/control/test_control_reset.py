"""Reset: back to the configured data; no tokens, faults, journal or clock offset."""

from __future__ import annotations

import requests

from mock_provider.testing import scope_for

COMPANY = "00012345"


def test_reset_restores_the_data(ch_oauth):
    ch_oauth.control.register_client(
        client_id="temporary-app",
        client_secret="temporary-secret",
        redirect_uris=["http://127.0.0.1:9999/cb"],
    )
    ch_oauth.control.add_user(
        user_id="temporary-user", email="temp@example.com", password="temp-password"
    )
    ch_oauth.control.add_company(number="SC999999", name="TEMP", auth_code="TEMP01")
    ch_oauth.control.set_auth_code(number=COMPANY, auth_code="654321")

    ch_oauth.reset()

    registry = ch_oauth.provider.registry
    assert "temporary-app" not in registry.clients
    assert "temporary-user" not in registry.users
    assert "temp@example.com" not in registry.emails
    assert "SC999999" not in registry.companies
    assert registry.companies[COMPANY].auth_code == "222222"


def test_reset_restores_a_changed_auth_code_for_the_journey(ch_oauth):
    ch_oauth.control.set_auth_code(number=COMPANY, auth_code="654321")

    ch_oauth.reset()
    callback = ch_oauth.authorise(
        scope=scope_for(COMPANY), auth_codes={COMPANY: "222222"}
    )

    assert callback.code is not None


def test_reset_forgets_every_code_and_token(ch_oauth, app):
    tokens = app.tokens()
    code = ch_oauth.authorise().code

    ch_oauth.reset()

    assert app.verify(tokens["access_token"]).status_code == 401
    assert app.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"
    exchanged = app.token(
        grant_type="authorization_code",
        code=code,
        redirect_uri=ch_oauth.settings.redirect_uri,
    )
    assert exchanged.json()["error"] == "invalid_grant"
    assert set(ch_oauth.provider.store.sizes().values()) == {0}


def test_reset_removes_faults_and_arrangements(ch_oauth, app):
    ch_oauth.control.fault("token", "status", times=None)
    ch_oauth.control.fault("verify", "different_scope")
    ch_oauth.control.arrange(times=None)

    ch_oauth.reset()
    page = requests.get(ch_oauth.authorise_url(), allow_redirects=False, timeout=10)

    assert ch_oauth.control.faults.active() == []
    assert page.status_code == 200
    assert app.tokens()["token_type"] == "Bearer"


def test_reset_empties_the_journal_and_rewinds_the_clock(ch_oauth, app):
    app.verify("some-token")
    ch_oauth.advance(7200)

    ch_oauth.reset()

    assert ch_oauth.journal() == []
    assert len(ch_oauth.provider.journal) == 0
    assert ch_oauth.provider.clock.offset == 0


def test_reset_forgets_errors_a_handler_raised(ch_oauth):
    ch_oauth.provider.errors.append(RuntimeError("from an earlier request"))

    ch_oauth.reset()

    assert ch_oauth.provider.take_errors() == []


def test_reset_returns_the_helpers_to_the_data_set_client(ch_oauth):
    client = ch_oauth.control.register_client(
        client_id="temporary-app",
        client_secret="temporary-secret",
        redirect_uris=["http://127.0.0.1:9999/cb"],
    )
    ch_oauth.use_client(client)

    ch_oauth.reset()
    callback = ch_oauth.authorise()

    assert ch_oauth.settings.client_id == "test-client-id"
    assert callback.code is not None
