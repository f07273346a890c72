"""What a conformance test holds: the client, the provider, a browser and a judge."""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn
from urllib.parse import urlencode

import pytest

from mock_provider.control import Decision
from mock_provider.journal import Exchange
from mock_provider.testing import MockIdentity

from .drivers import RunningClient
from .judge import Judge, explain
from .profile import ClientProfile
from .user_agent import Browser, Flow, Person, Step

__all__ = [
    "Scenario",
    "Target",
    "param",
    "state_entropy_bits",
]

TOKEN = "token"


@dataclass
class Target:
    """The identity service the suite runs against."""

    name: str
    identity_url: str
    api_url: str
    client_id: str
    client_secret: str
    identity: MockIdentity | None = None
    no_control_reason: str = ""
    person: Callable[[], Person] = Person
    via: Callable[[str], str | None] | None = None
    companies: dict[str, str] = field(default_factory=dict)


class Scenario:
    """Drives one scenario and records verdicts on the requirements it names."""

    def __init__(
        self,
        *,
        profile: ClientProfile,
        client: RunningClient,
        target: Target,
        judge: Judge,
        grace: float,
    ) -> None:
        self.profile = profile
        self.client = client
        self.target = target
        self.judge = judge
        self.grace = grace
        self.browser = Browser(
            client.base_url, target.identity_url, client.redirect_uri
        )
        self.fake = target.identity

    # Preconditions.

    def require_control(self) -> MockIdentity:
        """Return the fake's control, or skip: only the fake can arrange this."""
        if self.fake is None:
            self.skip_all(self.target.no_control_reason)
        return self.fake

    def require_signed_in(self) -> None:
        """Skip unless the client shows the person signed in: what the scenario
        checks next can only be judged from there."""
        signed_in, _ = self.signed_in()
        if not signed_in:
            reason = (
                "the client did not show the person signed in, so this scenario "
                "could not reach what it checks (see signed-in)"
            )
            self.skip_all(reason)

    def require_api_path(self) -> str:
        """Return the profile's API path, or skip with the reason."""
        if self.profile.api_path is None:
            reason = (
                f"{self.profile.path} has no [api] path to make the client use "
                "its token"
            )
            self.skip_all(reason)
        return self.profile.api_path

    def skip_all(self, reason: str) -> NoReturn:
        """Report every requirement of the scenario as not checked, and skip it."""
        for name in self.judge.names:
            self.judge.skip(name, reason)
        pytest.skip(reason)

    # Acting as the person.

    def login_url(self, companies: Sequence[str] = ()) -> str:
        """The client URL that starts sign-in for these companies."""
        url = self.client.base_url + self.profile.login_path
        if companies:
            query = urlencode([("company", c) for c in companies])
            url += ("&" if "?" in url else "?") + query
        return url

    def sign_in(
        self,
        companies: Sequence[str] = (),
        *,
        decision: Decision = "approve",
        auth_codes: dict[str, list[str]] | None = None,
        walk_pages: bool = False,
        tamper: Callable[[str], str | None] | None = None,
    ) -> Flow:
        """Sign in at the client: arranged on the fake, else through the pages."""
        person: Person | None = None
        via = None
        if self.fake is not None and not walk_pages:
            self.fake.control.arrange(auth_codes=auth_codes, decision=decision)
        elif self.target.via is not None:
            via = self.target.via
        else:
            person = self.target.person()
            person.decision = decision
            person.auth_codes = {
                number: list((auth_codes or {}).get(number, [code]))
                for number, code in self.target.companies.items()
            }
        flow = self.browser.sign_in(self.login_url(companies), person, tamper, via)
        if via is not None and flow.authorise_url and flow.callback_url is None:
            self.skip_all(
                "no callback address was given by the person signing in in time "
                "(--sign-in-timeout)"
            )
        return flow

    def signed_in(self, browser: Browser | None = None) -> tuple[bool, list[Step]]:
        """Whether the client's success page shows the person signed in."""
        browser = browser or self.browser
        steps = browser.visit(self.client.base_url + self.profile.success_path)
        last = steps[-1]
        ok = last.status == 200 and (
            self.profile.success_text is None or self.profile.success_text in last.text
        )
        return ok, steps

    def use_api(self, company: str) -> list[Step]:
        """Ask the client to use its token on a company; return what the browser saw."""
        path = self.require_api_path().replace("{company_number}", company)
        return self.browser.visit(self.client.base_url + path)

    def api_succeeded(self, steps: Sequence[Step]) -> bool:
        """Whether the client reported the API call as done."""
        last = steps[-1]
        if not 200 <= last.status < 300:
            return False
        return self.profile.api_text is None or self.profile.api_text in last.text

    # Reading the provider's record.

    def exchanges(self, endpoint: str | None = None) -> list[Exchange]:
        """The fake's journal for this test (empty when there is no fake)."""
        if self.fake is None:
            return []
        return self.fake.journal(endpoint)

    def token_requests(self, grant_type: str | None = None) -> list[Exchange]:
        """Token requests, optionally of one grant type."""
        return [
            e
            for e in self.exchanges(TOKEN)
            if grant_type is None or param(e, "grant_type") == grant_type
        ]

    def settle(self, done: Callable[[list[Exchange]], bool] | None = None) -> bool:
        """Give a client acting in the background the grace period, or less.

        Ends as soon as ``done`` holds over the journal; returns whether it did.
        """
        if self.fake is None:
            return False
        check = done or (lambda entries: False)
        return self.fake.provider.journal.wait_for(check, self.grace)

    def settle_on_token_request(self) -> bool:
        """Wait out the grace period unless a token request arrives first."""
        return self.settle(lambda entries: any(e.endpoint == TOKEN for e in entries))

    # Verdicts.

    def judge_bearer(self, calls: Sequence[Exchange]) -> None:
        """Judge ``bearer-header`` on calls to the profile or the API."""
        if not calls:
            self.judge.skip("bearer-header", "the client made no profile or API call")
            return
        in_url = [e for e in calls if {"access_token", "access-token"} & set(e.query)]
        no_header = [
            e
            for e in calls
            if not e.headers.get("Authorization", "").lower().startswith("bearer ")
        ]
        wrong = in_url + [e for e in no_header if e not in in_url]
        self.judge.check(
            "bearer-header",
            not wrong,
            f"{len(wrong)} of {len(calls)} call(s) without the Bearer header or with "
            "the token in the URL"
            if wrong
            else f"Bearer header on all {len(calls)} call(s)",
            wrong or calls,
        )

    def finish(self) -> None:
        """Check the person never saw a 5xx, then fail on any MUST failure."""
        errors = self.browser.saw_server_error()
        self.judge.check(
            "no-server-error",
            not errors,
            "the client answered with a 5xx or a traceback" if errors else "none seen",
            errors,
        )
        failures = self.judge.failures("MUST")
        if failures:
            pytest.fail(explain(failures), pytrace=False)


def param(exchange: Exchange, name: str) -> str | None:
    """A parameter of a request, from its form body or its query."""
    for source in (exchange.form, exchange.query):
        values = source.get(name)
        if values:
            return values[0]
    return None


def state_entropy_bits(state: str) -> float:
    """A generous estimate of a state's randomness from its length and alphabet."""
    if not state:
        return 0.0
    alphabets: Iterable[str] = (
        string.digits,
        "0123456789abcdef",
        "0123456789ABCDEF",
        string.ascii_letters + string.digits,
        string.ascii_letters + string.digits + "-_",
        string.ascii_letters + string.digits + "+/=",
    )
    size = next((len(a) for a in alphabets if set(state) <= set(a)), 95)
    distinct = len(set(state))
    if distinct < min(8, len(state)):
        size = min(size, distinct)
    return len(state) * math.log2(max(size, 2))
