"""Plays the person in the browser: keeps cookies, follows redirects, fills the
identity service's forms, and can tamper with what it carries back to the client."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import requests

__all__ = [
    "Browser",
    "Flow",
    "Person",
    "Step",
    "query_value",
    "shorten_url",
    "with_query",
]

MAX_HOPS = 20
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+")

_SECRET_PARAMS = frozenset(
    {"code", "state", "access_token", "access-token", "client_secret", "refresh_token"}
)

Tamper = Callable[[str], str | None]


@dataclass(frozen=True)
class Step:
    """One response the browser received."""

    method: str
    url: str
    status: int
    location: str | None
    text: str
    seconds: float

    @property
    def is_redirect(self) -> bool:
        """Whether the response sends the browser elsewhere."""
        return 300 <= self.status < 400 and self.location is not None

    def summary(self) -> str:
        """A line for reports, with query values cut short."""
        where = f" -> {shorten_url(self.location)}" if self.location else ""
        return f"{self.method} {shorten_url(self.url)} {self.status}{where}"


@dataclass
class Flow:
    """What happened during one sign-in, seen from the browser."""

    start_url: str
    authorise_url: str | None = None
    callback_url: str | None = None
    delivered_callback_url: str | None = None
    steps: list[Step] = field(default_factory=list)
    client_answer: Step | None = None
    callback_seconds: float = 0.0

    @property
    def state(self) -> str | None:
        """The state the client put in its authorisation request."""
        return query_value(self.authorise_url, "state")

    @property
    def code(self) -> str | None:
        """The code the identity service sent back."""
        return query_value(self.callback_url, "code")


@dataclass
class Person:
    """Who signs in, which auth codes they type, and what they decide."""

    email: str = "demo@example.com"
    password: str = "password"
    auth_codes: dict[str, list[str]] = field(default_factory=dict)
    decision: str = "approve"


class Browser:
    """A requests session that behaves like a browser towards client and provider."""

    def __init__(self, client_base: str, provider_base: str, redirect_uri: str) -> None:
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "ch-oauth-conformance/1 (browser)"
        self.client_base = client_base
        self.provider_base = provider_base
        self.redirect_uri = redirect_uri
        self.steps: list[Step] = []
        self.timeout = 30.0

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()

    def request(self, method: str, url: str, **kwargs: object) -> Step:
        """Send one request without following redirects; record the response."""
        started = time.perf_counter()
        try:
            response = self.session.request(
                method,
                url,
                allow_redirects=False,
                timeout=self.timeout,
                **kwargs,  # type: ignore[arg-type]
            )
        except requests.RequestException as exc:
            step = Step(
                method, url, 0, None, f"no answer: {exc}", time.perf_counter() - started
            )
        else:
            location = response.headers.get("Location")
            step = Step(
                method,
                url,
                response.status_code,
                urljoin(url, location) if location else None,
                response.text[:20_000],
                time.perf_counter() - started,
            )
        self.steps.append(step)
        return step

    def visit(self, url: str, *, stop_at_provider: bool = True) -> list[Step]:
        """GET a client URL and follow redirects while they stay on the client.

        Stops at a redirect to the provider (its URL is the last step's location),
        unless ``stop_at_provider`` is false.
        """
        steps = [self.request("GET", url)]
        while steps[-1].is_redirect and len(steps) < MAX_HOPS:
            target = steps[-1].location or ""
            if stop_at_provider and not target.startswith(self.client_base):
                break
            steps.append(self.request("GET", target))
        return steps

    def sign_in(
        self,
        start_url: str,
        person: Person | None = None,
        tamper: Tamper | None = None,
        via: Callable[[str], str | None] | None = None,
    ) -> Flow:
        """Start at the client, pass the provider, deliver the callback, follow on.

        With a ``person`` the provider's pages are walked by filling their forms;
        without one the provider is expected to redirect at once (an arranged
        authorisation). ``via`` replaces the browser's passage through the
        provider: given the authorise URL it returns the callback URL (a person
        in a real browser). ``tamper`` may rewrite the callback URL, or return
        None to drop it.
        """
        flow = Flow(start_url=start_url)
        steps = self.visit(start_url)
        flow.steps += steps
        if not steps[-1].is_redirect:
            return flow
        flow.authorise_url = steps[-1].location
        if via is not None:
            callback = via(flow.authorise_url or "")
        else:
            callback = self._through_provider(flow, flow.authorise_url or "", person)
        if callback is None:
            return flow
        flow.callback_url = callback
        delivered = tamper(callback) if tamper else callback
        flow.delivered_callback_url = delivered
        if delivered is None:
            return flow
        started = time.perf_counter()
        answer = self.visit(delivered)
        flow.callback_seconds = time.perf_counter() - started
        flow.steps += answer
        flow.client_answer = answer[0]
        return flow

    def _through_provider(
        self, flow: Flow, url: str, person: Person | None
    ) -> str | None:
        step = self.request("GET", url)
        flow.steps.append(step)
        for _ in range(MAX_HOPS):
            if step.is_redirect:
                target = step.location or ""
                if target.startswith(self.provider_base):
                    step = self.request("GET", target)
                    flow.steps.append(step)
                    continue
                return target
            if person is None or step.status != 200:
                return None
            form = find_form(step.text, step.url)
            if form is None:
                return None
            step = self.request("POST", form.action, data=person_fills(form, person))
            flow.steps.append(step)
        return None

    def saw_server_error(self) -> list[Step]:
        """The client's answers that were a 5xx or showed a traceback."""
        return [
            s
            for s in self.steps
            if s.url.startswith(self.client_base)
            and (s.status >= 500 or TRACEBACK.search(s.text))
        ]

    def saw_text(self, secret: str) -> list[Step]:
        """The responses whose URL, location or body contain ``secret``."""
        return [
            s
            for s in self.steps
            if secret in s.url or secret in (s.location or "") or secret in s.text
        ]


@dataclass
class Form:
    """An HTML form: where it posts, and its named inputs and buttons."""

    action: str
    inputs: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, list[str]] = field(default_factory=dict)
    company: str | None = None


