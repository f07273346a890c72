"""Scopes that name companies: their auth codes, and using the token on them."""

from __future__ import annotations

import pytest

from conformance.scenario import Scenario
from conformance.user_agent import query_value

COMPANY = "00012345"
SECOND = "SC123456"


def _judge_companies(scenario: Scenario, companies: list[str], walk: bool) -> None:
    flow = scenario.sign_in(companies, walk_pages=walk)
    scope = query_value(flow.authorise_url, "scope") or ""
    missing = [c for c in companies if f"/company/{c}/" not in scope]
    filed = {c: scenario.api_succeeded(scenario.use_api(c)) for c in companies}
    created = [e for e in scenario.exchanges("create_transaction") if e.status == 201]

    scenario.judge.check(
        "company-scope",
        not missing and all(filed.values()) and len(created) >= len(companies),
        f"scope named {[c for c in companies if c not in missing]}, missing {missing}; "
        f"filing reported done for {[c for c, ok in filed.items() if ok]}",
        [*flow.steps[:1], *scenario.exchanges("api")],
    )


@pytest.mark.requirements("company-scope")
def test_one_company_with_its_auth_code(scenario: Scenario) -> None:
    """Sign in for one company, typing its auth code; file for it."""
    scenario.require_control()
    scenario.require_api_path()

    _judge_companies(scenario, [COMPANY], walk=True)


@pytest.mark.requirements("company-scope")
def test_several_companies_with_their_auth_codes(scenario: Scenario) -> None:
    """Sign in for two companies, each code asked in turn; file for both."""
    scenario.require_control()
    scenario.require_api_path()

    _judge_companies(scenario, [COMPANY, SECOND], walk=True)


@pytest.mark.requirements("wrong-auth-code-recovers")
def test_wrong_auth_code_then_the_right_one(scenario: Scenario) -> None:
    """The person mistypes the company's code once, then gets it right."""
    fake = scenario.require_control()
    right = fake.provider.registry.companies[COMPANY].auth_code

    flow = scenario.sign_in(
        [COMPANY], walk_pages=True, auth_codes={COMPANY: ["000000", right]}
    )
    signed_in, steps = scenario.signed_in()

    scenario.judge.check(
        "wrong-auth-code-recovers",
        signed_in,
        "signed in after a wrong code and the right one"
        if signed_in
        else "not signed in after a wrong code and the right one",
        [*flow.steps, *steps],
    )
