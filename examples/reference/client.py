"""Reference web-server client for the Companies House identity service.

Run as ``python client.py --port N``; configuration comes from ``CH_*`` environment
variables (see examples/README.md). The browser-facing routes are:

``/login``     start sign-in for profile.read plus each ``?company=`` ROA scope
``/callback``  the redirect URI: check state, exchange the code, read the profile
``/me``        "Signed in as <email>", or a redirect to /login
``/file``      create a filing transaction, refreshing the token once on a 401
``/healthz``   "ok"

This client does by hand what the OAuth libraries do for the other examples, so that
every step can follow Companies House's documentation exactly.
"""

from __future__ import annotations

import argparse
import hmac
import html
import logging
import os
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import companies_house as ch
import requests
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("reference_client")

SESSION_COOKIE = "ch_reference_session"
_COMPANY_NUMBER = re.compile(r"^[A-Za-z0-9]{1,16}$")
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>{message}</p></body></html>
"""

View = Callable[[Request], Response]


class PageError(Exception):
    """A failure explained to the person on an HTML page, always with a 4xx status."""

    status = 400
    title = "Request refused"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class StateError(PageError):
    """The callback's state is missing, wrong or already used (RFC 6749 §10.12)."""

    title = "Sign-in response rejected"


class AuthorisationError(PageError):
    """Companies House sent the person back with ``error=``."""

    title = "Sign-in was not completed"


class SignInFailed(PageError):
    """The code could not be turned into a usable token and profile."""

    status = 424
    title = "Sign-in failed"


class FilingError(PageError):
    """The filing API refused or failed the transaction."""

    status = 424
    title = "Filing failed"


@dataclass
class BrowserSession:
    """What the client remembers about one browser, kept server-side only."""

    pending_state: str | None = None
    tokens: ch.TokenSet | None = None
    email: str | None = None

    def forget_tokens(self) -> None:
        self.tokens = self.email = None


class SessionStore:
    """Server-side sessions keyed by a random id that the cookie carries."""

    def __init__(self) -> None:
        self._sessions: dict[str, BrowserSession] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str | None) -> BrowserSession | None:
        with self._lock:
            return self._sessions.get(session_id or "")

    def begin_sign_in(self, session_id: str | None, state: str) -> str:
        """Store a fresh pending state, creating the session if needed."""
        with self._lock:
            if session_id not in self._sessions:
                session_id = secrets.token_urlsafe(32)
                self._sessions[session_id] = BrowserSession()
            self._sessions[session_id].pending_state = state
            return session_id

    def take_state(self, session_id: str | None) -> str | None:
        """Remove and return the pending state, so that each state is used once."""
        with self._lock:
            session = self._sessions.get(session_id or "")
            if session is None:
                return None
            state, session.pending_state = session.pending_state, None
            return state

    def sign_in(
        self, old_id: str | None, tokens: ch.TokenSet, email: str
    ) -> tuple[str, BrowserSession]:
        """Replace the pre-sign-in session with a new id (no session fixation)."""
        session = BrowserSession(tokens=tokens, email=email)
        with self._lock:
            self._sessions.pop(old_id or "", None)
            session_id = secrets.token_urlsafe(32)
            self._sessions[session_id] = session
            return session_id, session


