"""Companies House web-server client built on Authlib's requests integration.

Run as ``python client.py --port N`` with the ``CH_*`` environment variables described
in examples/README.md. It serves the same routes as the reference client, but leaves
every OAuth step to ``authlib.integrations.requests_client.OAuth2Session``, used the
way Authlib's OAuth 2 session documentation shows and with the library's defaults.
Where those defaults differ from what Companies House documents, a
``CH vs Authlib`` comment says so; the client does not work around those
differences, so the conformance suite sees them. The web plumbing it shares with
the requests-oauthlib client is in ``examples/library_web.py``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import MismatchingStateException

# The suite runs this file with its own folder as the working directory, so the
# module shared with the other library client is found through the parent folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from library_web import (  # noqa: E402 - found through the path set above
    FilingUnanswered,
    LibraryClient,
    PageError,
    profile_email,
    redact,
    run_client,
    transaction_body,
)

log = logging.getLogger("authlib_client")

# What Authlib raises for answers it cannot use, besides its own errors:
# requests.HTTPError for a 5xx or a non-JSON error status, ValueError for a 200
# that is not a JSON object or an expires_in that int() rejects.
UNUSABLE_ANSWER = (AuthlibBaseError, requests.RequestException, ValueError)

# Keep library DEBUG output, which can include request bodies, switched off.
QUIET_LOGGERS = ("authlib",)


class SignInFailed(PageError):
    """The code exchange or the profile read ended in an unusable answer."""

    title = "Sign-in failed"

    def __init__(self, cause: Exception) -> None:
        reason = describe_error(cause)
        status = 403 if getattr(cause, "error", None) == "access_denied" else 424
        super().__init__(f"Sign-in did not complete ({reason}).", status=status)


class AuthlibClient(LibraryClient[OAuth2Session]):
    """The library client's OAuth steps, each left to Authlib."""

    session_cookie = "ch_authlib_session"

    def new_session(self, **kwargs: Any) -> OAuth2Session:
        """An Authlib session with this client's credentials and the library defaults.

        CH vs Authlib: with a client_secret, token_endpoint_auth_method defaults to
        client_secret_basic, so the secret travels in an HTTP Basic header rather
        than the form body SPEC documents (the real service accepts both). Authlib
        also makes no HTTPS check of its own, so plain HTTP to the fake needs no
        switch.
        """
        return OAuth2Session(
            self.config.client_id,
            self.config.client_secret,
            redirect_uri=self.config.redirect_uri,
            default_timeout=self.config.http_timeout,
            **kwargs,
        )

    def authorization_url(self, scope: list[str]) -> tuple[str, str]:
        """Start sign-in with ``create_authorization_url()``; return URL and state."""
        oauth = self.new_session(scope=" ".join(scope))
        # CH vs Authlib: spaces in the scope are form-encoded as "+"; Companies
        # House accepts "+" and %20 alike.
        url, state = oauth.create_authorization_url(self.config.authorise_url)
        return url, state

    def complete_sign_in(
        self, session: dict[str, Any], callback_url: str
    ) -> tuple[dict[str, Any], str]:
        """Hand the full callback URL to ``fetch_token()``, as Authlib's docs do."""
        oauth = self.new_session(state=session["oauth_state"])
        token = self.fetch_token(oauth, callback_url)

        return token, self.read_profile(oauth)

    def fetch_token(self, oauth: OAuth2Session, callback_url: str) -> dict[str, Any]:
        """Exchange the code from the callback URL for a token.

        CH vs Authlib, all defaults of ``fetch_token(authorization_response=...)``:

        * the URL is parsed, and state compared with "!=", only when it contains
          "code="; a callback carrying ``error=`` is not read as an error at all:
          with no code, Authlib falls back to a client_credentials grant and asks
          the token endpoint for that instead;
        * the state is never forgotten, and this session keeps it as the docs'
          pattern does, so a replayed callback reaches the token endpoint again;
        * a 200 JSON object is taken as a token without checking that it has an
          access_token; token_type is lower-cased when used, so "bearer" passes;
        * Companies House sends no ``scope`` in its token answer; Authlib records
          no scope then, and the granted scope is known only from /oauth2/verify;
        * ``expires_in`` "3600" (a string, as in SPEC's example) is passed through
          int(), and an ``expires_at`` from this machine's clock is added.
        """
        try:
            token: dict[str, Any] = oauth.fetch_token(
                self.config.token_url, authorization_response=callback_url
            )
        except MismatchingStateException as exc:
            raise PageError("The sign-in response belongs to another sign-in.") from exc
        except UNUSABLE_ANSWER as exc:
            raise SignInFailed(exc) from exc

        return token

    def read_profile(self, oauth: OAuth2Session) -> str:
        """Check the token at /oauth2/verify, then read the email from /user/profile."""
        try:
            verified = oauth.get(self.config.verify_url)
            profile = oauth.get(self.config.profile_url)
            return profile_email(verified, profile)
        except UNUSABLE_ANSWER as exc:
            raise SignInFailed(exc) from exc

    def api_session(self, session: dict[str, Any]) -> OAuth2Session:
        """Build a session that refreshes by itself, as Authlib's docs show.

        CH vs Authlib: automatic refresh happens only when ``expires_at``, from
        this machine's clock, is within ``leeway`` (60 s); a 401 from Companies
        House never triggers it, so ``file()`` also refreshes by hand on a 401.
        """

        def update_token(token: dict[str, Any], **_: Any) -> None:
            session["oauth_token"] = token

        return self.new_session(
            token=session["oauth_token"],
            token_endpoint=self.config.token_url,
            update_token=update_token,
        )

    def post_transaction(
        self, oauth: OAuth2Session, company: str
    ) -> requests.Response | None:
        """POST the transaction; None when an automatic refresh was refused."""
        try:
            response: requests.Response = oauth.post(
                self.config.transactions_url, json=transaction_body(company)
            )
        except requests.RequestException as exc:
            raise FilingUnanswered(exc) from exc
        except (AuthlibBaseError, ValueError) as exc:
            log.info("automatic refresh refused: %s", describe_error(exc))
            return None

        return response

    def refresh(self, oauth: OAuth2Session, session: dict[str, Any]) -> bool:
        """Refresh with ``refresh_token()``; False when Companies House refuses.

        CH vs Authlib: the refresh request uses client_secret_basic too and adds
        ``scope`` when the session has one (this one has none). When the answer
        has no refresh_token, as Companies House's never does, Authlib keeps the
        old one, which is right here; ``update_token`` stores the result in
        ``session``, so this method does not touch it.
        """
        try:
            oauth.refresh_token(self.config.token_url)
        except UNUSABLE_ANSWER as exc:
            log.info("refresh refused: %s", describe_error(exc))
            return False

        log.info("refreshed, access token %s", redact(oauth.token.get("access_token")))
        return True


def describe_error(exc: Exception) -> str:
    """Name an OAuth error by its code and description, other errors by class."""
    if isinstance(exc, AuthlibBaseError):
        description = (exc.description or "no description given")[:200]
        return f"{exc.error}: {description}"
    return type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    return run_client(
        argv,
        description=__doc__.splitlines()[0],
        make_app=AuthlibClient,
        quiet_loggers=QUIET_LOGGERS,
    )


if __name__ == "__main__":
    sys.exit(main())
