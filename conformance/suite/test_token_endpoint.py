"""The token endpoint failing, and answering in the shapes Companies House uses."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.scenario import Scenario, param

FAILURES = [
    pytest.param(
        "status",
        {"status": 400, "body": {"error": "invalid_grant"}},
        id="invalid_grant",
    ),
    pytest.param(
        "status",
        {"status": 401, "body": {"error": "invalid_client"}},
        id="invalid_client",
    ),
    pytest.param("status", {"status": 500}, id="500-json"),
    pytest.param("html", {"status": 500}, id="500-html"),
    pytest.param("truncated_json", {}, id="truncated-json"),
    pytest.param("invalid_json", {}, id="invalid-json"),
    pytest.param("error_200", {"error": "invalid_grant"}, id="200-with-error"),
    pytest.param("drop", {}, id="connection-dropped"),
]


def _judge_failed_sign_in(scenario: Scenario, what: str) -> None:
    signed_in, steps = scenario.signed_in()
    tokens = scenario.token_requests("authorization_code")
    scenario.judge.check(
        "token-error-not-success",
        not signed_in,
        f"{what}: the person was signed in" if signed_in else f"{what}: not signed in",
        [*tokens, *steps],
    )
    _judge_code_sent_once(scenario)


def _judge_code_sent_once(scenario: Scenario) -> None:
    tokens = scenario.token_requests("authorization_code")
    codes = [param(e, "code") for e in tokens]
    scenario.judge.check(
        "code-exchanged-once",
        len(codes) == len(set(codes)),
        f"the code was sent {len(codes)} time(s)",
        tokens,
    )


@pytest.mark.requirements("token-error-not-success", "code-exchanged-once")
@pytest.mark.parametrize(("kind", "options"), FAILURES)
def test_token_endpoint_failure(
    scenario: Scenario, kind: str, options: dict[str, Any]
) -> None:
    """The code exchange fails; the client must not sign the person in."""
    fake = scenario.require_control()
    fake.fail_next("token", kind, **options)  # type: ignore[arg-type]

    scenario.sign_in()
    scenario.settle(lambda entries: sum(e.endpoint == "token" for e in entries) > 1)

    _judge_failed_sign_in(scenario, f"token endpoint answered {kind} {options or ''}")


@pytest.mark.requirements("code-exchanged-once", "token-timeout")
def test_token_endpoint_slower_than_the_client_timeout(scenario: Scenario) -> None:
    """The token endpoint takes longer than the client's own timeout."""
    fake = scenario.require_control()
    limit = scenario.profile.http_timeout
    # The answer comes well after the limit; a client that gives up answers the
    # person at about the limit, and a margin absorbs a busy machine.
    fake.fail_next("token", "delay", seconds=limit + 2.0)

    flow = scenario.sign_in()

    gave_up = flow.client_answer is not None and flow.callback_seconds <= limit + 1.0
    scenario.judge.check(
        "token-timeout",
        gave_up,
        f"the client answered the callback after {flow.callback_seconds:.2f} s; its "
        f"timeout is {limit:g} s (client.http_timeout)",
        flow.steps[-2:],
    )
    # A client that waits longer and then signs the person in is slow, not unsafe:
    # only the SHOULD on timeouts is judged here.
    _judge_code_sent_once(scenario)


@pytest.mark.requirements("token-response-tolerant", "signed-in")
@pytest.mark.parametrize(
    "variant",
    ["scope_omitted", "expires_in_string", "token_type_lower"],
)
def test_token_response_variant_is_accepted(scenario: Scenario, variant: str) -> None:
    """Token responses shaped as Companies House documents them sign the person in."""
    fake = scenario.require_control()
    fake.fail_next("token", variant)  # type: ignore[arg-type]

    scenario.sign_in()
    signed_in, steps = scenario.signed_in()

    tokens = scenario.token_requests()
    scenario.judge.check(
        "token-response-tolerant",
        signed_in,
        f"with {variant}: {'signed in' if signed_in else 'not signed in'}",
        [*tokens, *steps],
    )
    scenario.judge.check("signed-in", signed_in, f"with {variant}", steps)
