"""What the provider remembers: grants, codes, tokens, browser sessions, journeys.

One :class:`Store` per provider, guarded by one lock, with time from the injected
clock. Entries past their expiry are purged as new ones are made, so memory stays flat
over long runs. A *grant* is what a person approved for a client; codes and tokens
point at it, so revoking the grant revokes everything issued from it.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock

__all__ = [
    "AccessToken",
    "AuthorizationCode",
    "BrowserSession",
    "Grant",
    "Journey",
    "RefreshToken",
    "Store",
    "new_secret",
]

PURGE_INTERVAL = 30.0
MAX_TRANSACTIONS = 10_000


def new_secret(nbytes: int = 32) -> str:
    """Return an unguessable URL-safe string."""
    return secrets.token_urlsafe(nbytes)


@dataclass(kw_only=True)
class Grant:
    """What a person approved for a client: scopes, companies, redirect URI."""

    grant_id: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    companies: tuple[str, ...]
    redirect_uri: str
    expires_at: float
    revoked: bool = False
    refresh_revoked: bool = False


@dataclass(kw_only=True)
class AuthorizationCode:
    """A single-use code bound to a grant, a client and a redirect URI."""

    value: str
    grant_id: str
    client_id: str
    redirect_uri: str
    expires_at: float
    used: bool = False


@dataclass(kw_only=True)
class AccessToken:
    """A bearer token; its effective scopes are also limited by its grant's."""

    value: str
    grant_id: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float


@dataclass(kw_only=True)
class RefreshToken:
    """A refresh token; it does not rotate unless a response variant says so."""

    value: str
    grant_id: str
    client_id: str
    expires_at: float
    revoked: bool = False


@dataclass(kw_only=True)
class BrowserSession:
    """A person signed in, as remembered by a cookie."""

    session_id: str
    user_id: str
    expires_at: float


@dataclass(kw_only=True)
class Journey:
    """One authorisation request on its way through the pages."""

    journey_id: str
    client_id: str
    redirect_uri: str
    state: str | None
    scopes: tuple[str, ...]
    companies: tuple[str, ...]
    browser_id: str
    csrf_token: str
    expires_at: float
    user_id: str | None = None
    companies_done: int = 0
    failures: int = 0

    @property
    def pending_company(self) -> str | None:
        """The company whose auth code is asked for next, if any."""
        if self.companies_done < len(self.companies):
            return self.companies[self.companies_done]
        return None


@dataclass
class _Tables:
    grants: dict[str, Grant] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    sessions: dict[str, BrowserSession] = field(default_factory=dict)
    journeys: dict[str, Journey] = field(default_factory=dict)
    transactions: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)


