"""``/oauth2/verify``: what an access token is, and for how long.

SPEC documents ``GET ?access_token=``; its own example posts ``access-token``. Both
spellings are read, from the query, the body or a Bearer header.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from .errors import InvalidRequest, InvalidToken
from .scopes import join_scope
from .store import AccessToken, Grant
from .wire import Request, bearer_token, json_response

if TYPE_CHECKING:
    from .app import Provider

__all__ = ["effective_scopes", "validate_access_token", "verify"]


def verify(provider: Provider, request: Request) -> Response:
    """Describe a live access token: client, seconds left, scope, user."""
    value = _token_from(request)
    if value is None:
        raise InvalidRequest("access_token is required")
    token, grant = validate_access_token(provider, request, value)

    remaining = max(0, int(token.expires_at - provider.clock.now()))
    body = {
        "application": token.client_id,
        "expires_in": str(remaining)
        if provider.config.expires_in_as_string
        else remaining,
        "scope": join_scope(effective_scopes(token, grant)),
        "user_id": grant.user_id,
    }
    if provider.control is not None:
        body = provider.control.shape_verify(body)
    return json_response(body)


def _token_from(request: Request) -> str | None:
    for source in (request.args, request.form):
        for name in ("access_token", "access-token"):
            value = source.get(name)
            if value:
                return value
    return bearer_token(request)


def validate_access_token(
    provider: Provider, request: Request, value: str
) -> tuple[AccessToken, Grant]:
    """Return the live token and its grant, or raise ``invalid_token``."""
    found = provider.store.access_token(value)
    if found is None:
        raise InvalidToken("the access token is unknown, expired or revoked")
    request.notes["client_id"] = found[0].client_id
    return found


def effective_scopes(token: AccessToken, grant: Grant) -> tuple[str, ...]:
    """The token's scopes that its grant still holds."""
    return tuple(s for s in token.scopes if s in grant.scopes)
