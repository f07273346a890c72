"""A stateful test of codes, access tokens and refresh tokens against a small model.

The model knows when each code, access token and refresh token was issued, which
grant it belongs to, and which grants were revoked by a code replay. Hypothesis
runs random sequences of issue, exchange, replay, refresh, verify and clock moves,
and every response must match what the model predicts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from urllib.parse import urlencode

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from provider_support import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, START, query_of
from werkzeug.test import Client

from mock_provider import Clock, Provider, ProviderConfig
from mock_provider.scopes import PROFILE_SCOPE

CODE_LIFETIME = 120
ACCESS_LIFETIME = 3600
REFRESH_LIFETIME = 7 * 24 * 3600


@dataclass
class Issued:
    """A code or token as the model sees it."""

    value: str
    grant: int
    issued_at: float
    lifetime: float

    def live(self, now: float) -> bool:
        return now < self.issued_at + self.lifetime


@dataclass
class Tokens:
    """An access token and the refresh token it came with (or was refreshed by)."""

    access: Issued
    refresh: Issued


@dataclass
class Model:
    """What the provider should know."""

    now: float = START
    used_codes: set[str] = field(default_factory=set)
    revoked: set[int] = field(default_factory=set)
    grants: int = 0


@functools.cache
def _provider() -> Provider:
    """One provider for every run of the machine; each run starts with a reset."""
    return Provider(ProviderConfig(), clock=Clock(start=START))


class TokenLifecycle(RuleBasedStateMachine):
    """Codes, tokens and refreshes of one client, checked against :class:`Model`."""

    codes = Bundle("codes")
    tokens = Bundle("tokens")

    def __init__(self) -> None:
        super().__init__()
        self.provider = _provider()
        self.clock = self.provider.clock
        assert self.provider.control is not None
        self.control = self.provider.control
        self.control.reset()
        self.http = Client(self.provider)
        self.model = Model()

    def _token(self, **form: str) -> tuple[int, dict[str, object]]:
        body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form}
        response = self.http.post("/oauth2/token", data=body)
        return response.status_code, response.get_json()

    @rule(target=codes)
    def issue_code(self) -> Issued:
        self.control.arrange()
        query = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": PROFILE_SCOPE,
            "state": "lifecycle",
        }

        response = self.http.get("/oauth2/authorise?" + urlencode(query))

        assert response.status_code == 302
        location = query_of(response.headers["Location"])
        assert location["state"] == "lifecycle"
        self.model.grants += 1
        return Issued(
            location["code"], self.model.grants, self.model.now, CODE_LIFETIME
        )

    @rule(target=tokens, code=codes)
    def exchange(self, code: Issued) -> object:
        status, body = self._token(
            grant_type="authorization_code", code=code.value, redirect_uri=REDIRECT_URI
        )

        model = self.model
        if not code.live(model.now):
            assert (status, body["error"]) == (400, "invalid_grant")
            return multiple()
        if code.value in model.used_codes:
            assert (status, body["error"]) == (400, "invalid_grant")
            model.revoked.add(code.grant)
            return multiple()
        model.used_codes.add(code.value)
        assert status == 200, body
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == ACCESS_LIFETIME
        return Tokens(
            Issued(str(body["access_token"]), code.grant, model.now, ACCESS_LIFETIME),
            Issued(str(body["refresh_token"]), code.grant, model.now, REFRESH_LIFETIME),
        )

    @rule(target=tokens, held=tokens)
    def refresh(self, held: Tokens) -> object:
        status, body = self._token(
            grant_type="refresh_token", refresh_token=held.refresh.value
        )

        model = self.model
        if held.refresh.grant in model.revoked or not held.refresh.live(model.now):
            assert (status, body["error"]) == (400, "invalid_grant")
            return multiple()
        assert status == 200, body
        assert "refresh_token" not in body
        access = Issued(
            str(body["access_token"]), held.refresh.grant, model.now, ACCESS_LIFETIME
        )
        return Tokens(access, held.refresh)

    @rule(held=tokens)
    def verify(self, held: Tokens) -> None:
        response = self.http.get(
            "/oauth2/verify", query_string={"access_token": held.access.value}
        )

        model = self.model
        if held.access.grant in model.revoked or not held.access.live(model.now):
            assert response.status_code == 401
            assert response.get_json()["error"] == "invalid_token"
            return
        assert response.status_code == 200
        left = held.access.issued_at + ACCESS_LIFETIME - model.now
        assert response.get_json()["expires_in"] == int(left)

    @rule(code=consumes(codes))
    def forget_code(self, code: Issued) -> None:
        """Drop a code from the bundle, so fresh codes get exchanged more often."""

    @rule(
        seconds=st.sampled_from(
            [1, CODE_LIFETIME - 1, CODE_LIFETIME, ACCESS_LIFETIME, REFRESH_LIFETIME]
        )
    )
    def advance(self, seconds: int) -> None:
        self.clock.advance(seconds)
        self.model.now += seconds

    @invariant()
    def no_handler_failed(self) -> None:
        assert self.provider.take_errors() == []

    @invariant()
    def clocks_agree(self) -> None:
        assert self.clock.now() == self.model.now


def test_lifecycle_matches_model() -> None:
    run_state_machine_as_test(
        TokenLifecycle,
        settings=settings(
            max_examples=50,
            stateful_step_count=25,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            report_multiple_bugs=False,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
