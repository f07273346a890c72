"""Web plumbing shared by the two library clients.

``requests_oauthlib_client/client.py`` and ``authlib_client/client.py`` serve the same
routes with the same pages, sessions and configuration; only their OAuth steps
differ. This module holds what they share: configuration from the ``CH_*``
environment variables, the server-side session store, page rendering, routing and
the command line. Each client subclasses :class:`LibraryClient` and supplies the
library calls: building the authorise URL, completing sign-in at the callback, and
filing with refresh. The reference client does not use this module; it writes every
step out on its own.
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
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import requests
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

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
_COMPANY_NUMBER = re.compile(r"^[A-Za-z0-9]{1,16}$")
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{message}</p></body></html>
"""

View = Callable[[Request], Response]
OAuthSession = TypeVar("OAuthSession")


class ConfigError(Exception):
    """The environment does not describe a usable client."""


class PageError(Exception):
    """A failure explained to the person on an HTML page, always with a 4xx status."""

    title = "Request refused"

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


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
    def authorise_url(self) -> str:
        return f"{self.identity_url}/oauth2/authorise"

    @property
    def token_url(self) -> str:
        return f"{self.identity_url}/oauth2/token"

    @property
    def verify_url(self) -> str:
        return f"{self.identity_url}/oauth2/verify"

    @property
    def profile_url(self) -> str:
        return f"{self.identity_url}/user/profile"

    @property
    def transactions_url(self) -> str:
        return f"{self.api_url}/transactions"


class FilingUnanswered(PageError):
    """The filing service gave no HTTP answer at all (refused, timed out, ...)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(
            f"The filing service did not answer ({type(cause).__name__}).",
            status=424,
        )


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


class LibraryClient(ABC, Generic[OAuthSession]):
    """The WSGI application: one method per route, errors rendered in one place.

    A subclass names its session cookie and does the OAuth steps with its library's
    session type, ``OAuthSession``; this class does the rest.
    """

    session_cookie: ClassVar[str]

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

    @abstractmethod
    def authorization_url(self, scope: list[str]) -> tuple[str, str]:
        """Return the authorise URL asking for ``scope``, and the state it carries."""

    @abstractmethod
    def complete_sign_in(
        self, session: dict[str, Any], callback_url: str
    ) -> tuple[dict[str, Any], str]:
        """Exchange the callback's code; return the token and the profile's email.

        ``session`` holds the ``oauth_state`` and ``oauth_scope`` of the sign-in
        started at /login. Raise :class:`PageError` when sign-in cannot complete.
        """

    @abstractmethod
    def api_session(self, session: dict[str, Any]) -> OAuthSession:
        """Return a library session for the API, with the token in ``session``."""

    @abstractmethod
    def post_transaction(
        self, oauth: OAuthSession, company: str
    ) -> requests.Response | None:
        """POST the transaction; None when an automatic refresh was refused."""

    @abstractmethod
    def refresh(self, oauth: OAuthSession, session: dict[str, Any]) -> bool:
        """Refresh the token by hand and keep it; False when Companies House refuses."""

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
        """Start sign-in; keep the state and the scope asked for in the session."""
        companies = validate_companies(request.args.getlist("company"))
        scope = [PROFILE_SCOPE] + [
            ROA_SCOPE.format(company_number=c) for c in companies
        ]
        url, state = self.authorization_url(scope)

        session_id, session = self.sessions.ensure(
            request.cookies.get(self.session_cookie)
        )
        session["oauth_state"] = state
        session["oauth_scope"] = scope
        log.info("sign-in started, state %s", redact(state))
        response = redirect(url)
        self.set_session_cookie(response, session_id)
        return response

    def callback(self, request: Request) -> Response:
        """Complete the sign-in this browser started; then show who signed in."""
        session = self.sessions.get(request.cookies.get(self.session_cookie)) or {}
        if "oauth_state" not in session:
            raise PageError("No sign-in was started in this browser.")
        token, email = self.complete_sign_in(session, request.url)

        session["email"] = email
        session["oauth_token"] = token
        log.info("signed in, access token %s", redact(token.get("access_token")))
        return redirect("/me")

    def me(self, request: Request) -> Response:
        """Show who is signed in, or send the browser to sign in."""
        session = self.signed_in_session(request)
        if session is None:
            return redirect("/login")

        return render_page("Your account", f"Signed in as {session['email']}")

    def file(self, request: Request) -> Response:
        """Create a transaction; on 401 refresh by hand and retry once."""
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

    def signed_in_session(self, request: Request) -> dict[str, Any] | None:
        session = self.sessions.get(request.cookies.get(self.session_cookie))
        if not session or "oauth_token" not in session:
            return None
        return session

    def healthz(self, request: Request) -> Response:
        return Response("ok", mimetype="text/plain")

    def set_session_cookie(self, response: Response, session_id: str) -> None:
        # Not Secure: the fake and this client talk plain HTTP on loopback.
        response.set_cookie(
            self.session_cookie, session_id, httponly=True, samesite="Lax"
        )


def validate_companies(values: list[str]) -> list[str]:
    """Return the requested company numbers, without repeats, in order."""
    return list(dict.fromkeys(validate_company(value) for value in values))


def validate_company(value: str | None) -> str:
    """Accept letters and digits only, so a value cannot smuggle in another scope."""
    if value is None or not _COMPANY_NUMBER.match(value):
        raise PageError("Give a company number of letters and digits as ?company=.")
    return value


def read_json_object(response: requests.Response) -> dict[str, Any]:
    """Return the body as a JSON object, or an empty dict for anything else."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def transaction_body(company: str) -> dict[str, str]:
    """The JSON body of the POST to /transactions that starts a filing."""
    return {
        "company_number": company,
        "description": "Change of registered office address",
    }


def profile_email(verified: requests.Response, profile: requests.Response) -> str:
    """Return the profile's email if /oauth2/verify and /user/profile both said 200.

    Raise ValueError, naming both statuses, when either did not or there is no email.
    """
    email = read_json_object(profile).get("email")
    if verified.status_code != 200 or profile.status_code != 200 or not email:
        statuses = f"verify {verified.status_code}, profile {profile.status_code}"
        raise ValueError(statuses)

    return str(email)


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


def redact(secret: object) -> str:
    """Show at most a six-character prefix of a token or state in logs."""
    return f"{str(secret)[:6]}..." if secret else "<none>"


class PathOnlyRequestHandler(WSGIRequestHandler):
    """Log requests without their query, which carries codes and states."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.info("%s %s %s", self.command, self.path.partition("?")[0], code)


def configure_logging(quiet_loggers: Iterable[str]) -> None:
    """Log INFO and above to stderr; hold the named library loggers at INFO too."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in quiet_loggers:
        logging.getLogger(name).setLevel(logging.INFO)


def run_client(
    argv: list[str] | None,
    *,
    description: str,
    make_app: Callable[[Config], LibraryClient[Any]],
    quiet_loggers: Iterable[str],
) -> int:
    """Read ``--port`` and the environment, then serve the app on loopback.

    Return 2 when the environment does not describe a usable client.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    configure_logging(quiet_loggers)
    try:
        config = Config.from_environ(os.environ)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2

    server = make_server(
        "127.0.0.1",
        args.port,
        make_app(config),
        threaded=True,
        request_handler=PathOnlyRequestHandler,
    )
    log.info("listening on http://127.0.0.1:%d", server.server_port)
    server.serve_forever()
    return 0
