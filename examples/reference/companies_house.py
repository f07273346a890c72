"""Outgoing calls of the reference client: identity service and REST API.

Everything here talks to Companies House and checks its answers strictly. Each failure
becomes a :class:`ServiceError` whose message is safe to log and to show: it names the
endpoint, the HTTP status and at most the OAuth error code, never a token or secret.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import requests

log = logging.getLogger("reference_client.companies_house")

PROFILE_SCOPE = "https://identity.company-information.service.gov.uk/user/profile.read"
ROA_SCOPE = (
    "https://api.company-information.service.gov.uk/company/"
    "{company_number}/registered-office-address.update"
)
TRANSACTION_DESCRIPTION = "Change of registered office address"
REQUIRED_VARIABLES = (
    "CH_IDENTITY_URL",
    "CH_API_URL",
    "CH_CLIENT_ID",
    "CH_CLIENT_SECRET",
    "CH_REDIRECT_URI",
)
DEFAULT_HTTP_TIMEOUT = 5.0
_ERROR_CODE = re.compile(r"^[\x20-\x7e]{1,64}$")


class ConfigError(Exception):
    """The environment does not describe a usable client."""


class ServiceError(Exception):
    """Companies House answered in a way the client cannot use, or not at all."""


@dataclass(frozen=True, kw_only=True)
class Config:
    """Where Companies House lives and who this client is, read once at start."""

    identity_url: str
    api_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    http_timeout: float

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Config:
        """Build the configuration from ``CH_*`` variables or raise ConfigError."""
        missing = [name for name in REQUIRED_VARIABLES if not environ.get(name)]
        if missing:
            raise ConfigError(f"missing environment variables: {', '.join(missing)}")

        return cls(
            identity_url=environ["CH_IDENTITY_URL"].rstrip("/"),
            api_url=environ["CH_API_URL"].rstrip("/"),
            client_id=environ["CH_CLIENT_ID"],
            client_secret=environ["CH_CLIENT_SECRET"],
            redirect_uri=environ["CH_REDIRECT_URI"],
            http_timeout=validate_timeout(environ.get("CH_HTTP_TIMEOUT")),
        )

    @property
    def authorise_url(self) -> str:
        return f"{self.identity_url}/oauth2/authorise"

    @property
    def token_url(self) -> str:
        return f"{self.identity_url}/oauth2/token"

    @property
    def verify_url(self) -> str:
        return f"{self.identity_url}/oauth2/verify"

    @property
    def profile_url(self) -> str:
        return f"{self.identity_url}/user/profile"

    @property
    def transactions_url(self) -> str:
        return f"{self.api_url}/transactions"


@dataclass(frozen=True, kw_only=True)
class TokenSet:
    """The usable part of a token endpoint answer."""

    access_token: str
    refresh_token: str | None
    expires_in: int | None


def validate_timeout(raw: str | None) -> float:
    """Return ``CH_HTTP_TIMEOUT`` as positive seconds, 5 when unset."""
    if raw is None or not raw.strip():
        return DEFAULT_HTTP_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        raise ConfigError(f"CH_HTTP_TIMEOUT is not a number: {raw!r}") from None
    if not seconds > 0:
        raise ConfigError(f"CH_HTTP_TIMEOUT must be positive: {raw!r}")

    return seconds


def redact(secret: str | None) -> str:
    """Show at most a six-character prefix of a token, code or state in logs."""
    if not secret:
        return "<none>"
    return f"{secret[:6]}..."


def create_scope(company_numbers: list[str]) -> str:
    """Join profile.read and each company's ROA-update scope with spaces."""
    scopes = [PROFILE_SCOPE]
    scopes += [ROA_SCOPE.format(company_number=number) for number in company_numbers]
    return " ".join(scopes)


