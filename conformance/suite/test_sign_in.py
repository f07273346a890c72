"""The happy path: a person signs in, and the client does every step right."""

from __future__ import annotations

import pytest

from conformance.scenario import Scenario, param, state_entropy_bits
from conformance.user_agent import query_value, shorten_url
from mock_provider.journal import redact


@pytest.mark.requirements(
    "authorise-request",
    "state-present",
    "state-unguessable",
    "redirect-uri-identical",
    "secret-not-in-url",
    "token-request",
    "code-exchanged-once",
    "signed-in",
    "profile-read",
    "bearer-header",
    "oauth2-paths",
    "client-auth-method",
    "verify-used",
)
def test_sign_in_walking_the_pages(scenario: Scenario) -> None:
    """Walk sign-in and consent by hand; judge every request the client made."""
    flow = scenario.sign_in(walk_pages=True)
    scenario.settle(lambda entries: any(e.endpoint == "profile" for e in entries))
    signed_in, steps = scenario.signed_in()

    judge = scenario.judge
    url = flow.authorise_url
    judge.check(
        "authorise-request",
        url is not None
        and url.startswith(scenario.target.identity_url + "/oauth2/authorise?")
        and query_value(url, "response_type") == "code"
        and query_value(url, "client_id") == scenario.target.client_id
        and query_value(url, "redirect_uri") == scenario.client.redirect_uri
        and flow.callback_url is not None,
        f"the client sent the browser to {shorten_url(url)!r}"
        if url
        else "the client did not redirect to /oauth2/authorise",
        flow.steps[:2],
    )
    state = flow.state or ""
    judge.check("state-present", bool(state), f"state={state[:6]!r}…", flow.steps[:1])
    bits = state_entropy_bits(state)
    judge.check(
        "state-unguessable", bits >= 128, f"about {bits:.0f} bits of randomness"
    )
    _judge_secret(scenario)
    judge.check(
        "signed-in",
        signed_in,
        "the success page showed the person signed in"
        if signed_in
        else "the success page did not show the person signed in",
        steps,
    )
    if scenario.fake is None:
        # The rest can only be read from the fake's journal.
        judge.skip_unjudged(scenario.target.no_control_reason)
        return
    _judge_token_request(scenario, flow.code, query_value(url, "redirect_uri"))
    _judge_resource_calls(scenario)


def _judge_secret(scenario: Scenario) -> None:
    secret = scenario.target.client_secret
    in_urls = [
        e
        for e in scenario.exchanges()
        if "client_secret" in e.query
        or any(secret in v for vs in e.query.values() for v in vs)
    ]
    seen = scenario.browser.saw_text(secret)
    scenario.judge.check(
        "secret-not-in-url",
        not in_urls and not seen,
        "the secret appeared in a URL or a page the browser saw"
        if in_urls or seen
        else "never in a URL or a browser-visible place",
        [*in_urls, *seen],
    )


def _judge_token_request(
    scenario: Scenario, code: str | None, redirect_uri: str | None
) -> None:
    judge = scenario.judge
    requests = scenario.token_requests("authorization_code")
    good = [e for e in requests if e.status == 200]
    judge.check(
        "token-request",
        len(good) >= 1 and all(e.method == "POST" for e in requests),
        f"{len(requests)} code exchange(s), {len(good)} accepted",
        requests or scenario.exchanges(),
    )
    if code is None or not requests:
        reason = (
            "no code was issued to exchange (see authorise-request)"
            if code is None
            else "the client sent no code exchange (see token-request)"
        )
        judge.skip("code-exchanged-once", reason)
        judge.skip("redirect-uri-identical", reason)
    else:
        same_code = [e for e in requests if param(e, "code") == redact(code)]
        judge.check(
            "code-exchanged-once",
            len(same_code) <= 1,
            f"the code was sent {len(same_code)} time(s)",
            same_code,
        )
        sent = [param(e, "redirect_uri") for e in requests]
        judge.check(
            "redirect-uri-identical",
            all(s == redirect_uri for s in sent),
            f"authorise had {redirect_uri!r}; the token request had {sent}",
            requests,
        )
    methods = sorted({e.client_auth or "none" for e in requests})
    judge.info(
        "client-auth-method", f"client authentication: {', '.join(methods)}", requests
    )


def _judge_resource_calls(scenario: Scenario) -> None:
    judge = scenario.judge
    profile_calls = scenario.exchanges("profile")
    judge.check(
        "profile-read",
        any(e.status == 200 for e in profile_calls),
        f"{len(profile_calls)} call(s) to /user/profile",
        profile_calls,
    )
    scenario.judge_bearer([*profile_calls, *scenario.exchanges("api")])
    aliases = [e for e in scenario.exchanges() if e.path.startswith("/oauth/")]
    judge.check(
        "oauth2-paths",
        not aliases,
        "used the /oauth/ aliases" if aliases else "only /oauth2/ paths",
        aliases,
    )
    verify = scenario.exchanges("verify")
    judge.info(
        "verify-used",
        f"{len(verify)} call(s) to /oauth2/verify, "
        f"statuses {[e.status for e in verify]}"
        if verify
        else "the client does not call /oauth2/verify",
        verify,
    )


@pytest.mark.requirements("state-unique", "state-present")
def test_state_differs_each_sign_in(scenario: Scenario) -> None:
    """Two sign-ins started one after the other carry two different states."""
    first = scenario.browser.visit(scenario.login_url())
    second_browser_steps = scenario.browser.visit(scenario.login_url())

    states = [
        query_value(s[-1].location, "state") for s in (first, second_browser_steps)
    ]
    scenario.judge.check(
        "state-present", all(states), f"states present: {[bool(s) for s in states]}"
    )
    if not all(states):
        scenario.judge.skip("state-unique", "no state to compare (see state-present)")
        return
    scenario.judge.check(
        "state-unique",
        states[0] != states[1],
        "two sign-ins used the same state"
        if states[0] == states[1]
        else "each sign-in had its own state",
        [first[-1], second_browser_steps[-1]],
    )
