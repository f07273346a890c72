"""The control plane over HTTP: each operation of :class:`Control` as JSON.

``GET`` operations read their arguments from the query string, the others from a
JSON object in the body, whatever its content type (``curl -d`` says form).
"""

from __future__ import annotations

import inspect
import json
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from .errors import InvalidRequest, NotFound
from .wire import Request, json_response

if TYPE_CHECKING:
    from .control import Control

__all__ = ["ROUTES", "handle"]

ROUTES: dict[tuple[str, str], str] = {
    ("POST", "clients"): "register_client",
    ("POST", "users"): "add_user",
    ("POST", "companies"): "add_company",
    ("POST", "auth-code"): "set_auth_code",
    ("POST", "revoke-user"): "revoke_user",
    ("POST", "arrange"): "arrange",
    ("POST", "faults"): "fault",
    ("DELETE", "faults"): "clear_faults",
    ("GET", "faults"): "_faults",
    ("GET", "clock"): "now",
    ("POST", "clock"): "advance",
    ("GET", "journal"): "journal",
    ("DELETE", "journal"): "clear_journal",
    ("POST", "reset"): "reset",
}


def handle(control: Control, request: Request, operation: str) -> Response:
    """Serve one control operation (see the README's control section)."""
    route = ROUTES.get((request.method, operation))
    if route is None:
        raise NotFound(f"no control operation {request.method} {operation[:60]}")
    arguments = _json_arguments(request)
    request.notes["control"] = operation
    method = getattr(control, route)
    try:
        bound = inspect.signature(method).bind(**arguments)
    except TypeError as exc:
        raise InvalidRequest(f"{operation}: {exc}") from exc
    try:
        result = method(*bound.args, **bound.kwargs)
    except (TypeError, ValueError) as exc:
        # JSON gives any type: a wrong one is the caller's error, not ours.
        raise InvalidRequest(f"{operation}: {exc}") from exc
    return json_response(_jsonable(result))


def _json_arguments(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        args = dict(request.args.items())
        if "since" in args:
            try:
                return {**args, "since": int(args["since"])}
            except ValueError as exc:
                raise InvalidRequest("since must be a whole number") from exc
        return args
    data = request.get_data(cache=True)
    if not data.strip():
        return {}
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise InvalidRequest("the body must be a JSON object") from exc
    if not isinstance(document, dict):
        raise InvalidRequest("the body must be a JSON object")
    return document


def _jsonable(result: Any) -> Any:
    if result is None:
        return {"ok": True}
    if isinstance(result, float | int):
        return {"value": result}
    if isinstance(result, list):
        return {"items": [_jsonable(item) for item in result]}
    if hasattr(result, "json"):
        return result.json()
    if is_dataclass(result) and not isinstance(result, type):
        data = asdict(result)
        data.pop("client_secret", None)
        data.pop("password", None)
        return data
    return result
