"""Companies House web-server client built on requests-oauthlib.

Run as ``python client.py --port N`` with the ``CH_*`` environment variables described
in examples/README.md. It serves the same routes as the reference client, but leaves
every OAuth step to ``requests_oauthlib.OAuth2Session``, used the way that library's
web application flow documentation shows. Where the library's defaults differ from
what Companies House documents, a ``CH vs requests-oauthlib`` comment says so; the
client does not work around those differences, so the conformance suite sees them.
The web plumbing it shares with the Authlib client is in ``examples/library_web.py``.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2 import MismatchingStateError, OAuth2Error
from requests_oauthlib import OAuth2Session

# The suite runs this file with its own folder as the working directory, so the
# module shared with the other library client is found through the parent folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from library_web import (  # noqa: E402 - found through the path set above
    Config,
    FilingUnanswered,
    LibraryClient,
    PageError,
    profile_email,
    redact,
    run_client,
    transaction_body,
)

log = logging.getLogger("requests_oauthlib_client")

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# Exceptions the library raises for answers it cannot use, besides OAuth2Error:
# ValueError for an expires_in that is not an integer, Warning when a returned
# scope differs from the requested one (oauthlib raises the Warning class itself).
UNUSABLE_ANSWER = (requests.RequestException, ValueError, Warning)

# Both libraries log whole tokens and request bodies at DEBUG.
QUIET_LOGGERS = ("requests_oauthlib", "oauthlib")


class SignInFailed(PageError):
    """Companies House's answer to the code exchange or profile read was unusable."""

    title = "Sign-in failed"

    def __init__(self, cause: Exception) -> None:
        reason = describe_oauth_error(cause)
        super().__init__(
            f"Sign-in failed: Companies House's answer could not be used ({reason}).",
            status=424,
        )


