"""A small part of the Companies House REST API, so clients can use their tokens.

``POST /transactions`` opens a filing transaction for a company, and
``GET /transactions/{id}`` reads one back. A token only covers the companies its
scopes name (API filing guide); anything else is a 401 with the Companies House
error body.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from .config import COMPANY_NUMBER
from .errors import ApiError
from .store import AccessToken, Grant
from .verify import effective_scopes
from .wire import Request, bearer_token, json_response

if TYPE_CHECKING:
    from .app import Provider

__all__ = ["create_transaction", "get_transaction"]


def create_transaction(provider: Provider, request: Request) -> Response:
    """Open a transaction for the company named in the body."""
    token, grant = _authorise(provider, request)
    fields = _body(request)
    number = fields.get("company_number")
    if not isinstance(number, str) or not COMPANY_NUMBER.match(number):
        raise ApiError(
            400, "company_number must be 8 letters or digits", "ch:validation"
        )
    _validate_company(token, grant, number)

    company = provider.registry.companies.get(number)
    transaction_id = "-".join(f"{secrets.randbelow(10**6):06d}" for _ in range(3))
    transaction = {
        "id": transaction_id,
        "company_number": number,
        "company_name": company.name if company else "",
        "description": str(fields.get("description", ""))[:200],
        "reference": str(fields.get("reference", ""))[:200],
        "status": "open",
        "created_at": provider.clock.now(),
        "created_by": {"id": grant.user_id},
        "links": {"self": f"/transactions/{transaction_id}"},
    }
    provider.store.add_transaction(transaction)
    return json_response(transaction, 201)


def get_transaction(
    provider: Provider, request: Request, transaction_id: str
) -> Response:
    """Return a transaction the token's scopes cover."""
    token, grant = _authorise(provider, request)
    transaction = provider.store.transaction(transaction_id)
    if transaction is None:
        raise ApiError(404, "transaction not found")
    _validate_company(token, grant, transaction["company_number"])
    return json_response(transaction)


def _authorise(provider: Provider, request: Request) -> tuple[AccessToken, Grant]:
    if not request.headers.get("Authorization", "").strip():
        raise ApiError(401, "Empty Authorization header")
    value = bearer_token(request)
    found = provider.store.access_token(value) if value else None
    if found is None:
        raise ApiError(401, "Invalid Authorization")
    request.notes["client_id"] = found[0].client_id
    return found


def _validate_company(token: AccessToken, grant: Grant, number: str) -> None:
    marks = (f"/company/{number}/", "/company/*/")
    if not any(m in s for s in effective_scopes(token, grant) for m in marks):
        raise ApiError(401, "Invalid Authorization")


def _body(request: Request) -> dict[str, Any]:
    if request.form:
        return dict(request.form.items())
    try:
        document = json.loads(request.get_data(cache=True) or b"{}")
    except ValueError as exc:
        raise ApiError(400, "the body is not valid JSON", "ch:validation") from exc
    if not isinstance(document, dict):
        raise ApiError(400, "the body must be a JSON object", "ch:validation")
    return document
