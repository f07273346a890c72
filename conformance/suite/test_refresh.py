"""Expiry and refresh, refresh refused, and the API refusing another company."""

from __future__ import annotations

import pytest

from conformance.scenario import Scenario, param

COMPANY = "00012345"
OTHER = "00099999"
HOUR = 3600


def _signed_in_for(scenario: Scenario, company: str) -> None:
    scenario.require_control()
    scenario.require_api_path()
    scenario.sign_in([company])
    scenario.require_signed_in()


@pytest.mark.requirements("refresh-on-expiry", "refresh-token-kept", "bearer-header")
def test_refresh_twice_after_expiry(scenario: Scenario) -> None:
    """After each expiry the client refreshes; the refresh token never changes."""
    _signed_in_for(scenario, COMPANY)
    fake = scenario.fake
    assert fake is not None

    fake.advance(HOUR + 1)
    first = scenario.api_succeeded(scenario.use_api(COMPANY))
    fake.advance(HOUR + 1)
    second = scenario.api_succeeded(scenario.use_api(COMPANY))

    refreshes = scenario.token_requests("refresh_token")
    accepted = [e for e in refreshes if e.status == 200]
    scenario.judge.check(
        "refresh-on-expiry",
        first and len(accepted) >= 1,
        f"after expiry: {len(refreshes)} refresh request(s); filing "
        f"{'succeeded' if first else 'failed'}",
        [*refreshes, *scenario.exchanges("api")],
    )
    sent = [param(e, "refresh_token") for e in refreshes]
    scenario.judge.check(
        "refresh-token-kept",
        second and len(accepted) >= 2 and len(set(sent)) == 1,
        f"second expiry: filing {'succeeded' if second else 'failed'}; refresh tokens "
        f"sent: {sent}",
        refreshes,
    )
    scenario.judge_bearer(scenario.exchanges("api"))


@pytest.mark.requirements("refresh-refused-reauthorise")
def test_refresh_refused_sends_the_person_to_sign_in(scenario: Scenario) -> None:
    """The person's grants are revoked: the refresh fails, so sign in again."""
    _signed_in_for(scenario, COMPANY)
    fake = scenario.fake
    assert fake is not None
    user = next(iter(fake.provider.registry.users))
    fake.control.revoke_user(user_id=user)

    steps = scenario.use_api(COMPANY)

    refreshes = scenario.token_requests("refresh_token")
    to_provider = [
        s
        for s in steps
        if s.is_redirect
        and (s.location or "").startswith(
            scenario.target.identity_url + "/oauth2/authorise"
        )
    ]
    scenario.judge.check(
        "refresh-refused-reauthorise",
        bool(to_provider),
        "the browser was sent back to /oauth2/authorise"
        if to_provider
        else f"the client answered {steps[-1].status} and did not send the person to "
        "sign in",
        [*refreshes, *steps],
    )


@pytest.mark.requirements("api-refusal-handled")
def test_api_refuses_a_token_for_another_company(scenario: Scenario) -> None:
    """The token names one company; the client is asked to file for another."""
    _signed_in_for(scenario, COMPANY)

    steps = scenario.use_api(OTHER)

    claimed = scenario.api_succeeded(steps)
    scenario.judge.check(
        "api-refusal-handled",
        not claimed and steps[-1].status < 500,
        f"the client answered {steps[-1].status}"
        + (" and reported the filing done" if claimed else ""),
        [*scenario.exchanges("api"), *steps],
    )
