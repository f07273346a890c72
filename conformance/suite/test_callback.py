"""What comes back to the redirect URI: errors, and state that does not match."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.scenario import Scenario
from conformance.user_agent import Browser, with_query


def _no_exchange(
    scenario: Scenario, requirement: str, what: str, browser: Browser | None = None
) -> None:
    """Judge that no code was exchanged and the person is not signed in."""
    exchanged = scenario.settle_on_token_request()
    signed_in, steps = scenario.signed_in(browser)
    if scenario.fake is None:
        scenario.judge.check(
            requirement,
            not signed_in,
            f"{what}: not signed in (token requests cannot be seen on this target)"
            if not signed_in
            else f"{what}: the person was signed in",
            steps,
        )
        return
    tokens = scenario.token_requests()
    callbacks = [
        s
        for s in (browser or scenario.browser).steps
        if s.url.startswith(scenario.client.redirect_uri)
    ]
    scenario.judge.check(
        requirement,
        not exchanged and not signed_in,
        f"{what}: {len(tokens)} token request(s) followed; "
        f"{'signed in' if signed_in else 'not signed in'}",
        [*callbacks, *tokens, *steps],
    )


@pytest.mark.requirements("callback-error-handled")
def test_person_declines(scenario: Scenario) -> None:
    """The person declines on the consent page: error=access_denied comes back."""
    scenario.require_control()

    scenario.sign_in(decision="decline")

    _no_exchange(scenario, "callback-error-handled", "after error=access_denied")


@pytest.mark.requirements("callback-error-handled")
def test_error_in_callback(scenario: Scenario) -> None:
    """The service sends the person back with error=server_error and the state."""

    def as_error(url: str) -> str:
        return with_query(
            url,
            code=None,
            error="server_error",
            error_description="arranged by the suite",
        )

    scenario.sign_in(tamper=as_error) if scenario.fake else _remote_error(scenario)

    _no_exchange(scenario, "callback-error-handled", "after error=server_error")


def _remote_error(scenario: Scenario) -> None:
    steps = scenario.browser.visit(scenario.login_url())
    state = (steps[-1].location or "").partition("state=")[2].split("&")[0]
    scenario.browser.visit(
        with_query(
            scenario.client.redirect_uri, error="server_error", state=state or None
        )
    )


@pytest.mark.requirements("state-checked")
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda s: "x" + (s or ""), id="changed"),
        pytest.param(lambda s: None, id="missing"),
    ],
)
def test_callback_with_bad_state_is_refused(
    scenario: Scenario, change: Callable[[str | None], str | None]
) -> None:
    """A callback whose state was changed or removed must not be exchanged."""
    scenario.require_control()

    def tamper(url: str) -> str:
        from conformance.user_agent import query_value

        return with_query(url, state=change(query_value(url, "state")))

    scenario.sign_in(tamper=tamper)

    _no_exchange(scenario, "state-checked", "after a tampered state")


@pytest.mark.requirements("state-checked", "code-exchanged-once")
def test_replayed_callback_is_refused(scenario: Scenario) -> None:
    """The same callback delivered twice is exchanged at most once."""
    fake = scenario.require_control()
    flow = scenario.sign_in()
    scenario.settle(lambda entries: any(e.endpoint == "token" for e in entries))
    before = len(scenario.token_requests())

    scenario.browser.visit(flow.callback_url or "")
    again = scenario.settle(
        lambda entries: sum(e.endpoint == "token" for e in entries) > before
    )

    tokens = fake.journal("token")
    scenario.judge.check(
        "state-checked",
        not again,
        f"the replayed callback led to {len(tokens) - before} more token request(s)",
        tokens,
    )
    scenario.judge.check(
        "code-exchanged-once",
        len(tokens) <= 1,
        f"the code was sent {len(tokens)} time(s)",
        tokens,
    )


@pytest.mark.requirements("state-checked")
def test_callback_in_another_browser_is_refused(scenario: Scenario) -> None:
    """A callback arriving in a browser that did not start the sign-in (login CSRF)."""
    scenario.require_control()
    flow = scenario.sign_in(tamper=lambda url: None)
    other = Browser(
        scenario.client.base_url,
        scenario.target.identity_url,
        scenario.client.redirect_uri,
    )

    other.visit(flow.callback_url or "")

    _no_exchange(
        scenario, "state-checked", "after a callback in another browser", other
    )
    scenario.browser.steps += other.steps
    other.close()