class Store:
    """Thread-safe tables with expiry, purged as the clock moves."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._t = _Tables()
        self._next_purge = clock.now() + PURGE_INTERVAL

    def reset(self) -> None:
        """Forget everything."""
        with self.lock:
            self._t = _Tables()
            self._next_purge = self.clock.now() + PURGE_INTERVAL

    def sizes(self) -> dict[str, int]:
        """Return how many entries each table holds (for tests and benchmarks)."""
        with self.lock:
            return {name: len(table) for name, table in vars(self._t).items()}

    # Grants, codes and tokens.

    def add_grant(self, **fields: Any) -> Grant:
        """Record a new grant; ``fields`` are :class:`Grant`'s, less id and expiry."""
        grant = Grant(grant_id=new_secret(12), expires_at=self.clock.now(), **fields)
        with self.lock:
            self._maybe_purge()
            self._t.grants[grant.grant_id] = grant
        return grant

    def grant(self, grant_id: str) -> Grant | None:
        """Return a grant that has not been revoked."""
        grant = self._t.grants.get(grant_id)
        return None if grant is None or grant.revoked else grant

    def add_code(self, grant: Grant, lifetime: float) -> AuthorizationCode:
        """Issue a code for a grant."""
        code = AuthorizationCode(
            value=new_secret(24),
            grant_id=grant.grant_id,
            client_id=grant.client_id,
            redirect_uri=grant.redirect_uri,
            expires_at=self._extend(grant, lifetime),
        )
        with self.lock:
            self._t.codes[code.value] = code
        return code

    def take_code(self, value: str) -> tuple[AuthorizationCode | None, bool]:
        """Mark a live code used; return it and whether it had been used before."""
        with self.lock:
            code = self._t.codes.get(value)
            if code is None or code.expires_at <= self.clock.now():
                return None, False
            replayed, code.used = code.used, True
            return code, replayed

    def add_access_token(
        self, grant: Grant, scopes: tuple[str, ...], lifetime: float
    ) -> AccessToken:
        """Issue an access token for a grant."""
        token = AccessToken(
            value=new_secret(),
            grant_id=grant.grant_id,
            client_id=grant.client_id,
            scopes=scopes,
            expires_at=self._extend(grant, lifetime),
        )
        with self.lock:
            self._t.access[token.value] = token
        return token

    def add_refresh_token(self, grant: Grant, lifetime: float) -> RefreshToken:
        """Issue a refresh token for a grant."""
        token = RefreshToken(
            value=new_secret(),
            grant_id=grant.grant_id,
            client_id=grant.client_id,
            expires_at=self._extend(grant, lifetime),
        )
        with self.lock:
            self._t.refresh[token.value] = token
        return token

    def access_token(self, value: str) -> tuple[AccessToken, Grant] | None:
        """Return a live access token and its grant, or None."""
        with self.lock:
            token = self._t.access.get(value)
            if token is None or token.expires_at <= self.clock.now():
                return None
            grant = self.grant(token.grant_id)
            return None if grant is None else (token, grant)

    def refresh_token(self, value: str) -> tuple[RefreshToken, Grant] | None:
        """Return a live, unrevoked refresh token and its grant, or None."""
        with self.lock:
            token = self._t.refresh.get(value)
            if token is None or token.revoked or token.expires_at <= self.clock.now():
                return None
            grant = self.grant(token.grant_id)
            if grant is None or grant.refresh_revoked:
                return None
            return token, grant

    def revoke_refresh_token(self, value: str) -> None:
        """Refuse a refresh token from now on (used when refresh tokens rotate)."""
        with self.lock:
            token = self._t.refresh.get(value)
            if token is not None:
                token.revoked = True

    def revoke_grant(self, grant_id: str) -> None:
        """Revoke a grant and so every code and token issued from it."""
        with self.lock:
            grant = self._t.grants.get(grant_id)
            if grant is not None:
                grant.revoked = True

    def revoke_user(self, user_id: str) -> int:
        """Revoke every grant of a user; return how many."""
        with self.lock:
            grants = [g for g in self._t.grants.values() if g.user_id == user_id]
            for grant in grants:
                grant.revoked = True
            return len(grants)

    def withdraw_company(self, number: str) -> int:
        """Take a company's scopes out of every grant and stop their refreshes.

        What happens when the company's auth code changes: tokens stay valid for
        the grant's other scopes, but no longer for that company, and the refresh
        token is refused. Returns how many grants were touched.
        """
        marker = f"/company/{number}/"
        touched = 0
        with self.lock:
            for grant in self._t.grants.values():
                if number in grant.companies:
                    grant.scopes = tuple(s for s in grant.scopes if marker not in s)
                    grant.companies = tuple(c for c in grant.companies if c != number)
                    grant.refresh_revoked = True
                    touched += 1
        return touched

    # Browser sessions and journeys.

    def add_session(self, user_id: str, lifetime: float) -> BrowserSession:
        """Remember that a browser signed in as a user."""
        session = BrowserSession(
            session_id=new_secret(),
            user_id=user_id,
            expires_at=self.clock.now() + lifetime,
        )
        with self.lock:
            self._maybe_purge()
            self._t.sessions[session.session_id] = session
        return session

    def session(self, session_id: str) -> BrowserSession | None:
        """Return a live browser session."""
        session = self._t.sessions.get(session_id)
        if session is None or session.expires_at <= self.clock.now():
            return None
        return session

    def add_journey(self, lifetime: float, **fields: Any) -> Journey:
        """Start a journey through the pages; ``fields`` are :class:`Journey`'s."""
        journey = Journey(
            journey_id=new_secret(),
            csrf_token=new_secret(),
            expires_at=self.clock.now() + lifetime,
            **fields,
        )
        with self.lock:
            self._maybe_purge()
            self._t.journeys[journey.journey_id] = journey
        return journey

    def journey(self, journey_id: str) -> Journey | None:
        """Return a live journey."""
        journey = self._t.journeys.get(journey_id)
        if journey is None or journey.expires_at <= self.clock.now():
            return None
        return journey

    def end_journey(self, journey_id: str) -> bool:
        """Forget a journey; return whether it was still there.

        Only the caller that gets True may answer the journey, so a form
        submitted twice at once redirects once.
        """
        with self.lock:
            return self._t.journeys.pop(journey_id, None) is not None

    # The REST API's transactions.

    def add_transaction(self, transaction: dict[str, Any]) -> None:
        """Keep a transaction, dropping the oldest past a fixed number."""
        with self.lock:
            self._t.transactions[transaction["id"]] = transaction
            while len(self._t.transactions) > MAX_TRANSACTIONS:
                self._t.transactions.popitem(last=False)

    def transaction(self, transaction_id: str) -> dict[str, Any] | None:
        """Return a transaction by id."""
        return self._t.transactions.get(transaction_id)

    # Expiry.

    def _extend(self, grant: Grant, lifetime: float) -> float:
        expires_at = self.clock.now() + lifetime
        with self.lock:
            grant.expires_at = max(grant.expires_at, expires_at)
            self._maybe_purge()
        return expires_at

    def _maybe_purge(self) -> None:
        now = self.clock.now()
        if now >= self._next_purge:
            self.purge()

    def purge(self) -> None:
        """Drop every expired entry now."""
        with self.lock:
            now = self.clock.now()
            t = self._t
            for table in (
                t.grants,
                t.codes,
                t.access,
                t.refresh,
                t.sessions,
                t.journeys,
            ):
                expired = [k for k, v in table.items() if v.expires_at <= now]
                for key in expired:
                    del table[key]
            self._next_purge = now + PURGE_INTERVAL
