"""The record of every exchange with the provider, secrets redacted.

Tests and the conformance suite judge a client from this record, not from logs.
Values that would let a reader act as the client or the person (secrets, codes,
tokens, passwords, cookies) are cut to a short prefix followed by ``…``; the prefix
is enough to tell one token from another in a report.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .wire import Request

__all__ = [
    "Exchange",
    "Journal",
    "redact",
    "redact_text",
]

SECRET_KEYS = frozenset(
    {
        "access_token",
        "access-token",
        "auth_code",
        "client_secret",
        "code",
        "csrf_token",
        "password",
        "refresh_token",
    }
)
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie"})
PREFIX = 6
MAX_BODY = 4096
MAX_HTML = 1024
_KEYS = "|".join(re.escape(k) for k in sorted(SECRET_KEYS))
_IN_TEXT = re.compile(rf"((?:{_KEYS})=)([^&\s\"']+)")


def redact(value: str) -> str:
    """Cut a secret to a short prefix."""
    if len(value) <= PREFIX:
        return "…"
    return value[:PREFIX] + "…"


def redact_text(text: str) -> str:
    """Redact ``key=value`` pairs for secret keys inside a URL or form text."""
    return _IN_TEXT.sub(lambda m: m.group(1) + redact(m.group(2)), text)


def _redact_header(name: str, value: str) -> str:
    if name.lower() not in SECRET_HEADERS:
        return redact_text(value) if name.lower() == "location" else value
    scheme, _, rest = value.partition(" ")
    if name.lower() == "authorization" and rest:
        return f"{scheme} {redact(rest)}"
    return redact(value)


def _redact_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: redact(v) if k in SECRET_KEYS and isinstance(v, str) else v
        for k, v in values.items()
    }


def _redact_body(text: str) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        return redact_text(text)
    if isinstance(document, dict):
        return json.dumps(_redact_mapping(document))
    return text


@dataclass(frozen=True, kw_only=True)
class Exchange:
    """One request and the provider's response, as recorded."""

    seq: int
    at: float
    endpoint: str
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: dict[str, str]
    body: str
    status: int
    response_headers: dict[str, str]
    response_body: str
    duration_ms: float
    client_id: str | None = None
    client_auth: str | None = None
    error: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        """Return the exchange as a JSON-ready dict."""
        return asdict(self)

    def response_json(self) -> Any:
        """Return the response body parsed as JSON, or None if it is not JSON."""
        try:
            return json.loads(self.response_body)
        except ValueError:
            return None


@dataclass(slots=True)
class _Raw:
    """What :meth:`Journal.record` keeps: raw pieces, redacted when first read."""

    seq: int
    at: float
    endpoint: str
    method: str
    path: str
    query_string: bytes
    form: MultiDict[str, str]
    headers: list[tuple[str, str]]
    body: bytes
    status: int
    response_headers: list[tuple[str, str]]
    response_body: bytes
    duration: float
    notes: dict[str, Any]
    built: Exchange | None = None

    def exchange(self) -> Exchange:
        """Build (once) the redacted :class:`Exchange`."""
        if self.built is None:
            self.built = _build(self)
        return self.built


