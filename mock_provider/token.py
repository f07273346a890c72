"""``POST /oauth2/token``: the authorization_code and refresh_token grants.

RFC 6749 §4.1.3 and §6, with what Companies House clients are known to send
(``ch-oauth-facts``, /oauth2/token): parameters in the query string as well as the
body, and client credentials by HTTP Basic or as parameters.
"""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from werkzeug.datastructures import Authorization, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .config import Client
from .errors import (
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    UnsupportedGrantType,
)
from .scopes import split_scope
from .store import Grant
from .wire import Params, Request, json_response

if TYPE_CHECKING:
    from .app import Provider

__all__ = [
    "authenticate_client",
    "exchange_code",
    "issue_token",
    "observe_client_auth",
    "refresh",
    "token",
]

log = logging.getLogger(__name__)


def token(provider: Provider, request: Request) -> Response:
    """Exchange a code or a refresh token for an access token."""
    params = Params(request)
    client = authenticate_client(provider, request, params)
    grant_type = params.require("grant_type")
    if grant_type == "authorization_code":
        body = exchange_code(provider, client, params)
    elif grant_type == "refresh_token":
        body = refresh(provider, client, params)
    else:
        raise UnsupportedGrantType(f"grant_type {grant_type[:40]!r} is not supported")
    request.notes["grant_type"] = grant_type
    return json_response(body)


def authenticate_client(provider: Provider, request: Request, params: Params) -> Client:
    """Identify the client by HTTP Basic or by parameters (RFC 6749 §2.3.1).

    Both at once must agree, or the request is ``invalid_client``. An Authorization
    header of another scheme is ignored here (``ch-oauth-facts``).
    """
    basic = _basic_credentials(request)
    client_id, secret = params.get("client_id"), params.get("client_secret")
    if basic is not None:
        if (client_id and client_id not in basic[0]) or (
            secret and secret not in basic[1]
        ):
            raise InvalidClient(
                "client credentials sent by Basic and as parameters disagree",
                basic=True,
            )
        method = "client_secret_basic"
    else:
        method = (
            "client_secret_query"
            if params.sources.get("client_secret") == "query"
            else "client_secret_post"
        )
    ids, secrets = (basic[0], basic[1]) if basic else ((client_id,), (secret,))
    request.notes["client_auth"] = method if any(secrets) else "none"
    request.notes["client_id"] = next((i for i in ids if i), None)

    client = next((c for i in ids if (c := provider.registry.client(i))), None)
    if client is None:
        raise InvalidClient("unknown client", basic=basic is not None)
    expected = client.client_secret.encode()
    if not any(s and hmac.compare_digest(s.encode(), expected) for s in secrets):
        raise InvalidClient("client authentication failed", basic=basic is not None)
    request.notes["client_id"] = client.client_id
    return client


def observe_client_auth(request: Request) -> dict[str, str | None]:
    """Say how a token request presented the client, without judging it.

    Used for the journal when a request was answered before authentication ran
    (an arranged fault, a malformed request).
    """
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        auth = _authorization(request)
        client_id = auth.username if auth is not None else None
        return {"client_auth": "client_secret_basic", "client_id": client_id}
    form: MultiDict[str, str]
    try:
        form = request.form
    except HTTPException:
        # The body was refused (too large, cut off): only the query is left to read.
        form = MultiDict()
    if form.get("client_secret"):
        method = "client_secret_post"
    elif request.args.get("client_secret"):
        method = "client_secret_query"
    else:
        method = "none"
    client_id = form.get("client_id") or request.args.get("client_id")
    return {"client_auth": method, "client_id": client_id}


def _authorization(request: Request) -> Authorization | None:
    """Parse the Authorization header; None if werkzeug cannot."""
    try:
        return request.authorization
    except ValueError:
        # werkzeug lets base64's error for non-ASCII credentials escape.
        return None


def _basic_credentials(
    request: Request,
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """Return the Basic credentials, raw and form-decoded (RFC 6749 §2.3.1)."""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() != "basic ":
        return None
    auth = _authorization(request)
    if auth is None or auth.type != "basic" or not auth.username:
        raise InvalidClient("malformed Basic credentials", basic=True)
    username, password = auth.username, auth.password or ""
    return (
        (username, unquote_plus(username)),
        (password, unquote_plus(password)),
    )


def exchange_code(provider: Provider, client: Client, params: Params) -> dict[str, Any]:
    """Redeem an authorisation code (RFC 6749 §4.1.3).

    A code is used once; a second use revokes every token issued from it
    (RFC 6749 §4.1.2).
    """
    value = params.require("code")
    redirect_uri = params.require("redirect_uri")
    code, replayed = provider.store.take_code(value)
    if code is None:
        raise InvalidGrant("the code is unknown or has expired")
    if replayed:
        provider.store.revoke_grant(code.grant_id)
        raise InvalidGrant("the code was already used; its tokens are revoked")
    if code.client_id != client.client_id:
        raise InvalidGrant("the code was issued to another client")
    if redirect_uri != code.redirect_uri:
        raise InvalidGrant("redirect_uri differs from the authorisation request's")
    grant = provider.store.grant(code.grant_id)
    if grant is None:
        raise InvalidGrant("the grant has been revoked")

    refresh_token = provider.store.add_refresh_token(
        grant, provider.config.refresh_token_lifetime
    )
    log.info("token issued", extra={"client_id": client.client_id})
    return issue_token(provider, grant, grant.scopes, refresh_token.value, first=True)


def refresh(provider: Provider, client: Client, params: Params) -> dict[str, Any]:
    """Issue a new access token from a refresh token (RFC 6749 §6).

    Companies House returns no new refresh token: the old one stays valid.
    """
    value = params.require("refresh_token")
    found = provider.store.refresh_token(value)
    if found is None or found[0].client_id != client.client_id:
        raise InvalidGrant("the refresh token is unknown, expired or revoked")
    _, grant = found
    scopes = grant.scopes
    requested = params.get("scope")
    if requested is not None:
        asked = tuple(dict.fromkeys(split_scope(requested)))
        if not set(asked) <= set(grant.scopes):
            raise InvalidScope("scope exceeds what was granted")
        scopes = asked

    log.info("token refreshed", extra={"client_id": client.client_id})
    return issue_token(provider, grant, scopes, value, first=False)


def issue_token(
    provider: Provider,
    grant: Grant,
    scopes: tuple[str, ...],
    refresh_token: str,
    *,
    first: bool,
) -> dict[str, Any]:
    """Build the token response, shaped by any variant a test asked for."""
    lifetime = provider.config.access_token_lifetime
    access = provider.store.add_access_token(grant, scopes, lifetime)
    body: dict[str, Any] = {
        "access_token": access.value,
        "token_type": "Bearer",
        "expires_in": str(lifetime)
        if provider.config.expires_in_as_string
        else lifetime,
    }
    if first:
        body["refresh_token"] = refresh_token
    if provider.control is not None:
        body = provider.control.shape_token(
            provider, grant, scopes, body, refresh_token
        )
    return body
