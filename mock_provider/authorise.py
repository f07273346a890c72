"""``GET /oauth2/authorise`` and the pages a person walks through after it.

The journey (Companies House guide, web server apps): sign in, type the auth code of
each company a scope names, approve on the consent page, and go back to the client's
``redirect_uri`` with ``code`` and ``state``. A program can walk it by posting the
forms, or a test can arrange the outcome in advance (see ``control.py``).
"""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from .config import Client
from .errors import (
    AccessDenied,
    FatalAuthoriseError,
    InvalidRequest,
    OAuthError,
    UnsupportedResponseType,
)
from .scopes import GrantedScope
from .store import Journey, new_secret
from .wire import Request, append_query

if TYPE_CHECKING:
    from .app import Provider

__all__ = [
    "COMPANY_PATH",
    "CONSENT_PATH",
    "SIGNIN_PATH",
    "approve",
    "authorise",
    "company_code",
    "consent",
    "deny",
    "is_right_auth_code",
    "signin",
]

log = logging.getLogger(__name__)

BROWSER_COOKIE = "ch_mock_browser"
SESSION_COOKIE = "ch_mock_session"
SIGNIN_PATH = "/oauth2/authorise/signin"
COMPANY_PATH = "/oauth2/authorise/company-auth-code"
CONSENT_PATH = "/oauth2/authorise/consent"
_TRUE = {"true", "1", "yes"}


def authorise(provider: Provider, request: Request) -> Response:
    """Validate an authorisation request and start the person's journey.

    RFC 6749 §4.1.1; errors per §4.1.2.1: an unknown client or unregistered
    redirect URI gets an HTML page, anything else a redirect with ``error``.
    """
    client, redirect_uri = _validate_client(provider, request)
    state = request.args.get("state")
    request.notes["client_id"] = client.client_id
    try:
        scopes = _validate_request(provider, request, client)
    except OAuthError as exc:
        exc.redirect_uri, exc.state = redirect_uri, state
        raise

    browser_id = request.cookies.get(BROWSER_COOKIE) or new_secret(16)
    journey = provider.store.add_journey(
        provider.config.journey_lifetime,
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        state=state,
        scopes=tuple(s.value for s in scopes),
        companies=tuple(
            dict.fromkeys(s.company_number for s in scopes if s.company_number)
        ),
        browser_id=browser_id,
    )
    arranged = provider.control.take_arrangement() if provider.control else None
    if arranged is not None:
        response = arranged.complete(provider, journey)
    else:
        response = _resume(provider, request, journey)
    response.set_cookie(BROWSER_COOKIE, browser_id, httponly=True, samesite="Lax")
    return response


def _validate_client(provider: Provider, request: Request) -> tuple[Client, str]:
    for name in ("client_id", "redirect_uri"):
        if len(request.args.getlist(name)) > 1:
            raise FatalAuthoriseError("Invalid request", f"{name} is repeated.")
    client = provider.registry.client(request.args.get("client_id"))
    if client is None:
        raise FatalAuthoriseError(
            "Unknown application",
            "The application that sent you here is not registered with this service.",
        )
    redirect_uri = request.args.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        raise FatalAuthoriseError(
            "Invalid redirect address",
            "The address the application asked to send you back to is not one it "
            "registered.",
        )
    return client, redirect_uri


def _validate_request(
    provider: Provider, request: Request, client: Client
) -> tuple[GrantedScope, ...]:
    for name, values in request.args.lists():
        if len(values) > 1:
            raise InvalidRequest(f"{name[:40]} is repeated")
    response_type = request.args.get("response_type")
    if not response_type:
        raise InvalidRequest("response_type is required")
    if response_type != "code":
        raise UnsupportedResponseType("only response_type=code is supported")
    if provider.config.require_state and not request.args.get("state"):
        raise InvalidRequest("state is required")
    return provider.registry.scopes.validate(request.args.get("scope", ""), client)


def _resume(provider: Provider, request: Request, journey: Journey) -> Response:
    force = request.args.get("reauthenticate", "").lower() in _TRUE
    session = provider.store.session(request.cookies.get(SESSION_COOKIE, ""))
    if session is not None and not force and session.user_id in provider.registry.users:
        journey.user_id = session.user_id
        return next_page(provider, journey)
    return _signin_page(provider, journey, email=request.args.get("hint", ""))


def next_page(
    provider: Provider, journey: Journey, error: str | None = None
) -> Response:
    """Render the page the journey is at: a company's auth code, or consent."""
    client = provider.registry.clients[journey.client_id]
    number = journey.pending_company
    if number is not None:
        return provider.pages.render(
            "company_code.html",
            title="Enter the company authentication code",
            error=error,
            error_field="auth_code",
            journey=journey,
            client=client,
            company=provider.registry.companies[number],
            action=COMPANY_PATH,
        )
    user = provider.registry.users[journey.user_id or ""]
    return provider.pages.render(
        "consent.html",
        title="Allow access to your account",
        journey=journey,
        client=client,
        user=user,
        permissions=_permissions(provider, journey),
        action=CONSENT_PATH,
    )


