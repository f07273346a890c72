"""Faults and response variants a test arranges on the provider's endpoints.

A fault replaces (or delays, or drops) the response of the next request to an
endpoint; a variant changes the shape of a successful token or verify response. Each
applies once, N times, or until cleared.
"""

from __future__ import annotations

import json
import math
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from werkzeug.wrappers import Response

from .wire import Request, json_response

__all__ = [
    "ENDPOINTS",
    "KINDS",
    "RESPONSE_FAULTS",
    "TOKEN_VARIANTS",
    "VERIFY_VARIANTS",
    "Fault",
    "FaultKind",
    "FaultTable",
    "respond",
]

# Faults that replace the response, or change its timing or delivery.
ResponseFault = Literal[
    "status",
    "html",
    "truncated_json",
    "invalid_json",
    "error_200",
    "expired",
    "delay",
    "drop",
]
# Changes to the shape of a successful token response.
TokenVariant = Literal[
    "expires_in_string",
    "token_type_lower",
    "token_type_absent",
    "no_refresh_token",
    "rotate_refresh_token",
    "scope_echoed",
    "scope_omitted",
    "scope_narrowed",
]
# Changes to the shape of a successful verify response.
VerifyVariant = Literal["expires_in_string", "different_scope"]
FaultKind = Literal[ResponseFault, TokenVariant, VerifyVariant]

KINDS: frozenset[str] = frozenset(get_args(FaultKind))
RESPONSE_FAULTS: frozenset[str] = frozenset(get_args(ResponseFault))
TOKEN_VARIANTS: frozenset[str] = frozenset(get_args(TokenVariant))
VERIFY_VARIANTS: frozenset[str] = frozenset(get_args(VerifyVariant))
VARIANTS = TOKEN_VARIANTS | VERIFY_VARIANTS
ENDPOINTS: dict[str, frozenset[str]] = {
    "authorise": frozenset({"authorise"}),
    "token": frozenset({"token"}),
    "verify": frozenset({"verify"}),
    "profile": frozenset({"profile"}),
    "api": frozenset({"create_transaction", "get_transaction"}),
    "create_transaction": frozenset({"create_transaction"}),
    "get_transaction": frozenset({"get_transaction"}),
}
_API = frozenset({"create_transaction", "get_transaction"})
_VARIANT_HOMES = (("token", TOKEN_VARIANTS), ("verify", VERIFY_VARIANTS))


@dataclass(kw_only=True)
class Fault:
    """One arranged fault or variant and how many more times it applies."""

    endpoint: str
    kind: FaultKind
    times: int | None = 1
    status: int | None = None
    body: Any = None
    error: str = "invalid_grant"
    seconds: float = 0.0
    scope: str | None = None
    fired: int = field(default=0)

    def __post_init__(self) -> None:
        if self.endpoint not in ENDPOINTS:
            raise ValueError(
                f"endpoint must be one of {', '.join(sorted(ENDPOINTS))}, "
                f"not {self.endpoint!r}"
            )
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(sorted(KINDS))}")
        homes = [name for name, kinds in _VARIANT_HOMES if self.kind in kinds]
        if homes and self.endpoint not in homes:
            # Anywhere else the variant would never fire and never be used up.
            raise ValueError(f"{self.kind} is a variant of {' and '.join(homes)} only")
        if self.kind == "expired" and self.endpoint in ("authorise", "token"):
            raise ValueError("expired applies to verify, profile and api only")
        if self.times is not None and (not _whole(self.times) or self.times < 1):
            raise ValueError("times must be at least 1, or None for until cleared")
        if self.status is not None and (
            not _whole(self.status) or not 100 <= self.status <= 599
        ):
            raise ValueError("status must be an HTTP status code")
        if not _number(self.seconds) or not 0 <= self.seconds <= 300:
            raise ValueError("seconds must be between 0 and 300")
        if self.scope is not None and not isinstance(self.scope, str):
            raise ValueError("scope must be a space separated string")
        if not isinstance(self.error, str) or not self.error:
            raise ValueError("error must be an OAuth error code")

    def json(self) -> dict[str, Any]:
        """Return the fault as a JSON-ready dict."""
        return {k: v for k, v in vars(self).items() if v is not None}


