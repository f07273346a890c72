"""Companies House web-server client built on requests-oauthlib.

Run as ``python client.py --port N`` with the ``CH_*`` environment variables described
in examples/README.md. It serves the same routes as the reference client, but leaves
every OAuth step to ``requests_oauthlib.OAuth2Session``, used the way that library's
web application flow documentation shows. Where the library's defaults differ from
what Companies House documents, a ``CH vs requests-oauthlib`` comment says so; the
client does not work around those differences, so the conformance suite sees them.
"""

from __future__ import annotations

import argparse
import html
import logging
import os
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2 import MismatchingStateError, OAuth2Error
from requests_oauthlib import OAuth2Session
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("requests_oauthlib_client")

PROFILE_SCOPE = "https://identity.company-information.service.gov.uk/user/profile.read"
ROA_SCOPE = (
    "https://api.company-information.service.gov.uk/company/"
    "{company_number}/registered-office-address.update"
)
REQUIRED_VARIABLES = (
    "CH_IDENTITY_URL",
    "CH_API_URL",
    "CH_CLIENT_ID",
    "CH_CLIENT_SECRET",
    "CH_REDIRECT_URI",
)
SESSION_COOKIE = "ch_requests_oauthlib_session"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_COMPANY_NUMBER = re.compile(r"^[A-Za-z0-9]{1,16}$")
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{message}</p></body></html>
"""

# Exceptions the library raises for answers it cannot use, besides OAuth2Error:
# ValueError for an expires_in that is not an integer, Warning when a returned
# scope differs from the requested one (oauthlib raises the Warning class itself).
UNUSABLE_ANSWER = (requests.RequestException, ValueError, Warning)

View = Callable[[Request], Response]


class ConfigError(Exception):
    """The environment does not describe a usable client."""


class PageError(Exception):
    """A failure explained to the person on an HTML page, always with a 4xx status."""

    title = "Request refused"

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class SignInFailed(PageError):
    """Companies House's answer to the code exchange or profile read was unusable."""

    title = "Sign-in failed"

    def __init__(self, cause: Exception) -> None:
        reason = describe_oauth_error(cause)
        super().__init__(
            f"Sign-in failed: Companies House's answer could not be used ({reason}).",
            status=424,
        )


@dataclass(frozen=True, kw_only=True)
class Config:
    """Where Companies House lives and who this client is, read once at start."""

    identity_url: str
    api_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    http_timeout: float

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Config:
        """Build the configuration from ``CH_*`` variables or raise ConfigError."""
        missing = [name for name in REQUIRED_VARIABLES if not environ.get(name)]
        if missing:
            raise ConfigError(f"missing environment variables: {', '.join(missing)}")
        try:
            timeout = float(environ.get("CH_HTTP_TIMEOUT") or "5")
        except ValueError:
            raise ConfigError("CH_HTTP_TIMEOUT is not a number") from None

        return cls(
            identity_url=environ["CH_IDENTITY_URL"].rstrip("/"),
            api_url=environ["CH_API_URL"].rstrip("/"),
            client_id=environ["CH_CLIENT_ID"],
            client_secret=environ["CH_CLIENT_SECRET"],
            redirect_uri=environ["CH_REDIRECT_URI"],
            http_timeout=timeout,
        )

    @property
    def token_url(self) -> str:
        return f"{self.identity_url}/oauth2/token"


class SessionStore:
    """Server-side session dicts keyed by a random id that the cookie carries."""

    def __init__(self) -> None:
        self._sessions: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str | None) -> dict[str, Any] | None:
        with self._lock:
            return self._sessions.get(session_id or "")

    def ensure(self, session_id: str | None) -> tuple[str, dict[str, Any]]:
        with self._lock:
            if session_id not in self._sessions:
                session_id = secrets.token_urlsafe(32)
                self._sessions[session_id] = {}
            return session_id, self._sessions[session_id]