class Journal:
    """An ordered, bounded, thread-safe record of exchanges.

    Recording keeps the raw pieces of an exchange; redaction happens when the
    journal is read, so a request pays little for being recorded.
    """

    def __init__(self, maxlen: int = 1000) -> None:
        self._entries: deque[_Raw] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._seq = 0
        self.enabled = True
        self.generation = 0

    def record(
        self,
        request: Request,
        response: Response,
        *,
        endpoint: str,
        at: float,
        duration: float,
        generation: int | None = None,
    ) -> None:
        """Append one exchange.

        An exchange that began before the last :meth:`clear` (``generation`` is
        the one read when it began) is dropped: it belongs to an earlier test.
        """
        if not self.enabled:
            return
        # Control-plane bodies are JSON whatever their content type (curl -d says
        # form): read as a form, their secrets would escape redaction.
        form = MultiDict() if endpoint == "control" else _form(request)
        raw = _Raw(
            seq=0,
            at=at,
            endpoint=endpoint,
            method=request.method,
            path=request.path,
            query_string=request.query_string,
            form=form,
            headers=list(request.headers.items()),
            body=b"" if form else _body_bytes(request),
            status=response.status_code,
            response_headers=list(response.headers.items()),
            response_body=_response_bytes(response),
            duration=duration,
            notes=dict(request.notes),
        )
        with self._lock:
            if generation not in (None, self.generation):
                return
            self._seq += 1
            raw.seq = self._seq
            self._entries.append(raw)
            self._changed.notify_all()

    def wait_for(
        self, predicate: Callable[[list[Exchange]], bool], timeout: float
    ) -> bool:
        """Wait until ``predicate(entries)`` holds, or ``timeout`` seconds pass.

        The predicate is checked at once and after every new exchange, so a wait
        ends as soon as the awaited request arrives. Returns whether it held.
        """
        with self._changed:
            return self._changed.wait_for(
                lambda: predicate([raw.exchange() for raw in self._entries]),
                timeout=timeout,
            )

    def entries(
        self,
        *,
        endpoint: str | Iterable[str] | None = None,
        client_id: str | None = None,
        since: int = 0,
    ) -> list[Exchange]:
        """Return recorded exchanges, optionally only some endpoints or one client."""
        wanted = {endpoint} if isinstance(endpoint, str) else endpoint
        wanted = set(wanted) if wanted is not None else None
        with self._lock:
            raws = list(self._entries)
        return [
            e
            for e in (raw.exchange() for raw in raws)
            if e.seq > since
            and (wanted is None or e.endpoint in wanted)
            and (client_id is None or e.client_id == client_id)
        ]

    @property
    def last_seq(self) -> int:
        """The sequence number of the latest exchange (0 when none)."""
        return self._seq

    def clear(self) -> None:
        """Forget every exchange; sequence numbers go on from where they were."""
        with self._lock:
            self._entries.clear()
            self.generation += 1

    def __iter__(self) -> Iterator[Exchange]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)


def _redact_list(key: str, values: list[str]) -> list[str]:
    return [redact(v) for v in values] if key in SECRET_KEYS else list(values)


def _form(request: Request) -> MultiDict[str, str]:
    # A body the handler refused (too large, cut off) must not break the record.
    try:
        return request.form
    except HTTPException:
        return MultiDict()


def _body_bytes(request: Request) -> bytes:
    if not request.content_length:
        return b""
    try:
        return request.get_data(cache=True)[:MAX_BODY]
    except HTTPException:
        return b""


def _response_bytes(response: Response) -> bytes:
    if response.direct_passthrough or response.is_streamed:
        return b""
    limit = MAX_HTML if response.mimetype == "text/html" else MAX_BODY
    return response.get_data()[:limit]


def _build(raw: _Raw) -> Exchange:
    notes = dict(raw.notes)
    query = MultiDict(parse_qsl(raw.query_string.decode(), keep_blank_values=True))
    return Exchange(
        seq=raw.seq,
        at=raw.at,
        endpoint=raw.endpoint,
        method=raw.method,
        path=raw.path,
        query={k: _redact_list(k, v) for k, v in query.lists()},
        form={k: _redact_list(k, v) for k, v in raw.form.lists()},
        headers={k: _redact_header(k, v) for k, v in raw.headers},
        body=_redact_body(raw.body.decode("utf-8", "replace")),
        status=raw.status,
        response_headers={k: _redact_header(k, v) for k, v in raw.response_headers},
        response_body=_redact_body(raw.response_body.decode("utf-8", "replace")),
        duration_ms=round(raw.duration * 1000, 3),
        client_id=notes.pop("client_id", None),
        client_auth=notes.pop("client_auth", None),
        error=notes.pop("error", None),
        notes=notes,
    )
