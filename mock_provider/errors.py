"""Errors that carry their wire contract: RFC 6749 code, HTTP status, description.

An :class:`OAuthError` becomes a JSON body (RFC 6749 §5.2) or, when raised with a
``redirect_uri`` during authorisation, a redirect (RFC 6749 §4.1.2.1). A
:class:`FatalAuthoriseError` never redirects: the client or its redirect URI cannot be
trusted, so the person sees an HTML page. :class:`ApiError` is the REST API's own
error body. All of them are turned into responses in ``app.py`` and nowhere else.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AccessDenied",
    "ApiError",
    "FatalAuthoriseError",
    "InsufficientScope",
    "InvalidClient",
    "InvalidGrant",
    "InvalidRequest",
    "InvalidScope",
    "InvalidToken",
    "MethodNotAllowed",
    "NotFound",
    "OAuthError",
    "UnauthorizedClient",
    "UnsupportedGrantType",
    "UnsupportedResponseType",
]


class OAuthError(Exception):
    """An error with an RFC 6749 code; redirects if it knows where to."""

    error: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400

    def __init__(
        self,
        description: str,
        *,
        redirect_uri: str | None = None,
        state: str | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.redirect_uri = redirect_uri
        self.state = state
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, str]:
        """Return the RFC 6749 §5.2 error object."""
        return {"error": self.error, "error_description": self.description}


class InvalidRequest(OAuthError):
    """RFC 6749 §5.2 ``invalid_request``."""


class InvalidClient(OAuthError):
    """RFC 6749 §5.2 ``invalid_client``: unknown client or wrong secret."""

    error = "invalid_client"
    status = 401

    def __init__(self, description: str, *, basic: bool = False) -> None:
        super().__init__(description)
        if basic:
            self.headers["WWW-Authenticate"] = 'Basic realm="oauth2"'


class InvalidGrant(OAuthError):
    """RFC 6749 §5.2 ``invalid_grant``: bad, used, expired or revoked code or token."""

    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    """RFC 6749 ``unauthorized_client``: the client may not ask for this."""

    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    """RFC 6749 §5.2 ``unsupported_grant_type``."""

    error = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    """RFC 6749 §4.1.2.1 ``unsupported_response_type``."""

    error = "unsupported_response_type"


class InvalidScope(OAuthError):
    """RFC 6749 ``invalid_scope``: unknown scope or malformed company number."""

    error = "invalid_scope"


class AccessDenied(OAuthError):
    """RFC 6749 §4.1.2.1 ``access_denied``: the person said no or failed the code."""

    error = "access_denied"


class InvalidToken(OAuthError):
    """RFC 6750 §3.1 ``invalid_token``: unknown, expired or revoked access token."""

    error = "invalid_token"
    status = 401

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.headers["WWW-Authenticate"] = (
            f'Bearer error="invalid_token", error_description="{description}"'
        )


class InsufficientScope(OAuthError):
    """RFC 6750 §3.1 ``insufficient_scope``."""

    error = "insufficient_scope"
    status = 403


class NotFound(OAuthError):
    """No route for this path."""

    error = "not_found"
    status = 404


class MethodNotAllowed(OAuthError):
    """The route exists but not for this method."""

    error = "invalid_request"
    status = 405

    def __init__(self, allowed: list[str]) -> None:
        super().__init__(f"method not allowed; use {', '.join(allowed)}")
        self.headers["Allow"] = ", ".join(allowed)


class FatalAuthoriseError(Exception):
    """An authorisation request that must not redirect (RFC 6749 §4.1.2.1).

    Raised for an unknown ``client_id`` or a ``redirect_uri`` not registered for the
    client; also for a browser journey that cannot go on (expired, forged form).
    """

    status = 400

    def __init__(self, title: str, detail: str) -> None:
        super().__init__(detail)
        self.title = title
        self.detail = detail


class ApiError(Exception):
    """An error of the REST API, in the body shape Companies House uses."""

    def __init__(self, status: int, message: str, kind: str = "ch:service") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind

    def body(self) -> dict[str, str]:
        """Return the Companies House error object."""
        return {"error": self.message, "type": self.kind}