class RequestsOAuthlibClient:
    """The WSGI application: one method per route, errors rendered in one place."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.sessions = SessionStore()
        routes: dict[str, View] = {
            "/login": self.login,
            "/callback": self.callback,
            "/me": self.me,
            "/file": self.file,
            "/healthz": self.healthz,
        }
        self.url_map = Map(
            [
                Rule(path, endpoint=view, methods=["GET"])
                for path, view in routes.items()
            ]
        )

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        response = self.dispatch(Request(environ))
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        """Route a request; turn every failure into a 4xx page without a traceback."""
        try:
            view, _ = self.url_map.bind_to_environ(request.environ).match()
            response: Response = view(request)
        except PageError as exc:
            log.info("%s refused (%s): %s", request.path, exc.status, exc.message)
            return render_page(exc.title, exc.message, status=exc.status)
        except HTTPException as exc:
            return render_page(exc.name, exc.description or "", status=exc.code or 400)
        except Exception:
            log.exception("handler for %s crashed", request.path)
            message = "Something unexpected stopped this request. Please try again."
            return render_page("Request failed", message, status=400)

        return response

    def login(self, request: Request) -> Response:
        """Start sign-in with ``authorization_url()``; keep its state in the session."""
        companies = validate_companies(request.args.getlist("company"))
        scope = [PROFILE_SCOPE] + [
            ROA_SCOPE.format(company_number=c) for c in companies
        ]
        oauth = OAuth2Session(
            self.config.client_id, redirect_uri=self.config.redirect_uri, scope=scope
        )
        # CH vs requests-oauthlib: the scope list is joined with spaces and
        # form-encoded, so spaces travel as "+"; Companies House accepts "+" and %20.
        url, state = oauth.authorization_url(
            f"{self.config.identity_url}/oauth2/authorise"
        )

        session_id, session = self.sessions.ensure(request.cookies.get(SESSION_COOKIE))
        session["oauth_state"] = state
        session["oauth_scope"] = scope
        log.info("sign-in started, state %s", redact(state))
        response = redirect(url)
        set_session_cookie(response, session_id)
        return response

    def callback(self, request: Request) -> Response:
        """Hand the full callback URL to ``fetch_token()``, as the library's docs do."""
        session = self.sessions.get(request.cookies.get(SESSION_COOKIE)) or {}
        if "oauth_state" not in session:
            raise PageError("No sign-in was started in this browser.")
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
        token = self.fetch_token(oauth, request.url)

        session["email"] = self.read_profile(oauth)
        session["oauth_token"] = token
        log.info("signed in, access token %s", redact(token.get("access_token")))
        return redirect("/me")

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
        try:
            verified = oauth.get(
                f"{self.config.identity_url}/oauth2/verify",
                timeout=self.config.http_timeout,
            )
            profile = oauth.get(
                f"{self.config.identity_url}/user/profile",
                timeout=self.config.http_timeout,
            )
        except (OAuth2Error, *UNUSABLE_ANSWER) as exc:
            raise SignInFailed(exc) from exc
        email = read_json_object(profile).get("email")
        if verified.status_code != 200 or profile.status_code != 200 or not email:
            statuses = f"verify {verified.status_code}, profile {profile.status_code}"
            raise SignInFailed(ValueError(statuses))

        return str(email)

    def me(self, request: Request) -> Response:
        """Show who is signed in, or send the browser to sign in."""
        session = self.signed_in_session(request)
        if session is None:
            return redirect("/login")

        return render_page("Your account", f"Signed in as {session['email']}")

    def file(self, request: Request) -> Response:
        """Create a transaction; on 401 call ``refresh_token()`` and retry once."""
        session = self.signed_in_session(request)
        if session is None:
            return redirect("/login")
        company = validate_company(request.args.get("company"))
        oauth = self.api_session(session)

        response = self.post_transaction(oauth, company)
        if response is not None and response.status_code == 401:
            log.info("API refused the access token, refreshing")
            refreshed = self.refresh(oauth, session)
            response = self.post_transaction(oauth, company) if refreshed else None
        if response is None:
            session.clear()
            return redirect(f"/login?company={company}")

        return render_transaction(response)

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
        payload = {
            "company_number": company,
            "description": "Change of registered office address",
        }
        try:
            response: requests.Response = oauth.post(
                f"{self.config.api_url}/transactions",
                json=payload,
                timeout=self.config.http_timeout,
            )
        except (OAuth2Error, ValueError, Warning) as exc:
            log.info("automatic refresh refused: %s", describe_oauth_error(exc))
            return None
        except requests.RequestException as exc:
            raise PageError(
                f"The filing service did not answer ({type(exc).__name__}).",
                status=424,
            ) from exc

        return response

    def refresh(self, oauth: OAuth2Session, session: dict[str, Any]) -> bool:
        """Refresh by hand; False when Companies House refuses.

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

    def signed_in_session(self, request: Request) -> dict[str, Any] | None:
        session = self.sessions.get(request.cookies.get(SESSION_COOKIE))
        if not session or "oauth_token" not in session:
            return None
        return session

    def healthz(self, request: Request) -> Response:
        return Response("ok", mimetype="text/plain")


def validate_companies(values: list[str]) -> list[str]:
    """Return the requested company numbers, without repeats, in order."""
    return list(dict.fromkeys(validate_company(value) for value in values))


def validate_company(value: str | None) -> str:
    """Accept letters and digits only, so a value cannot smuggle in another scope."""
    if value is None or not _COMPANY_NUMBER.match(value):
        raise PageError("Give a company number of letters and digits as ?company=.")
    return value


def describe_oauth_error(exc: Exception) -> str:
    """Name an OAuth error by its code and description, other errors by class."""
    if isinstance(exc, OAuth2Error):
        description = (exc.description or "no description given")[:200]
        return f"{exc.error}: {description}"
    return type(exc).__name__


def read_json_object(response: requests.Response) -> dict[str, Any]:
    """Return the body as a JSON object, or an empty dict for anything else."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def render_transaction(response: requests.Response) -> Response:
    """Show the created transaction's id, or explain what the API said."""
    if response.status_code == 401:
        raise PageError(
            "The filing service still refuses access after the sign-in was renewed.",
            status=403,
        )
    transaction_id = read_json_object(response).get("id")
    if response.status_code != 201 or not isinstance(transaction_id, str):
        message = f"The filing service answered {response.status_code}."
        raise PageError(message, status=424)

    return render_page("Filing started", f"Transaction {transaction_id} created.")


def render_page(title: str, message: str, *, status: int = 200) -> Response:
    page = _PAGE.format(title=html.escape(title), message=html.escape(message))
    return Response(page, status=status, mimetype="text/html")


def set_session_cookie(response: Response, session_id: str) -> None:
    # Not Secure: the fake and this client talk plain HTTP on loopback.
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="Lax")


def redact(secret: object) -> str:
    """Show at most a six-character prefix of a token or state in logs."""
    return f"{str(secret)[:6]}..." if secret else "<none>"


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


class PathOnlyRequestHandler(WSGIRequestHandler):
    """Log requests without their query, which carries codes and states."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.info("%s %s %s", self.command, self.path.partition("?")[0], code)


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Both libraries log whole tokens and request bodies at DEBUG.
    for name in ("requests_oauthlib", "oauthlib"):
        logging.getLogger(name).setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    configure_logging()
    try:
        config = Config.from_environ(os.environ)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    allow_plain_http_on_loopback(config)

    server = make_server(
        "127.0.0.1",
        args.port,
        RequestsOAuthlibClient(config),
        threaded=True,
        request_handler=PathOnlyRequestHandler,
    )
    log.info("listening on http://127.0.0.1:%d", server.server_port)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