def create_authorise_url(config: Config, scope: str, state: str) -> str:
    """Build the URL that sends the browser to sign in (GUIDE, SPEC authorise)."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": config.redirect_uri,
            "scope": scope,
            "state": state,
        },
        quote_via=quote,
    )
    return f"{config.authorise_url}?{query}"


def send(config: Config, method: str, url: str, **kwargs: Any) -> requests.Response:
    """Make one outgoing request with the configured timeout and no redirects."""
    try:
        return requests.request(
            method, url, timeout=config.http_timeout, allow_redirects=False, **kwargs
        )
    except requests.RequestException as exc:
        raise ServiceError(f"{method} {url} failed: {type(exc).__name__}") from exc


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}", "Accept": "application/json"}


def request_token(config: Config, grant: dict[str, str]) -> TokenSet:
    """POST a grant to the token endpoint, credentials in the form body (SPEC)."""
    form = {**grant, "client_id": config.client_id}
    form["client_secret"] = config.client_secret
    response = send(
        config,
        "POST",
        config.token_url,
        data=form,
        headers={"Accept": "application/json"},
    )
    body = expect_json_object(response, "token endpoint", 200)

    return validate_token_body(body)


def validate_token_body(body: dict[str, Any]) -> TokenSet:
    """Accept a token answer only if it is a usable Bearer token (RFC 6749 §5.1)."""
    if "error" in body:
        raise ServiceError(f"token endpoint error: {describe_error(body)}")
    access_token = body.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise ServiceError("token endpoint answer has no access_token")
    token_type = body.get("token_type")
    # RFC 6749 §5.1: the type is case-insensitive; SPEC always sends it, but a
    # missing type is read as Bearer, the only type Companies House issues.
    if token_type is not None and str(token_type).lower() != "bearer":
        raise ServiceError(f"unsupported token_type {str(token_type)[:20]!r}")
    refresh_token = body.get("refresh_token")
    if refresh_token is not None and not isinstance(refresh_token, str):
        raise ServiceError("token endpoint answer has a non-string refresh_token")

    return TokenSet(
        access_token=access_token,
        refresh_token=refresh_token or None,
        expires_in=validate_expires_in(body.get("expires_in")),
    )


def validate_expires_in(value: object) -> int | None:
    """Return ``expires_in`` as seconds; SPEC's own example sends the string "3600"."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)

    raise ServiceError(f"expires_in is neither an integer nor digits: {value!r:.20}")


def verify_access_token(config: Config, access_token: str) -> None:
    """Ask /oauth2/verify whether the token is live and was issued to this client."""
    response = send(config, "GET", config.verify_url, headers=bearer(access_token))
    body = expect_json_object(response, "verify endpoint", 200)
    application = body.get("application")
    if application is not None and application != config.client_id:
        raise ServiceError("verify endpoint: token was issued to another application")

    # SPEC's example sends expires_in as a string here too; it is only logged.
    log.info(
        "token %s verified, expires in %.20s s",
        redact(access_token),
        body.get("expires_in"),
    )


def fetch_email(config: Config, access_token: str) -> str:
    """Read the signed-in person's email from /user/profile (SPEC)."""
    response = send(config, "GET", config.profile_url, headers=bearer(access_token))
    body = expect_json_object(response, "profile endpoint", 200)
    email = body.get("email")
    if not isinstance(email, str) or not email:
        raise ServiceError("profile endpoint answer has no email")

    return email


def create_transaction(
    config: Config, access_token: str, company_number: str
) -> requests.Response:
    """POST a filing transaction (FILING); the caller reads the status."""
    payload = {
        "company_number": company_number,
        "description": TRANSACTION_DESCRIPTION,
    }
    return send(
        config,
        "POST",
        config.transactions_url,
        json=payload,
        headers=bearer(access_token),
    )


def expect_json_object(
    response: requests.Response, what: str, status: int
) -> dict[str, Any]:
    """Return the JSON object body of a response that has the expected status."""
    body = read_json_object(response)
    if response.status_code != status:
        detail = f" ({describe_error(body)})" if body else ""
        raise ServiceError(f"{what} answered {response.status_code}{detail}")
    if body is None:
        raise ServiceError(f"{what} answered {status} without a JSON object")

    return body


def read_json_object(response: requests.Response) -> dict[str, Any] | None:
    """Return the body as a JSON object, or None for HTML, junk or another type."""
    try:
        body = response.json()
    except ValueError:
        return None

    return body if isinstance(body, dict) else None


def describe_error(body: dict[str, Any]) -> str:
    """Name the OAuth or API error code of a body, if it has a printable one."""
    code = body.get("error")
    if isinstance(code, str) and _ERROR_CODE.match(code):
        return code
    return "no error code"