def _signin_page(
    provider: Provider, journey: Journey, email: str = "", error: str | None = None
) -> Response:
    return provider.pages.render(
        "signin.html",
        title="Sign in to Companies House",
        error=error,
        error_field="email",
        journey=journey,
        client=provider.registry.clients[journey.client_id],
        email=email,
        action=SIGNIN_PATH,
    )


def _permissions(provider: Provider, journey: Journey) -> list[str]:
    client = provider.registry.clients[journey.client_id]
    items = []
    for scope in provider.registry.scopes.validate(" ".join(journey.scopes), client):
        name = ""
        if scope.company_number:
            name = provider.registry.companies[scope.company_number].name
        items.append(scope.definition.description.replace("{company_name}", name))
    return items


def signin(provider: Provider, request: Request) -> Response:
    """Check the sign-in form; on success go on to the next page."""
    journey = _journey_from_form(provider, request)
    email = request.form.get("email", "")
    user = provider.registry.user_by_credentials(
        email, request.form.get("password", "")
    )
    if user is None:
        request.notes["signin"] = "failed"
        return _signin_page(
            provider, journey, email, "Enter a correct email address and password"
        )

    journey.user_id = user.user_id
    session = provider.store.add_session(user.user_id, provider.config.session_lifetime)
    response = next_page(provider, journey)
    response.set_cookie(
        SESSION_COOKIE, session.session_id, httponly=True, samesite="Lax"
    )
    return response


def company_code(provider: Provider, request: Request) -> Response:
    """Check a company's auth code; re-prompt, deny after too many, or go on."""
    journey = _journey_from_form(provider, request)
    number = journey.pending_company
    if journey.user_id is None or number is None:
        raise FatalAuthoriseError(
            "Page out of order", "Start again from the application."
        )
    if request.form.get("action") == "cancel":
        raise deny(provider, journey, "the person cancelled the auth code step")

    if is_right_auth_code(provider, number, request.form.get("auth_code", "")):
        journey.companies_done += 1
        journey.failures = 0
        return next_page(provider, journey)

    journey.failures += 1
    request.notes["auth_code"] = "wrong"
    if journey.failures >= provider.config.max_auth_code_attempts:
        raise deny(provider, journey, "too many wrong company authentication codes")
    left = provider.config.max_auth_code_attempts - journey.failures
    return next_page(
        provider,
        journey,
        f"The authentication code is not correct. You have {left} more "
        f"{'try' if left == 1 else 'tries'}.",
    )


def consent(provider: Provider, request: Request) -> Response:
    """Approve (redirect with a code) or decline (redirect with access_denied)."""
    journey = _journey_from_form(provider, request)
    if journey.user_id is None or journey.pending_company is not None:
        raise FatalAuthoriseError(
            "Page out of order", "Start again from the application."
        )
    decision = request.form.get("decision")
    if decision == "approve":
        return approve(provider, journey)
    if decision == "decline":
        raise deny(provider, journey, "the person declined")
    raise FatalAuthoriseError("Invalid request", "Choose whether to allow access.")


def approve(provider: Provider, journey: Journey) -> Response:
    """Issue a code for the journey and send the person back to the client."""
    if not provider.store.end_journey(journey.journey_id):
        raise FatalAuthoriseError(
            "Already answered", "This sign-in has already been answered."
        )
    grant = provider.store.add_grant(
        client_id=journey.client_id,
        user_id=journey.user_id,
        scopes=journey.scopes,
        companies=journey.companies,
        redirect_uri=journey.redirect_uri,
    )
    code = provider.store.add_code(grant, provider.config.code_lifetime)
    log.info("code issued", extra={"client_id": journey.client_id})
    location = append_query(
        journey.redirect_uri, {"code": code.value, "state": journey.state}
    )
    return redirect(location, code=302)


def is_right_auth_code(provider: Provider, number: str, typed: str) -> bool:
    """Whether ``typed`` is the company's auth code (case and spaces aside)."""
    expected = provider.registry.companies[number].auth_code.strip().upper()
    return hmac.compare_digest(typed.strip().upper().encode(), expected.encode())


def deny(provider: Provider, journey: Journey, why: str) -> AccessDenied:
    """End the journey; return the ``access_denied`` redirect to raise."""
    provider.store.end_journey(journey.journey_id)
    return AccessDenied(why, redirect_uri=journey.redirect_uri, state=journey.state)


def _journey_from_form(provider: Provider, request: Request) -> Journey:
    journey = provider.store.journey(request.form.get("journey", ""))
    if journey is None:
        raise FatalAuthoriseError(
            "Sign-in expired",
            "This sign-in has expired. Start again from the application.",
        )
    request.notes["client_id"] = journey.client_id
    token = request.form.get("csrf_token", "")
    browser = request.cookies.get(BROWSER_COOKIE, "")
    if not (
        hmac.compare_digest(token.encode(), journey.csrf_token.encode())
        and hmac.compare_digest(browser.encode(), journey.browser_id.encode())
    ):
        raise FatalAuthoriseError(
            "Form not accepted", "The form could not be checked. Start again."
        )
    return journey
