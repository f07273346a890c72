"""Helpers shared by the provider's tests: constants, an HTML page reader, a driver."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from werkzeug.test import Client as WsgiClient
from werkzeug.test import TestResponse

from mock_provider import Provider
from mock_provider.control import Control
from mock_provider.scopes import PROFILE_SCOPE

START = 1_700_000_000.0
CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"
REDIRECT_URI = "http://127.0.0.1:8000/callback"
COMPANY = "00012345"
COMPANY_CODE = "222222"
ROA = (
    "https://api.company-information.service.gov.uk/company/{}"
    "/registered-office-address.update"
)


@dataclass
class Form:
    """One ``<form>`` of a page: where it posts, its fields and its buttons."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Page:
    """What the tests look at in an HTML page."""

    forms: list[Form] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    inputs: list[dict[str, str]] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    classes: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)
    text: str = ""

    @property
    def form(self) -> Form:
        """The page's only form."""
        assert len(self.forms) == 1, f"expected one form, found {len(self.forms)}"
        return self.forms[0]

    def submit(self, button: str | None = None, **values: str) -> dict[str, str]:
        """Return the fields the form posts, with ``values`` filled in."""
        data = {**self.form.fields, **values}
        if button is not None:
            name, value = next(b for b in self.form.buttons if b[1] == button)
            data[name] = value
        return data


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._label_for: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if "id" in attr:
            self.page.ids.add(attr["id"])
        self.page.classes.update(attr.get("class", "").split())
        if tag == "form":
            self.page.forms.append(
                Form(attr.get("action", ""), attr.get("method", "get").lower())
            )
        elif tag == "input":
            self.page.inputs.append(attr)
            if self.page.forms and attr.get("name"):
                self.page.forms[-1].fields[attr["name"]] = attr.get("value", "")
        elif tag == "button" and self.page.forms and attr.get("name"):
            self.page.forms[-1].buttons.append((attr["name"], attr.get("value", "")))
        elif tag == "label":
            self._label_for = attr.get("for", "")
            self.page.labels[self._label_for] = ""
        elif tag == "a":
            self.page.links.append(attr.get("href", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_for = None

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        if self._label_for is not None:
            self.page.labels[self._label_for] += data

    def close(self) -> None:
        super().close()
        self.page.text = " ".join("".join(self._text).split())


def parse_page(html: str) -> Page:
    """Parse an HTML page into its forms, labels, ids and visible text."""
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser.page


def query_of(location: str) -> dict[str, str]:
    """Return the query parameters of a redirect, each given once."""
    query = parse_qs(urlsplit(location).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in query.values()), query
    return {k: v[0] for k, v in query.items()}


class Flow:
    """Drives an in-process provider: authorise, exchange, refresh, verify."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.http = WsgiClient(provider)

    @property
    def control(self) -> Control:
        """The provider's control plane (the default configuration has one)."""
        assert self.provider.control is not None
        return self.provider.control

    def authorise(self, **params: str | None) -> TestResponse:
        """GET /oauth2/authorise with sensible defaults; None leaves one out."""
        query = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": PROFILE_SCOPE,
            "state": "state-123",
            **params,
        }
        given = {k: v for k, v in query.items() if v is not None}
        return self.http.get("/oauth2/authorise?" + urlencode(given))

    def code(
        self,
        scope: str | None = PROFILE_SCOPE,
        user: str | None = None,
        **params: str | None,
    ) -> str:
        """Arrange an approval by ``user`` and return the code the redirect carries."""
        self.control.arrange(user=user)
        response = self.authorise(scope=scope, **params)
        assert response.status_code == 302, response.get_data(as_text=True)
        return query_of(response.headers["Location"])["code"]

    def token(self, path: str = "/oauth2/token", **form: str) -> TestResponse:
        """POST to the token endpoint with body credentials."""
        body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form}
        return self.http.post(path, data={k: v for k, v in body.items() if v})

    def exchange(self, code: str, **form: str) -> TestResponse:
        """Redeem a code."""
        return self.token(
            grant_type="authorization_code",
            code=code,
            redirect_uri=REDIRECT_URI,
            **form,
        )

    def tokens(self, scope: str = PROFILE_SCOPE) -> dict[str, Any]:
        """Return a fresh token response for ``scope``."""
        response = self.exchange(self.code(scope))
        assert response.status_code == 200, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def refresh(self, refresh_token: str, **form: str) -> TestResponse:
        """Use a refresh token."""
        return self.token(
            grant_type="refresh_token", refresh_token=refresh_token, **form
        )

    def verify(self, access_token: str) -> TestResponse:
        """GET /oauth2/verify for a token."""
        return self.http.get(
            "/oauth2/verify", query_string={"access_token": access_token}
        )