class _FormParser(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.form: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form" and self.form is None:
            self.form = Form(action=urljoin(self.base, attributes.get("action", "")))
        elif self.form is not None and tag in ("input", "button"):
            name = attributes.get("name")
            if not name:
                return
            if tag == "button" or attributes.get("type") == "submit":
                self.form.buttons.setdefault(name, []).append(
                    attributes.get("value", "")
                )
            else:
                self.form.inputs[name] = attributes.get("value", "")


def find_form(html: str, base: str) -> Form | None:
    """Return the first form on a page."""
    parser = _FormParser(base)
    parser.feed(html)
    form = parser.form
    if form is not None:
        match = re.search(r"company number ([A-Z0-9]{8})", html)
        form.company = match.group(1) if match else None
    return form


def person_fills(form: Form, person: Person) -> dict[str, str]:
    """Fill a provider form as the person would."""
    data = dict(form.inputs)
    if "email" in data or "password" in data:
        data.update(email=person.email, password=person.password)
    if "auth_code" in data:
        codes = person.auth_codes.get(form.company or "", [])
        data["auth_code"] = codes.pop(0) if codes else ""
        data["action"] = "continue"
    if "decision" in form.buttons:
        data["decision"] = person.decision
    return data


def query_value(url: str | None, name: str) -> str | None:
    """Return one query parameter of a URL."""
    if url is None:
        return None
    return parse_qs(urlsplit(url).query).get(name, [None])[0]


def with_query(url: str, **changes: str | None) -> str:
    """Return the URL with query parameters replaced, or removed where None."""
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True)
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = [value]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


def shorten_url(url: str) -> str:
    """Cut long query values (codes, states) to a short prefix for reports."""
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True)
    shown = "&".join(
        f"{k}={v[:6] + '…' if k in _SECRET_PARAMS and len(v) > 6 else v}"
        for k, vs in query.items()
        for v in vs
    )
    return urlunsplit(parts._replace(query=shown))
