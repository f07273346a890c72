"""Small helpers for reading requests and writing responses."""

from __future__ import annotations

import json
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request as _Request
from werkzeug.wrappers import Response

from .errors import InvalidRequest

__all__ = ["Params", "Request", "append_query", "bearer_token", "json_response"]

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class Request(_Request):
    """A request with size limits and a place for handlers to note what they saw."""

    max_content_length = 1024 * 1024
    max_form_memory_size = 256 * 1024
    max_form_parts = 100

    def __init__(self, environ: dict[str, Any]) -> None:
        super().__init__(environ)
        # werkzeug decodes the query string as strict UTF-8: raw bytes that are not
        # UTF-8 (sent unencoded by a broken client) would make every handler fail.
        self.query_string = self.query_string.decode("utf-8", "replace").encode()
        self.notes: dict[str, Any] = {}
        self._uploads: list[IO[bytes]] = []

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        stream = super()._get_file_stream(
            total_content_length, content_type, filename, content_length
        )
        self._uploads.append(stream)
        return stream

    def close(self) -> None:
        """Close every uploaded file, even those of a body that failed to parse."""
        # werkzeug keeps only the files of a multipart body it parsed to the end.
        super().close()
        for stream in self._uploads:
            stream.close()


class Params:
    """Parameters from the query string and the form body, taken together.

    A parameter given twice, in one place or across both, is an ``invalid_request``
    (RFC 6749 §3.1 and §3.2: parameters must not be included more than once).
    """

    def __init__(self, request: Request, *, body: bool = True) -> None:
        self.sources: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self._add(request.args, "query")
        if body:
            self._add(request.form, "body")

    def _add(self, multi: MultiDict[str, str], source: str) -> None:
        for key in multi:
            values = multi.getlist(key)
            if len(values) > 1 or key in self.values:
                raise InvalidRequest(f"parameter {key[:40]!r} is repeated")
            self.values[key] = values[0]
            self.sources[key] = source

    def get(self, key: str) -> str | None:
        """Return a parameter's value, or None if absent or empty."""
        value = self.values.get(key)
        return value if value else None

    def require(self, key: str) -> str:
        """Return a parameter's value, raising ``invalid_request`` if it is missing."""
        value = self.get(key)
        if value is None:
            raise InvalidRequest(f"{key} is required")
        return value


def bearer_token(request: Request) -> str | None:
    """Return the token of an ``Authorization: Bearer`` header (RFC 6750 §2.1)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def json_response(
    body: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Return a JSON response that caches nowhere."""
    response = Response(
        json.dumps(body, separators=(",", ":")),
        status=status,
        mimetype="application/json",
    )
    response.headers.update(NO_STORE)
    if headers:
        response.headers.update(headers)
    return response


def append_query(uri: str, params: dict[str, str | None]) -> str:
    """Add parameters to a URI, keeping any query it already has."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.extend((k, v) for k, v in params.items() if v is not None)
    return urlunsplit(parts._replace(query=urlencode(query)))