class ReferenceClient:
    """The WSGI application: one method per route, errors rendered in one place."""

    def __init__(self, config: ch.Config) -> None:
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
            [Rule(p, endpoint=v, methods=["GET"]) for p, v in routes.items()]
        )

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        response = self.dispatch(Request(environ))
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        """Route a request; turn every failure into a 4xx page without a traceback."""
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            view, _ = adapter.match()
            response: Response = view(request)
        except PageError as exc:
            log.info(
                "%s %s refused (%s): %s",
                request.method,
                request.path,
                exc.status,
                exc.message,
            )
            return render_page(exc.title, exc.message, status=exc.status)
        except HTTPException as exc:
            return render_page(exc.name, exc.description or "", status=exc.code or 400)
        except Exception:
            log.exception("handler for %s crashed", request.path)
            message = "Something unexpected stopped this request. Please try again."
            return render_page("Request failed", message, status=400)

        return response

    def login(self, request: Request) -> Response:
        """Start sign-in: new single-use state, then off to /oauth2/authorise."""
        companies = validate_companies(request.args.getlist("company"))
        state = secrets.token_urlsafe(32)
        session_id = self.sessions.begin_sign_in(
            request.cookies.get(SESSION_COOKIE), state
        )
        scope = ch.create_scope(companies)
        log.info("sign-in started, state %s, scope %r", ch.redact(state), scope)

        response = redirect(ch.create_authorise_url(self.config, scope, state))
        set_session_cookie(response, session_id)
        return response

    def callback(self, request: Request) -> Response:
        """Finish sign-in; the token endpoint is called only after state matches."""
        old_id = request.cookies.get(SESSION_COOKIE)
        validate_state(self.sessions.take_state(old_id), request.args.get("state"))
        code = validate_authorisation_response(request.args)

        tokens, email = self.complete_sign_in(code)
        session_id, _ = self.sessions.sign_in(old_id, tokens, email)
        log.info("signed in, access token %s", ch.redact(tokens.access_token))

        response = redirect("/me")
        set_session_cookie(response, session_id)
        return response

    def complete_sign_in(self, code: str) -> tuple[ch.TokenSet, str]:
        """Exchange the code (SPEC token), then check the token and read the email."""
        grant = {
            "grant_type": "authorization_code",
            "code": code,
            # RFC 6749 §4.1.3: the same string as sent to /oauth2/authorise.
            "redirect_uri": self.config.redirect_uri,
        }
        try:
            tokens = ch.request_token(self.config, grant)
            ch.verify_access_token(self.config, tokens.access_token)
            email = ch.fetch_email(self.config, tokens.access_token)
        except ch.ServiceError as exc:
            log.info("sign-in failed: %s", exc)
            raise SignInFailed(
                f"Sign-in failed: Companies House's answer could not be used ({exc})."
            ) from exc

        return tokens, email

    def me(self, request: Request) -> Response:
        """Show who is signed in, or send the browser to sign in."""
        signed_in = self.signed_in(request)
        if signed_in is None:
            return redirect("/login")

        return render_page("Your account", f"Signed in as {signed_in[0].email}")

    def file(self, request: Request) -> Response:
        """Create a transaction; on 401 refresh once and retry once."""
        signed_in = self.signed_in(request)
        if signed_in is None:
            return redirect("/login")
        session, tokens = signed_in
        company = validate_company(request.args.get("company"))

        response = self.post_transaction(tokens.access_token, company)
        if response.status_code != 401:
            return render_transaction(response)
        log.info("API refused token %s, refreshing", ch.redact(tokens.access_token))
        refreshed = self.refresh(tokens)
        if refreshed is None:
            session.forget_tokens()
            return redirect(f"/login?company={company}")
        session.tokens = refreshed

        response = self.post_transaction(refreshed.access_token, company)
        if response.status_code == 401:
            raise FilingError(
                "The filing service still refuses access after the sign-in was "
                "renewed, so this account may not file for this company.",
                status=403,
            )
        return render_transaction(response)

    def post_transaction(self, access_token: str, company: str) -> requests.Response:
        try:
            return ch.create_transaction(self.config, access_token, company)
        except ch.ServiceError as exc:
            raise FilingError(f"The filing service did not answer ({exc}).") from exc

    def refresh(self, tokens: ch.TokenSet) -> ch.TokenSet | None:
        """Swap the refresh token for a new token set (SPEC refresh_token grant)."""
        if tokens.refresh_token is None:
            return None
        grant = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        try:
            refreshed = ch.request_token(self.config, grant)
        except ch.ServiceError as exc:
            log.info("refresh refused: %s", exc)
            return None

        log.info("refreshed, access token %s", ch.redact(refreshed.access_token))
        # Companies House refresh tokens do not rotate: keep the old one unless a
        # new one is sent.
        if refreshed.refresh_token is None:
            return replace(refreshed, refresh_token=tokens.refresh_token)
        return refreshed

    def signed_in(self, request: Request) -> tuple[BrowserSession, ch.TokenSet] | None:
        """Return the browser's session and tokens, or None if it is not signed in."""
        session = self.sessions.get(request.cookies.get(SESSION_COOKIE))
        if session is None or session.tokens is None:
            return None
        return session, session.tokens

    def healthz(self, request: Request) -> Response:
        return Response("ok", mimetype="text/plain")


def validate_state(expected: str | None, received: str | None) -> None:
    """Raise StateError unless the callback carries the state this browser was given."""
    if expected is None:
        raise StateError("No sign-in was started in this browser, or it was finished.")
    if received is None:
        raise StateError("The sign-in response carries no state.")
    if not hmac.compare_digest(expected.encode(), received.encode()):
        raise StateError("The sign-in response belongs to another sign-in.")


def validate_authorisation_response(args: Mapping[str, str]) -> str:
    """Return the code, or raise for ``error=`` or a missing code (RFC 6749 §4.1.2)."""
    error = args.get("error")
    if error is not None:
        description = args.get("error_description") or "no description given"
        status = 403 if error == "access_denied" else 400
        raise AuthorisationError(
            f"Companies House reported {error[:64]}: {description[:200]}", status=status
        )
    code = args.get("code")
    if not code:
        raise PageError("The sign-in response carries no authorisation code.")

    return code


def validate_companies(values: list[str]) -> list[str]:
    """Return the requested company numbers, without repeats, in order."""
    return list(dict.fromkeys(validate_company(value) for value in values))


def validate_company(value: str | None) -> str:
    """Accept letters and digits only, so a value cannot smuggle in another scope."""
    if value is None or not _COMPANY_NUMBER.match(value):
        raise PageError("Give a company number of letters and digits as ?company=.")
    return value


def render_transaction(response: requests.Response) -> Response:
    """Show the created transaction's id, or explain what the API said."""
    body = ch.read_json_object(response)
    transaction_id = body.get("id") if body else None
    if response.status_code != 201 or not isinstance(transaction_id, str):
        raise FilingError(
            f"The filing service answered {response.status_code} without a transaction."
        )

    return render_page("Filing started", f"Transaction {transaction_id} created.")


def render_page(title: str, message: str, *, status: int = 200) -> Response:
    page = _PAGE.format(title=html.escape(title), message=html.escape(message))
    return Response(page, status=status, mimetype="text/html")


def set_session_cookie(response: Response, session_id: str) -> None:
    # Not Secure: the fake and this client talk plain HTTP on loopback.
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="Lax")


class PathOnlyRequestHandler(WSGIRequestHandler):
    """Log requests without their query, which carries codes and states."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.partition("?")[0]
        log.info("%s %s %s", self.command, path, code)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = ch.Config.from_environ(os.environ)
    except ch.ConfigError as exc:
        log.error("%s", exc)
        return 2

    server = make_server(
        "127.0.0.1",
        args.port,
        ReferenceClient(config),
        threaded=True,
        request_handler=PathOnlyRequestHandler,
    )
    log.info("listening on http://127.0.0.1:%d", server.server_port)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