class FaultTable:
    """The faults in force, consumed in the order they were arranged."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        """Arrange a fault."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        """Return the faults still in force."""
        with self._lock:
            return list(self._faults)

    def take(
        self, endpoint: str, kinds: frozenset[str], *, first: bool = False
    ) -> list[Fault]:
        """Consume the faults of these kinds for one request to ``endpoint``.

        At most one fault of each kind fires per request: two ``once`` faults of
        the same kind fire on two consecutive requests. With ``first``, only the
        earliest arranged fault fires (a request has one response to replace).
        """
        taken: dict[str, Fault] = {}
        with self._lock:
            for fault in self._faults:
                if (
                    fault.kind in kinds
                    and fault.kind not in taken
                    and endpoint in ENDPOINTS[fault.endpoint]
                ):
                    taken[fault.kind] = fault
                    if first:
                        break
            for fault in taken.values():
                fault.fired += 1
                if fault.times is not None and fault.fired >= fault.times:
                    self._faults.remove(fault)
        return list(taken.values())


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def respond(
    fault: Fault,
    endpoint: str,
    request: Request,
    call: Callable[[], Response],
    cancelled: threading.Event,
) -> Response:
    """Apply a response fault to one request.

    A delay ends early when ``cancelled`` is set (a reset), so an arranged wait
    never outlives the test that arranged it.
    """
    request.notes["fault"] = fault.kind
    if fault.kind == "delay":
        cancelled.wait(fault.seconds)
        return call()
    if fault.kind == "drop":
        return _drop(request)
    if fault.kind == "html":
        html = fault.body if isinstance(fault.body, str) else _HTML
        return Response(html, status=fault.status or 500, mimetype="text/html")
    if fault.kind == "truncated_json":
        text = json.dumps(fault.body or _TRUNCATED_SOURCE)
        return Response(
            text[: len(text) // 2],
            status=fault.status or 200,
            mimetype="application/json",
        )
    if fault.kind == "invalid_json":
        return Response(
            "{'access_token': nope",
            status=fault.status or 200,
            mimetype="application/json",
        )
    if fault.kind == "error_200":
        return json_response({"error": fault.error}, fault.status or 200)
    if fault.kind == "expired":
        return _expired(endpoint)
    return json_response(_status_body(fault, endpoint), fault.status or 500)


def _status_body(fault: Fault, endpoint: str) -> Any:
    if fault.body is not None:
        return fault.body
    status = fault.status or 500
    if endpoint in _API:
        messages = {401: "Invalid Authorization", 429: "Rate limit exceeded"}
        return {
            "error": messages.get(status, "Internal server error"),
            "type": "ch:service",
        }
    if status >= 500:
        return {"error": "server_error", "error_description": "arranged failure"}
    return {"error": fault.error, "error_description": "arranged failure"}


def _expired(endpoint: str) -> Response:
    if endpoint in _API:
        return json_response(
            {"error": "Invalid Authorization", "type": "ch:service"}, 401
        )
    return json_response(
        {"error": "invalid_token", "error_description": "the access token has expired"},
        401,
        {"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def _drop(request: Request) -> Response:
    sock = request.environ.get("werkzeug.socket") or request.environ.get(
        "gunicorn.socket"
    )
    if isinstance(sock, socket.socket):
        # Read the body first: closing discards it, and the journal records it.
        request.get_data(cache=True)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return Response(b"", status=200)
    # No socket to close: the closest a bare WSGI app can do is an empty answer.
    return Response(b"", status=502)


_HTML = (
    "<!DOCTYPE html><html><head><title>Service unavailable</title></head>"
    "<body><h1>Sorry, there is a problem with the service</h1></body></html>"
)
_TRUNCATED_SOURCE = {
    "access_token": "truncated-token-value-that-never-ends",
    "token_type": "Bearer",
    "expires_in": 3600,
}
