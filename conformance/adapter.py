"""Python adapters: drive a library client in-process, with no web app of its own.

An adapter is an object with the methods of :class:`ClientAdapter`. The suite serves
it through a small web app on 127.0.0.1 with the same paths a profile's web client
has (``/login``, ``/callback``, ``/me``, ``/file``), so every scenario runs unchanged.
"""

from __future__ import annotations

import html
import logging
import secrets
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlencode

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from .drivers import ClientStartError

__all__ = ["AdapterClient", "ClientAdapter", "Refused", "SignInAgain"]

log = logging.getLogger(__name__)
COOKIE = "conformance_adapter"


class Refused(Exception):
    """The adapter refuses a step (bad state, error callback, API refusal): a 4xx."""


class SignInAgain(Exception):
    """The adapter's tokens are gone (refresh refused): send the person to sign in."""


@runtime_checkable
class ClientAdapter(Protocol):
    """What a library client implements to be judged by the suite."""

    def configure(self, settings: Mapping[str, str]) -> None:
        """Receive ``identity_url``, ``api_url``, ``client_id``, ``client_secret``,
        ``redirect_uri`` and ``http_timeout``."""

    def start_sign_in(self, companies: Sequence[str]) -> tuple[str, Any]:
        """Return the authorisation URL and what to keep until the callback."""

    def finish_sign_in(self, pending: Any, callback_url: str) -> Any:
        """Handle the callback URL; return the signed-in session or raise Refused."""

    def email(self, session: Any) -> str:
        """Return the signed-in person's email."""

    def file(self, session: Any, company_number: str) -> str:
        """Use the token on a company's API; return the transaction id.

        Raise :class:`Refused` if the API refuses, :class:`SignInAgain` if the
        session's tokens can no longer be refreshed.
        """


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class AdapterClient:
    """Serves an adapter as a web client for the duration of the run."""

    def __init__(self, adapter: object, values: Mapping[str, str]) -> None:
        if not isinstance(adapter, ClientAdapter):
            raise ClientStartError(
                f"{type(adapter).__name__} lacks the ClientAdapter methods "
                "(configure, start_sign_in, finish_sign_in, email, file)"
            )
        self.adapter = adapter
        self.values = values
        self._pending: dict[str, Any] = {}
        self._sessions: dict[str, Any] = {}
        self._server: BaseWSGIServer | None = None
        self.base_url = ""
        self.redirect_uri = ""

    def start(self) -> AdapterClient:
        """Configure the adapter, bind the profile's port and serve."""
        self.redirect_uri = self.values["redirect_uri"]
        settings = {
            k: self.values[k]
            for k in (
                "identity_url",
                "api_url",
                "client_id",
                "client_secret",
                "redirect_uri",
                "http_timeout",
            )
        }
        self.adapter.configure(settings)
        self._server = make_server(
            "127.0.0.1",
            int(self.values["port"]),
            self,
            threaded=True,
            request_handler=_Quiet,
        )
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def log_tail(self) -> str:
        """Adapters log through logging; nothing is kept here."""
        return ""

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        key = request.cookies.get(COOKIE) or secrets.token_urlsafe(16)
        try:
            response = self._route(request, key)
        except Refused as exc:
            response = _page("Refused", str(exc), 400)
        except SignInAgain:
            response = redirect("/login", 302)
        response.set_cookie(COOKIE, key, httponly=True, samesite="Lax")
        return response(environ, start_response)

    def _route(self, request: Request, key: str) -> Response:
        if request.path == "/healthz":
            return Response("ok")
        if request.path == "/login":
            url, pending = self.adapter.start_sign_in(request.args.getlist("company"))
            self._pending[key] = pending
            return redirect(url, 302)
        if request.path == "/callback":
            if key not in self._pending:
                raise Refused("no sign-in was started in this browser")
            pending = self._pending.pop(key)
            self._sessions[key] = self.adapter.finish_sign_in(pending, request.url)
            return redirect("/me", 302)
        session = self._sessions.get(key)
        if request.path == "/me":
            if session is None:
                return redirect("/login", 302)
            return _page("Signed in", f"Signed in as {self.adapter.email(session)}")
        if request.path == "/file":
            if session is None:
                return redirect("/login", 302)
            company = request.args.get("company", "")
            try:
                transaction = self.adapter.file(session, company)
            except SignInAgain:
                self._sessions.pop(key, None)
                return redirect(f"/login?{urlencode({'company': company})}", 302)
            return _page("Filed", f"Transaction {transaction}")
        return _page("Not found", request.path, 404)


def _page(title: str, message: str, status: int = 200) -> Response:
    body = (
        f"<!doctype html><title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
    )
    return Response(body, status=status, mimetype="text/html")