class RequestsOAuthlibClient(LibraryClient[OAuth2Session]):
    """The library client's OAuth steps, each left to requests-oauthlib."""

    session_cookie = "ch_requests_oauthlib_session"

    def authorization_url(self, scope: list[str]) -> tuple[str, str]:
        """Start sign-in with ``authorization_url()``; return the URL and its state."""
        oauth = OAuth2Session(
            self.config.client_id, redirect_uri=self.config.redirect_uri, scope=scope
        )
        # CH vs requests-oauthlib: the scope list is joined with spaces and
        # form-encoded, so spaces travel as "+"; Companies House accepts "+" and %20.
        url, state = oauth.authorization_url(self.config.authorise_url)
        return url, state

    def complete_sign_in(
        self, session: dict[str, Any], callback_url: str
    ) -> tuple[dict[str, Any], str]:
        """Hand the full callback URL to ``fetch_token()``, as the library's docs do."""
        # CH vs requests-oauthlib: the library compares the returned state with
        # "!=" (not in constant time) and only when it was given one; it never
        # forgets a state, and the documented pattern keeps it in the session, so
        # a replayed callback reaches the token endpoint again.
        oauth = OAuth2Session(
            self.config.client_id,
            redirect_uri=self.config.redirect_uri,
            scope=session["oauth_scope"],
            state=session["oauth_state"],
        )
        token = self.fetch_token(oauth, callback_url)

        return token, self.read_profile(oauth)

    def fetch_token(self, oauth: OAuth2Session, callback_url: str) -> dict[str, Any]:
        """Exchange the code; the library parses ``error=`` and state first.

        CH vs requests-oauthlib, all defaults of ``fetch_token()``:

        * client_id and client_secret go in an HTTP Basic header, not in the form
          body that SPEC documents (the real service accepts Basic as well);
        * the HTTP status is ignored: any body is parsed, JSON first, then as a
          form-encoded string, and only a missing access_token or an ``error``
          field makes it fail;
        * Companies House sends no ``scope`` in its token answer; the library
          then takes the requested scope as granted (RFC 6749 §5.1), although the
          person may have granted less;
        * ``expires_in`` "3600" (a string, as in SPEC's example) becomes 3600, and
          an ``expires_at`` from this machine's clock is added.
        """
        try:
            token: dict[str, Any] = oauth.fetch_token(
                self.config.token_url,
                client_secret=self.config.client_secret,
                authorization_response=callback_url,
                timeout=self.config.http_timeout,
            )
        except MismatchingStateError as exc:
            raise PageError("The sign-in response belongs to another sign-in.") from exc
        except OAuth2Error as exc:
            status = 403 if exc.error == "access_denied" else 400
            message = f"Sign-in did not complete ({describe_oauth_error(exc)})."
            raise PageError(message, status=status) from exc
        except UNUSABLE_ANSWER as exc:
            raise SignInFailed(exc) from exc

        return token

    def read_profile(self, oauth: OAuth2Session) -> str:
        """Check the token at /oauth2/verify, then read the email from /user/profile."""
        timeout = self.config.http_timeout
        try:
            verified = oauth.get(self.config.verify_url, timeout=timeout)
            profile = oauth.get(self.config.profile_url, timeout=timeout)
            return profile_email(verified, profile)
        except (OAuth2Error, *UNUSABLE_ANSWER) as exc:
            raise SignInFailed(exc) from exc

    def api_session(self, session: dict[str, Any]) -> OAuth2Session:
        """Build a session that refreshes by itself, as the docs' refresh section shows.

        CH vs requests-oauthlib: automatic refresh happens only when ``expires_at``,
        computed from this machine's clock, has passed; a 401 from Companies House
        never triggers it, so ``file()`` also refreshes by hand on a 401.
        """

        def save_token(token: dict[str, Any]) -> None:
            session["oauth_token"] = token

        return OAuth2Session(
            self.config.client_id,
            token=session["oauth_token"],
            auto_refresh_url=self.config.token_url,
            # CH vs requests-oauthlib: refresh_token() sends no client credentials
            # of its own; these kwargs put them in the form body (the code exchange
            # used Basic).
            auto_refresh_kwargs={
                "client_id": self.config.client_id,
                "client_secret": self.config.client_secret,
            },
            token_updater=save_token,
        )

    def post_transaction(
        self, oauth: OAuth2Session, company: str
    ) -> requests.Response | None:
        """POST the transaction; None when an automatic refresh was refused."""
        try:
            response: requests.Response = oauth.post(
                self.config.transactions_url,
                json=transaction_body(company),
                timeout=self.config.http_timeout,
            )
        except (OAuth2Error, ValueError, Warning) as exc:
            log.info("automatic refresh refused: %s", describe_oauth_error(exc))
            return None
        except requests.RequestException as exc:
            raise FilingUnanswered(exc) from exc

        return response

    def refresh(self, oauth: OAuth2Session, session: dict[str, Any]) -> bool:
        """Refresh with ``refresh_token()``; False when Companies House refuses.

        CH vs requests-oauthlib: when the answer has no refresh_token (Companies
        House refresh tokens do not rotate) the library keeps the old one, which
        is right here. It also sends ``scope`` when the session has one; this
        session has none, as in the docs' refresh example.
        """
        try:
            session["oauth_token"] = oauth.refresh_token(
                self.config.token_url, timeout=self.config.http_timeout
            )
        except (OAuth2Error, *UNUSABLE_ANSWER) as exc:
            log.info("refresh refused: %s", describe_oauth_error(exc))
            return False

        log.info("refreshed, access token %s", redact(oauth.access_token))
        return True


def describe_oauth_error(exc: Exception) -> str:
    """Name an OAuth error by its code and description, other errors by class."""
    if isinstance(exc, OAuth2Error):
        description = (exc.description or "no description given")[:200]
        return f"{exc.error}: {description}"
    return type(exc).__name__


def allow_plain_http_on_loopback(config: Config) -> None:
    """Let oauthlib use http:// when every plain-HTTP URL configured is loopback.

    oauthlib refuses any http:// URL (RFC 6749 §3.1.2.1 and §10.9 want TLS) unless
    OAUTHLIB_INSECURE_TRANSPORT is set. The fake provider and this client talk
    plain HTTP on 127.0.0.1, so the variable is set then, and only then: it turns
    the check off for the whole process, not just for loopback.
    """
    urls = (config.identity_url, config.api_url, config.redirect_uri)
    plain = [urlsplit(url) for url in urls if url.startswith("http://")]
    if plain and all(url.hostname in LOOPBACK_HOSTS for url in plain):
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
        log.info("plain HTTP allowed for oauthlib: every http:// URL is loopback")


def make_app(config: Config) -> RequestsOAuthlibClient:
    """The app for ``config``, after oauthlib's HTTPS check is relaxed for loopback."""
    allow_plain_http_on_loopback(config)
    return RequestsOAuthlibClient(config)


def main(argv: list[str] | None = None) -> int:
    return run_client(
        argv,
        description=__doc__.splitlines()[0],
        make_app=make_app,
        quiet_loggers=QUIET_LOGGERS,
    )


if __name__ == "__main__":
    sys.exit(main())
