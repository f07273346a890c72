"""Fixtures for the control-plane tests: the test plays the client app.

The fake is the pytest plugin's ``ch_oauth`` fixture, reset before every test. The
``app`` fixture sends the requests a well-behaved client would, with plain
``requests``, so each test reads as "arrange the fake, act as the app, assert".
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from mock_provider.testing import MockIdentity, scope_for

TIMEOUT = 10
COMPANY = "00012345"
COMPANY_CODE = "222222"
OTHER_COMPANY = "00099999"


class App:
    """A client application of the fake, reduced to the requests it sends."""

    def __init__(self, identity: MockIdentity) -> None:
        self.identity = identity
        self.url = identity.url

    def tokens(self, scope: str | None = None, **authorise: Any) -> dict[str, Any]:
        """Authorise as arranged and exchange the code; return the token response."""
        callback = self.identity.authorise(scope=scope, **authorise)
        assert callback.code is not None, callback
        response = self.token(
            grant_type="authorization_code",
            code=callback.code,
            redirect_uri=self.identity.settings.redirect_uri,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def company_tokens(self, number: str = COMPANY) -> dict[str, Any]:
        """Tokens for profile.read and one company's registered office address."""
        return self.tokens(scope=scope_for(number))

    def token(self, **params: str) -> requests.Response:
        """POST the token endpoint with the client's credentials in the body."""
        settings = self.identity.settings
        return requests.post(
            f"{self.url}/oauth2/token",
            data={
                **params,
                "client_id": settings.client_id,
                "client_secret": settings.client_secret,
            },
            timeout=TIMEOUT,
        )

    def refresh(self, refresh_token: str) -> requests.Response:
        """Ask for a new access token with a refresh token."""
        return self.token(grant_type="refresh_token", refresh_token=refresh_token)

    def verify(self, access_token: str) -> requests.Response:
        """Ask the fake what an access token is."""
        return requests.get(
            f"{self.url}/oauth2/verify",
            params={"access_token": access_token},
            timeout=TIMEOUT,
        )

    def profile(self, access_token: str) -> requests.Response:
        """Read the signed-in person's profile."""
        return requests.get(
            f"{self.url}/user/profile",
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=TIMEOUT,
        )

    def create_transaction(
        self, access_token: str, company_number: str = COMPANY
    ) -> requests.Response:
        """Open a filing transaction on the REST API."""
        return requests.post(
            f"{self.url}/transactions",
            json={"company_number": company_number, "description": "test filing"},
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=TIMEOUT,
        )

    def walk_pages(
        self,
        *,
        scope: str,
        auth_code: str = COMPANY_CODE,
        email: str = "demo@example.com",
        password: str = "password",
        browser: requests.Session | None = None,
    ) -> requests.Response:
        """Walk sign-in, a company's auth code (if asked) and consent like a browser.

        Returns the consent page's answer: the redirect to the client.
        """
        browser = browser or requests.Session()
        page = browser.get(
            self.identity.authorise_url(scope=scope), allow_redirects=False
        )
        assert page.status_code == 200, page.text
        journey = dict(
            re.findall(r'name="(journey|csrf_token)" value="([^"]+)"', page.text)
        )
        steps = [("signin", {"email": email, "password": password})]
        if "/company/" in scope:
            steps.append(
                ("company-auth-code", {"auth_code": auth_code, "action": "continue"})
            )
        steps.append(("consent", {"decision": "approve"}))
        for path, form in steps:
            page = browser.post(
                f"{self.url}/oauth2/authorise/{path}",
                data={**journey, **form},
                allow_redirects=False,
                timeout=TIMEOUT,
            )
        return page

    def call(self, endpoint: str) -> requests.Response:
        """Send one request that would succeed to a fault endpoint's name."""
        if endpoint == "authorise":
            self.identity.control.arrange()
            return requests.get(
                self.identity.authorise_url(), allow_redirects=False, timeout=TIMEOUT
            )
        if endpoint == "token":
            callback = self.identity.authorise()
            assert callback.code is not None
            return self.token(
                grant_type="authorization_code",
                code=callback.code,
                redirect_uri=self.identity.settings.redirect_uri,
            )
        access_token = self.company_tokens()["access_token"]
        if endpoint == "verify":
            return self.verify(access_token)
        if endpoint == "profile":
            return self.profile(access_token)
        assert endpoint == "api", endpoint
        return self.create_transaction(access_token)


@pytest.fixture
def app(ch_oauth: MockIdentity) -> App:
    """The client under test, played by the test against the reset fake."""
    return App(ch_oauth)
