"""``GET /user/profile``: who signed in, for a token with ``user/profile.read``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from .errors import InsufficientScope, InvalidToken
from .scopes import PROFILE_SCOPE, join_scope
from .verify import effective_scopes, validate_access_token
from .wire import Request, bearer_token, json_response

if TYPE_CHECKING:
    from .app import Provider

__all__ = ["profile"]


def profile(provider: Provider, request: Request) -> Response:
    """Return the signed-in person's profile (SPEC, ``/user/profile``)."""
    value = bearer_token(request)
    if value is None:
        raise InvalidToken("a Bearer access token is required")
    token, grant = validate_access_token(provider, request, value)
    scopes = effective_scopes(token, grant)
    if PROFILE_SCOPE not in scopes:
        raise InsufficientScope(f"the token lacks {PROFILE_SCOPE}")
    user = provider.registry.users.get(grant.user_id)
    if user is None:
        raise InvalidToken("the token's user no longer exists")

    return json_response(
        {
            "id": user.user_id,
            "email": user.email,
            "forename": user.forename,
            "surname": user.surname,
            "locale": user.locale,
            "scope": join_scope(scopes),
        }
    )
