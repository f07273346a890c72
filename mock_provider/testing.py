"""What a test author holds: a running fake with helpers and journal assertions.

The pytest plugin hands out :class:`MockIdentity` as the ``ch_oauth`` fixture; it
works the same outside pytest around any :class:`~mock_provider.ProviderServer`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from .config import Client
from .control import Control, Decision
from .faults import Fault, FaultKind
from .journal import Exchange
from .scopes import PROFILE_SCOPE
from .server import ProviderServer

__all__ = ["Callback", "ClientSettings", "MockIdentity", "scope_for"]

ROA_SCOPE = (
    "https://api.company-information.service.gov.uk/company/{}"
    "/registered-office-address.update"
)


def scope_for(*companies: str, profile: bool = True) -> str:
    """Return a scope string: profile.read and one ROA-update scope per company."""
    scopes = [PROFILE_SCOPE] if profile else []
    scopes += [ROA_SCOPE.format(number) for number in companies]
    return " ".join(scopes)


@dataclass(frozen=True)
class ClientSettings:
    """What a client under test is configured with to talk to the fake."""

    identity_url: str
    api_url: str
    client_id: str
    client_secret: str
    redirect_uri: str

    def as_env(self, prefix: str = "CH_") -> dict[str, str]:
        """Return the settings as environment variables, ``CH_IDENTITY_URL`` etc."""
        return {f"{prefix}{k.upper()}": v for k, v in vars(self).items()}


@dataclass(frozen=True)
class Callback:
    """Where the fake sent the browser back to, and with what."""

    url: str
    code: str | None
    state: str | None
    error: str | None
    error_description: str | None

    @classmethod
    def from_url(cls, url: str) -> Callback:
        """Read the parameters of a redirect to the client."""
        query = parse_qs(urlsplit(url).query)

        def one(name: str) -> str | None:
            return query.get(name, [None])[0]

        return cls(
            url, one("code"), one("state"), one("error"), one("error_description")
        )


class MockIdentity:
    """A running fake identity service, with helpers for tests.

    :param server: the running server; its provider must have its control plane.
    """

    def __init__(self, server: ProviderServer) -> None:
        self.server = server
        self.provider = server.provider
        if self.provider.control is None:
            raise ValueError("MockIdentity needs a provider with its control plane")
        self.control: Control = self.provider.control
        self._client = self._first_client()

    def _first_client(self) -> Client:
        realm = self.provider.config.realm
        for client in self.provider.registry.clients.values():
            if client.realm == realm:
                return client
        raise ValueError(
            f"the data set has no client in the {realm} realm for the helpers to act as"
        )

    @property
    def url(self) -> str:
        """The fake's base URL: both the identity and the API URL."""
        return self.server.url

    @property
    def client(self) -> Client:
        """The client the helpers act as: the data set's first of this realm."""
        return self._client

    def use_client(self, client: Client) -> None:
        """Make the helpers act as another registered client."""
        self._client = client

    @property
    def settings(self) -> ClientSettings:
        """Identity URL, API URL, client id, secret and redirect URI for an app."""
        return ClientSettings(
            identity_url=self.url,
            api_url=self.url,
            client_id=self._client.client_id,
            client_secret=self._client.client_secret,
            redirect_uri=self._client.redirect_uris[0],
        )

    # Arranging.

    def reset(self) -> None:
        """Return the fake to its configured data with an empty journal."""
        self.control.reset()
        # A client registered at run time is gone: fall back to the data set's.
        self._client = (
            self.provider.registry.clients.get(self._client.client_id)
            or self._first_client()
        )

    def authorise_url(
        self,
        *,
        scope: str | None = None,
        state: str | None = "state-from-test",
        redirect_uri: str | None = None,
        **extra: str,
    ) -> str:
        """Return a ready ``/oauth2/authorise`` URL for the current client."""
        params = {
            "response_type": "code",
            "client_id": self._client.client_id,
            "redirect_uri": redirect_uri or self._client.redirect_uris[0],
            "scope": scope or PROFILE_SCOPE,
            "state": state,
            **extra,
        }
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.url}/oauth2/authorise?{query}"

    def authorise(
        self,
        *,
        scope: str | None = None,
        state: str | None = "state-from-test",
        user: str | None = None,
        auth_codes: dict[str, str | list[str]] | None = None,
        decision: Decision = "approve",
    ) -> Callback:
        """Authorise as arranged, without the pages, and return the redirect."""
        self.control.arrange(
            user=user,
            auth_codes=auth_codes,
            decision=decision,
        )
        response = requests.get(
            self.authorise_url(scope=scope, state=state),
            allow_redirects=False,
            timeout=10,
        )
        location = response.headers.get("Location")
        if response.status_code != 302 or location is None:
            raise AssertionError(
                f"authorise answered {response.status_code} without a redirect: "
                f"{response.text[:300]}"
            )
        return Callback.from_url(location)

    def exchange(self, code: str) -> dict[str, Any]:
        """Exchange a code for tokens as a well-behaved client; return the JSON."""
        response = requests.post(
            f"{self.url}/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self._client.redirect_uris[0],
                "client_id": self._client.client_id,
                "client_secret": self._client.client_secret,
            },
            timeout=10,
        )
        body: dict[str, Any] = response.json()
        return body

    def fail_next(
        self, endpoint: str, kind: FaultKind = "status", **options: Any
    ) -> Fault:
        """Make the next request to ``endpoint`` fail; see :meth:`Control.fault`."""
        return self.control.fault(endpoint, kind, **options)

    def advance(self, seconds: float) -> float:
        """Move the fake's clock forward."""
        return self.control.advance(seconds=seconds)

    # Observing.

    def journal(
        self, endpoint: str | None = None, *, client_id: str | None = None
    ) -> list[Exchange]:
        """Return recorded exchanges, optionally for one endpoint or client."""
        return self.control.journal(endpoint=endpoint, client_id=client_id)

    def wait_for(
        self, endpoint: str, count: int = 1, *, timeout: float = 5.0
    ) -> list[Exchange]:
        """Wait until ``endpoint`` has been called ``count`` times; return the calls.

        Ends as soon as the request arrives; fails the test after ``timeout``.
        """
        names = {endpoint, *_aliases(endpoint)}

        def enough(entries: list[Exchange]) -> bool:
            return sum(e.endpoint in names for e in entries) >= count

        if not self.provider.journal.wait_for(enough, timeout):
            raise AssertionError(
                f"expected {count} request(s) to {endpoint} within {timeout} s; "
                f"saw:\n{describe(self.journal())}"
            )
        return self.journal(endpoint)

    def assert_called(self, endpoint: str, times: int | None = None) -> list[Exchange]:
        """Assert the endpoint was called (exactly ``times`` times, if given)."""
        calls = self.journal(endpoint)
        if (times is None and not calls) or (times is not None and len(calls) != times):
            wanted = "at least once" if times is None else f"{times} time(s)"
            raise AssertionError(
                f"expected {endpoint} to be called {wanted}, it was called "
                f"{len(calls)} time(s); the journal:\n{describe(self.journal())}"
            )
        return calls

    def assert_not_called(self, endpoint: str) -> None:
        """Assert the endpoint was never called."""
        self.assert_called(endpoint, times=0)

    def assert_client_auth(self, method: str, *, endpoint: str = "token") -> None:
        """Assert every call to ``endpoint`` authenticated the client by ``method``.

        ``method`` is ``client_secret_basic``, ``client_secret_post`` (secret in the
        body), ``client_secret_query`` or ``none``.
        """
        calls = self.assert_called(endpoint)
        wrong = [e for e in calls if e.client_auth != method]
        if wrong:
            raise AssertionError(
                f"expected every {endpoint} request to use {method}; these did not:\n"
                + describe(wrong)
            )

    def assert_never_in_query(self, *names: str, endpoint: str | None = None) -> None:
        """Assert no request (to ``endpoint``, or any) carried these in its URL."""
        wrong = [e for e in self.journal(endpoint) if set(names) & set(e.query)]
        if wrong:
            raise AssertionError(
                f"{', '.join(names)} must never be sent in a URL; sent by:\n"
                + describe(wrong)
            )

    def assert_all(
        self, endpoint: str, check: Callable[[Exchange], bool], what: str
    ) -> None:
        """Assert ``check`` holds for every call to ``endpoint``; ``what`` says it."""
        wrong = [e for e in self.assert_called(endpoint) if not check(e)]
        if wrong:
            raise AssertionError(f"expected {what}; not so for:\n" + describe(wrong))


def _aliases(endpoint: str) -> set[str]:
    from .faults import ENDPOINTS

    return set(ENDPOINTS.get(endpoint, ()))


def describe(exchanges: Iterable[Exchange]) -> str:
    """Render exchanges one per line, for failure messages."""
    lines = []
    for e in exchanges:
        query = f"?{urlencode(e.query, doseq=True)}" if e.query else ""
        form = f" form={json.dumps(e.form, ensure_ascii=False)}" if e.form else ""
        auth = f" auth={e.client_auth}" if e.client_auth else ""
        lines.append(f"  #{e.seq} {e.method} {e.path}{query}{form}{auth} -> {e.status}")
    return "\n".join(lines) or "  (no requests)"
