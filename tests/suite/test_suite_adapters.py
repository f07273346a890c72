"""Python adapters: one that finishes sign-in on a thread after answering the callback
is judged on what it does within the grace period; one without the methods is
refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from suite_support import CLIENT_START_FAILED, run_suite, write_profile

from conformance.adapter import AdapterClient
from conformance.drivers import ClientStartError

# Both adapters answer the callback at once and exchange the code a moment later on
# a thread, as a client handing the exchange to a task queue would.
BACKGROUND_ADAPTERS = '''\
"""Adapters that exchange the code on a thread after answering the callback."""

import secrets
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from conformance.adapter import Refused

PROFILE_SCOPE = "https://identity.company-information.service.gov.uk/user/profile.read"


class LateExchange:
    """Checks the state, then exchanges the code and reads the profile later."""

    delay = 0.4
    check_state = True

    def configure(self, settings):
        self.settings = dict(settings)

    def start_sign_in(self, companies):
        state = secrets.token_urlsafe(32)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings["client_id"],
                "redirect_uri": self.settings["redirect_uri"],
                "scope": PROFILE_SCOPE,
                "state": state,
            }
        )
        return f"{self.settings['identity_url']}/oauth2/authorise?{query}", state

    def finish_sign_in(self, pending, callback_url):
        query = {k: v[0] for k, v in parse_qs(urlsplit(callback_url).query).items()}
        if self.check_state and query.get("state") != pending:
            raise Refused("the state does not match")
        if "code" not in query:
            raise Refused("no code")
        threading.Thread(
            target=self._exchange, args=(query["code"],), daemon=True
        ).start()
        return "demo@example.com"

    def _exchange(self, code):
        time.sleep(self.delay)
        identity = self.settings["identity_url"]
        tokens = requests.post(
            f"{identity}/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.settings["redirect_uri"],
                "client_id": self.settings["client_id"],
                "client_secret": self.settings["client_secret"],
            },
            timeout=5,
        ).json()
        requests.get(
            f"{identity}/user/profile",
            headers={"Authorization": f"Bearer {tokens.get('access_token')}"},
            timeout=5,
        )

    def email(self, session):
        return session

    def file(self, session, company_number):
        raise Refused("filing is not part of this adapter")


class UncheckedState(LateExchange):
    """Exchanges whatever code arrives, whatever the state says."""

    delay = 0.1
    check_state = False
'''
HOLLOW_ADAPTER = """\
class Hollow:
    def configure(self, settings):
        pass
"""


def _adapter_profile(tmp_path: Path, module: str, source: str, name: str) -> Path:
    """A profile for the adapter class ``name``, defined in ``source``."""
    (tmp_path / f"{module}.py").write_text(source, encoding="utf-8")
    document = {
        "client": {"adapter": f"{module}:{name}"},
        "success": {"path": "/me", "text": "Signed in as"},
    }
    return write_profile(tmp_path / "profile.toml", document)


@pytest.mark.parametrize(
    ("grace", "verdict", "returncode"),
    [
        pytest.param("1.0", "pass", pytest.ExitCode.OK, id="longer-than-the-delay"),
        pytest.param("0", "fail", pytest.ExitCode.TESTS_FAILED, id="none"),
    ],
)
def test_background_token_request_counts_within_the_grace(
    tmp_path: Path, grace: str, verdict: str, returncode: int
) -> None:
    profile = _adapter_profile(
        tmp_path, "background_adapters", BACKGROUND_ADAPTERS, "LateExchange"
    )

    run = run_suite(
        tmp_path / "run", "--client", profile, "--grace", grace, "-k", "walking"
    )

    assert run.returncode == returncode, run.output
    assert run.verdicts()["token-request"] == verdict
    assert run.verdicts()["signed-in"] == "pass"


def test_background_exchange_after_a_tampered_state_is_caught_within_the_grace(
    tmp_path: Path,
) -> None:
    profile = _adapter_profile(
        tmp_path, "background_adapters", BACKGROUND_ADAPTERS, "UncheckedState"
    )

    run = run_suite(
        tmp_path / "run", "--client", profile, "--grace", "0.5", "-k", "bad_state"
    )

    assert run.returncode == pytest.ExitCode.TESTS_FAILED
    checks = run.requirement("state-checked")["checks"]
    assert [c["outcome"] for c in checks] == ["fail", "fail"]
    assert all("1 token request(s) followed" in c["detail"] for c in checks)


def test_adapter_without_the_methods_is_refused() -> None:
    class Hollow:
        def configure(self, settings: object) -> None:
            pass

    with pytest.raises(ClientStartError) as caught:
        AdapterClient(Hollow(), {})

    assert str(caught.value) == (
        "Hollow lacks the ClientAdapter methods "
        "(configure, start_sign_in, finish_sign_in, email, file)"
    )


def test_adapter_without_the_methods_stops_the_run_with_the_reason(
    tmp_path: Path,
) -> None:
    profile = _adapter_profile(tmp_path, "hollow_adapter", HOLLOW_ADAPTER, "Hollow")

    run = run_suite(tmp_path / "run", "--client", profile)

    assert run.returncode == CLIENT_START_FAILED
    assert run.output.count("Hollow lacks the ClientAdapter methods") == 1
