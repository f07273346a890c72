"""The provider as a WSGI application: routes, dispatch, and errors as responses."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed as RoutingMethodNotAllowed
from werkzeug.routing import Map, MapAdapter, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from . import api, authorise, profile, token, verify
from .clock import Clock
from .config import ProviderConfig
from .errors import (
    ApiError,
    FatalAuthoriseError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    OAuthError,
)
from .journal import Journal
from .pages import Pages
from .registry import Registry
from .store import Store
from .wire import Request, append_query, json_response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .control import Control

__all__ = ["Provider", "create_app"]

log = logging.getLogger(__name__)

Handler = Callable[..., Response]

HANDLERS: dict[str, Handler] = {
    "authorise": authorise.authorise,
    "signin": authorise.signin,
    "company_code": authorise.company_code,
    "consent": authorise.consent,
    "token": token.token,
    "verify": verify.verify,
    "profile": profile.profile,
    "create_transaction": api.create_transaction,
    "get_transaction": api.get_transaction,
}


def build_rules(config: ProviderConfig) -> list[Rule]:
    """Return the route table; Companies House spellings live here."""
    rules = [
        Rule("/", endpoint="index", methods=["GET"]),
        Rule("/oauth2/authorise", endpoint="authorise", methods=["GET"]),
        Rule(authorise.SIGNIN_PATH, endpoint="signin", methods=["POST"]),
        Rule(authorise.COMPANY_PATH, endpoint="company_code", methods=["POST"]),
        Rule(authorise.CONSENT_PATH, endpoint="consent", methods=["POST"]),
        Rule("/oauth2/token", endpoint="token", methods=["POST"]),
        Rule("/oauth2/verify", endpoint="verify", methods=["GET", "POST"]),
        Rule("/user/profile", endpoint="profile", methods=["GET"]),
        Rule("/transactions", endpoint="create_transaction", methods=["POST"]),
        Rule(
            "/transactions/<transaction_id>",
            endpoint="get_transaction",
            methods=["GET"],
        ),
    ]
    if config.serve_aliases:
        # The Developer Hub's prose names these; the specs do not (ch-oauth-facts).
        rules.append(Rule("/oauth/token", endpoint="token", methods=["POST"]))
        rules.append(Rule("/oauth/verify", endpoint="verify", methods=["GET", "POST"]))
    return rules


class Provider:
    """The fake Companies House identity service, as a WSGI application.

    :param config: behaviour and data; the default data set if omitted.
    :param clock: where time comes from; a :class:`Clock` following the system's
        time if omitted.
    """

    def __init__(
        self, config: ProviderConfig | None = None, *, clock: Clock | None = None
    ) -> None:
        self.config = config or ProviderConfig()
        self.clock = clock or Clock()
        self.registry = Registry(self.config.data, self.config.realm)
        if not any(c.realm == self.config.realm for c in self.config.data.clients):
            log.warning(
                "%s has no client in the %s realm: every authorisation will be refused",
                self.config.data.source,
                self.config.realm,
            )
        self.store = Store(self.clock)
        self.journal = Journal(self.config.journal_size)
        self.pages = Pages()
        self.errors: list[BaseException] = []
        self._errors_lock = threading.Lock()
        # No redirects from routing: a doubled slash is a wrong path, answered 404.
        self.url_map = Map(
            build_rules(self.config), strict_slashes=False, merge_slashes=False
        )
        self.control: Control | None = None
        if self.config.control:
            from .control import Control

            self.control = Control(self)
            self.url_map.add(
                Rule(
                    f"{Control.PREFIX}/<path:operation>",
                    endpoint="control",
                    methods=["GET", "POST", "DELETE"],
                )
            )

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.handle(request)
        finally:
            request.close()  # uploaded files are spooled to temporary files
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        """Answer one request and record the exchange in the journal."""
        started = time.perf_counter()
        at = self.clock.now()
        generation = self.journal.generation
        endpoint = "unknown"
        urls = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = urls.match()
            response = self._dispatch(endpoint, request, args)
        except Exception as exc:  # noqa: BLE001 - every error becomes a response
            if isinstance(exc, RoutingMethodNotAllowed) and exc.valid_methods:
                endpoint = self._endpoint_for(urls, next(iter(exc.valid_methods)))
            response = self._error_response(exc, request)
        if endpoint == "token" and "client_auth" not in request.notes:
            request.notes.update(token.observe_client_auth(request))
        self.journal.record(
            request,
            response,
            endpoint=endpoint,
            at=at,
            duration=time.perf_counter() - started,
            generation=generation,
        )
        return response

    @staticmethod
    def _endpoint_for(urls: MapAdapter, method: str) -> str:
        """Name the endpoint a wrong-method request was meant for, for the journal."""
        try:
            return str(urls.match(method=method)[0])
        except HTTPException:
            return "unknown"

    def _dispatch(
        self, endpoint: str, request: Request, args: Mapping[str, Any]
    ) -> Response:
        if endpoint == "index":
            return self._index()
        if endpoint == "control":
            assert self.control is not None
            return self.control.handle_http(request, args["operation"])
        handler = HANDLERS[endpoint]
        if self.control is not None:
            return self.control.intercept(
                endpoint, request, lambda: handler(self, request, **args)
            )
        return handler(self, request, **args)

    def _error_response(self, exc: Exception, request: Request) -> Response:
        if isinstance(exc, OAuthError):
            return self._oauth_error(exc, request)
        if isinstance(exc, FatalAuthoriseError):
            request.notes["error"] = "fatal"
            return self.pages.render(
                "error.html", status=exc.status, title=exc.title, detail=exc.detail
            )
        if isinstance(exc, ApiError):
            request.notes["error"] = exc.message
            return json_response(exc.body(), exc.status)
        if isinstance(exc, RoutingMethodNotAllowed):
            return self._oauth_error(
                MethodNotAllowed(sorted(exc.valid_methods or [])), request
            )
        if isinstance(exc, HTTPException) and exc.code == 404:
            return self._oauth_error(
                NotFound(f"no such path: {request.path[:80]}"), request
            )
        if isinstance(exc, HTTPException) and exc.code and exc.code < 500:
            error = InvalidRequest(exc.description or exc.name)
            response = self._oauth_error(error, request)
            response.status_code = exc.code
            return response
        log.exception("handler failed for %s %s", request.method, request.path)
        with self._errors_lock:
            self.errors.append(exc)
        request.notes["error"] = "server_error"
        return json_response(
            {"error": "server_error", "error_description": "the provider failed"}, 500
        )

    def _oauth_error(self, exc: OAuthError, request: Request) -> Response:
        request.notes["error"] = exc.error
        log.info("rejected %s %s: %s", request.method, request.path, exc.error)
        if exc.redirect_uri is not None:
            params: dict[str, str | None] = {
                "error": exc.error,
                "error_description": exc.description,
                "state": exc.state,
            }
            response = redirect(append_query(exc.redirect_uri, params), code=302)
            response.headers["Cache-Control"] = "no-store"
            return response
        return json_response(exc.body(), exc.status, exc.headers)

    def _index(self) -> Response:
        endpoints = sorted(
            (",".join(sorted((r.methods or set()) - {"HEAD", "OPTIONS"})), r.rule)
            for r in self.url_map.iter_rules()
        )
        return self.pages.render(
            "index.html",
            title="Test identity service",
            realm=self.config.realm,
            endpoints=endpoints,
            clients=[
                c
                for c in self.registry.clients.values()
                if c.realm == self.config.realm
            ],
        )

    def take_errors(self) -> list[BaseException]:
        """Return and forget the exceptions handlers raised since the last call."""
        with self._errors_lock:
            errors, self.errors = self.errors, []
        return errors


def create_app(
    config: ProviderConfig | None = None, *, clock: Clock | None = None
) -> Provider:
    """Return the fake identity service as a WSGI application to mount anywhere.

    State (codes, tokens, sessions) lives in the process: run it with one worker
    process (threads are fine), or each worker will know only its own tokens.
    """
    return Provider(config, clock=clock)
