"""A Python adapter around the reference client's Companies House calls.

It shows the shape the suite expects of a library client (conformance.adapter
.ClientAdapter): no web app, just the steps of the flow as methods.
"""

from __future__ import annotations

import hmac
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from conformance.adapter import Refused, SignInAgain

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reference"))
import companies_house as ch  # noqa: E402 - found through the path set above


@dataclass
class Session:
    """What the adapter keeps for a signed-in person."""

    tokens: ch.TokenSet
    email: str


class ReferenceAdapter:
    """The reference client's logic behind the adapter methods."""

    config: ch.Config

    def configure(self, settings: Mapping[str, str]) -> None:
        """Keep the suite's settings as the client's configuration."""
        self.config = ch.Config(
            identity_url=settings["identity_url"].rstrip("/"),
            api_url=settings["api_url"].rstrip("/"),
            client_id=settings["client_id"],
            client_secret=settings["client_secret"],
            redirect_uri=settings["redirect_uri"],
            http_timeout=float(settings["http_timeout"]),
        )

    def start_sign_in(self, companies: Sequence[str]) -> tuple[str, str]:
        """Return the authorisation URL; keep the state until the callback."""
        state = secrets.token_urlsafe(32)
        scope = ch.create_scope(list(companies))
        return ch.create_authorise_url(self.config, scope, state), state

    def finish_sign_in(self, pending: str, callback_url: str) -> Session:
        """Check the state, exchange the code and read the profile."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(callback_url).query).items()}
        if not hmac.compare_digest(query.get("state", ""), pending):
            raise Refused("the state does not match")
        if "error" in query:
            raise Refused(f"sign-in failed: {query['error'][:40]}")
        try:
            tokens = ch.request_token(
                self.config,
                {
                    "grant_type": "authorization_code",
                    "code": query.get("code", ""),
                    "redirect_uri": self.config.redirect_uri,
                },
            )
            return Session(tokens, ch.fetch_email(self.config, tokens.access_token))
        except ch.ServiceError as exc:
            raise Refused(str(exc)) from exc

    def email(self, session: Session) -> str:
        """The signed-in person's email."""
        return session.email

    def file(self, session: Session, company_number: str) -> str:
        """File for a company, refreshing once on a 401."""
        try:
            response = ch.create_transaction(
                self.config, session.tokens.access_token, company_number
            )
            if response.status_code == 401:
                session.tokens = self._refresh(session.tokens)
                response = ch.create_transaction(
                    self.config, session.tokens.access_token, company_number
                )
        except ch.ServiceError as exc:
            raise Refused(str(exc)) from exc
        if response.status_code != 201:
            raise Refused(f"the API answered {response.status_code}")
        return str(response.json().get("id", ""))

    def _refresh(self, tokens: ch.TokenSet) -> ch.TokenSet:
        if tokens.refresh_token is None:
            raise SignInAgain
        try:
            fresh = ch.request_token(
                self.config,
                {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
            )
        except ch.ServiceError as exc:
            raise SignInAgain from exc
        if fresh.refresh_token is None:
            fresh = ch.TokenSet(
                access_token=fresh.access_token,
                refresh_token=tokens.refresh_token,
                expires_in=fresh.expires_in,
            )
        return fresh
