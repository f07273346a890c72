"""Companies House web-server client built on Authlib's requests integration.

Run as ``python client.py --port N`` with the ``CH_*`` environment variables described
in examples/README.md. It serves the same routes as the reference client, but leaves
every OAuth step to ``authlib.integrations.requests_client.OAuth2Session``, used the
way Authlib's OAuth 2 session documentation shows and with the library's defaults.
Where those defaults differ from what Companies House documents, a
``CH vs Authlib`` comment says so; the client does not work around those
differences, so the conformance suite sees them.
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

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import MismatchingStateException
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("authlib_client")

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
SESSION_COOKIE = "ch_authlib_session"
_COMPANY_NUMBER = re.compile(r"^[A-Za-z0-9]{1,16}$")
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{message}</p></body></html>
"""

# What Authlib raises for answers it cannot use, besides its own errors:
# requests.HTTPError for a 5xx or a non-JSON error status, ValueError for a 200
# that is not a JSON object or an expires_in that int() rejects.
UNUSABLE_ANSWER = (AuthlibBaseError, requests.RequestException, ValueError)

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
    """The code exchange or the profile read ended in an unusable answer."""

    title = "Sign-in failed"

    def __init__(self, cause: Exception) -> None:
        reason = describe_error(cause)
        status = 403 if getattr(cause, "error", None) == "access_denied" else 424
        super().__init__(f"Sign-in did not complete ({reason}).", status=status)


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


class AuthlibClient:
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

    def login(self, request: Request) -> Response:
        """Start sign-in with ``create_authorization_url()``; keep the state."""
        companies = validate_companies(request.args.getlist("company"))
        scope = [PROFILE_SCOPE] + [
            ROA_SCOPE.format(company_number=c) for c in companies
        ]
        oauth = self.new_session(scope=" ".join(scope))
        # CH vs Authlib: spaces in the scope are form-encoded as "+"; Companies
        # House accepts "+" and %20 alike.
        url, state = oauth.create_authorization_url(
            f"{self.config.identity_url}/oauth2/authorise"
        )

        session_id, session = self.sessions.ensure(request.cookies.get(SESSION_COOKIE))
        session["oauth_state"] = state
        log.info("sign-in started, state %s", redact(state))
        response = redirect(url)
        set_session_cookie(response, session_id)
        return response

    def callback(self, request: Request) -> Response:
        """Hand the full callback URL to ``fetch_token()``, as Authlib's docs do."""
        session = self.sessions.get(request.cookies.get(SESSION_COOKIE)) or {}
        if "oauth_state" not in session:
            raise PageError("No sign-in was started in this browser.")
        oauth = self.new_session(state=session["oauth_state"])
        token = self.fetch_token(oauth, request.url)

        session["email"] = self.read_profile(oauth)
        session["oauth_token"] = token
        log.info("signed in, access token %s", redact(token.get("access_token")))
        return redirect("/me")

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
            verified = oauth.get(f"{self.config.identity_url}/oauth2/verify")
            profile = oauth.get(f"{self.config.identity_url}/user/profile")
        except UNUSABLE_ANSWER as exc:
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
            refreshed = self.refresh(oauth)
            response = self.post_transaction(oauth, company) if refreshed else None
        if response is None:
            session.clear()
            return redirect(f"/login?company={company}")

        return render_transaction(response)

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
        payload = {
            "company_number": company,
            "description": "Change of registered office address",
        }
        try:
            response: requests.Response = oauth.post(
                f"{self.config.api_url}/transactions", json=payload
            )
        except requests.RequestException as exc:
            raise PageError(
                f"The filing service did not answer ({type(exc).__name__}).",
                status=424,
            ) from exc
        except (AuthlibBaseError, ValueError) as exc:
            log.info("automatic refresh refused: %s", describe_error(exc))
            return None

        return response

    def refresh(self, oauth: OAuth2Session) -> bool:
        """Refresh by hand; False when Companies House refuses.

        CH vs Authlib: the refresh request uses client_secret_basic too and adds
        ``scope`` when the session has one (this one has none). When the answer
        has no refresh_token, as Companies House's never does, Authlib keeps the
        old one, which is right here; ``update_token`` stores the result.
        """
        try:
            oauth.refresh_token(self.config.token_url)
        except UNUSABLE_ANSWER as exc:
            log.info("refresh refused: %s", describe_error(exc))
            return False

        log.info("refreshed, access token %s", redact(oauth.token.get("access_token")))
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


def describe_error(exc: Exception) -> str:
    """Name an OAuth error by its code and description, other errors by class."""
    if isinstance(exc, AuthlibBaseError):
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
    # Keep library DEBUG output, which can include request bodies, switched off.
    logging.getLogger("authlib").setLevel(logging.INFO)


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

    server = make_server(
        "127.0.0.1",
        args.port,
        AuthlibClient(config),
        threaded=True,
        request_handler=PathOnlyRequestHandler,
    )
    log.info("listening on http://127.0.0.1:%d", server.server_port)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
