"""Start the reference client with one deliberate defect, to prove the suite sees it.

Run as ``python run.py DEFECT --port N`` with the reference client's ``CH_*``
environment (see examples/README.md). Each defect replaces or wraps one function or
method of examples/reference before the client starts; everything else is the
reference client as it is. ``python run.py list`` prints the defects.
"""

from __future__ import annotations

import argparse
import dataclasses
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import requests
from werkzeug.wrappers import Request, Response

REFERENCE = Path(__file__).resolve().parents[2] / "examples" / "reference"
sys.path.insert(0, str(REFERENCE))

# The reference client's modules import each other by these top-level names, so
# they can only be imported once their folder is on the path.
import client  # noqa: E402
import companies_house as ch  # noqa: E402

DEFECTS: dict[str, Callable[[], None]] = {}
SLOW_TIMEOUT = 30.0


def defect(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a function that applies one defect under ``name``."""

    def register(apply: Callable[[], None]) -> Callable[[], None]:
        DEFECTS[name] = apply
        return apply

    return register


def summary(name: str) -> str:
    """The first line of a defect's docstring."""
    return (DEFECTS[name].__doc__ or "").strip().splitlines()[0]


def print_defects(stream: TextIO) -> None:
    """Print each defect's name and what it does, a line each."""
    for name in DEFECTS:
        print(f"  {name:30} {summary(name)}", file=stream)


# The state parameter.


@defect("no-state")
def no_state() -> None:
    """The authorisation request carries no state, and the callback checks none."""
    build = ch.create_authorise_url

    def create_authorise_url(config: ch.Config, scope: str, state: str) -> str:
        return without_query(build(config, scope, state), "state")

    def validate_state(expected: str | None, received: str | None) -> None:
        return None

    ch.create_authorise_url = create_authorise_url
    client.validate_state = validate_state


@defect("short-state")
def short_state() -> None:
    """The state is random but only 16 bits long."""
    # Two sign-ins draw the same state once in 65,536 runs, which would also fail
    # state-unique; rare enough for a test to ignore.
    replace_login(lambda: secrets.token_hex(2))


@defect("state-reused")
def state_reused() -> None:
    """One long random state, made at start, serves every sign-in of the process."""
    state = secrets.token_urlsafe(32)
    replace_login(lambda: state)


@defect("no-state-check")
def no_state_check() -> None:
    """The state is sent, but the callback's state is never compared with it."""

    def validate_state(expected: str | None, received: str | None) -> None:
        return None

    client.validate_state = validate_state


def replace_login(make_state: Callable[[], str]) -> None:
    """Replace ``/login`` with the reference's, its state made by ``make_state``."""

    def login(self: client.ReferenceClient, request: Request) -> Response:
        companies = client.validate_companies(request.args.getlist("company"))
        state = make_state()
        session_id = self.sessions.begin_sign_in(
            request.cookies.get(client.SESSION_COOKIE), state
        )
        scope = ch.create_scope(companies)

        response = client.redirect(ch.create_authorise_url(self.config, scope, state))
        client.set_session_cookie(response, session_id)
        return response

    client.ReferenceClient.login = login  # type: ignore[method-assign]


# The authorisation request.


@defect("wrong-response-type")
def wrong_response_type() -> None:
    """The authorisation request asks for response_type=token."""
    build = ch.create_authorise_url

    def create_authorise_url(config: ch.Config, scope: str, state: str) -> str:
        url = build(config, scope, state)
        return url.replace("response_type=code", "response_type=token", 1)

    ch.create_authorise_url = create_authorise_url


@defect("no-company-scope")
def no_company_scope() -> None:
    """The scope is profile.read only, whatever ?company= asks for."""

    def create_scope(company_numbers: list[str]) -> str:
        return ch.PROFILE_SCOPE

    ch.create_scope = create_scope


# The callback and the code exchange.


@defect("ignores-callback-error")
def ignores_callback_error() -> None:
    """A callback with error= is exchanged anyway, with whatever code it has."""

    def validate_authorisation_response(args: Any) -> str:
        return str(args.get("code") or "")

    client.validate_authorisation_response = validate_authorisation_response


@defect("code-exchanged-twice")
def code_exchanged_twice() -> None:
    """After a successful exchange the code is sent to the token endpoint again."""
    complete = client.ReferenceClient.complete_sign_in

    def complete_sign_in(
        self: client.ReferenceClient, code: str
    ) -> tuple[ch.TokenSet, str]:
        result = complete(self, code)
        grant = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_uri,
        }
        try:
            ch.request_token(self.config, grant)
        except ch.ServiceError:
            pass
        return result

    reference = client.ReferenceClient
    reference.complete_sign_in = complete_sign_in  # type: ignore[method-assign]


@defect("redirect-uri-changed")
def redirect_uri_changed() -> None:
    """The token request's redirect_uri has a trailing slash the authorise one lacks."""
    request_token = ch.request_token

    def changed(config: ch.Config, grant: dict[str, str]) -> ch.TokenSet:
        if "redirect_uri" in grant:
            grant = {**grant, "redirect_uri": grant["redirect_uri"] + "/"}
        return request_token(config, grant)

    ch.request_token = changed


@defect("secret-in-query")
def secret_in_query() -> None:
    """The token request carries client_secret in its query string, not its body."""
    send = ch.send

    def secret_in_url(
        config: ch.Config, method: str, url: str, **kwargs: Any
    ) -> requests.Response:
        form = dict(kwargs.get("data") or {})
        if url == config.token_url and "client_secret" in form:
            kwargs["params"] = {"client_secret": form.pop("client_secret")}
            kwargs["data"] = form
        return send(config, method, url, **kwargs)

    ch.send = secret_in_url


@defect("token-request-get")
def token_request_get() -> None:
    """The code is exchanged by a GET with its parameters in the query string."""
    send = ch.send

    def get_token(
        config: ch.Config, method: str, url: str, **kwargs: Any
    ) -> requests.Response:
        if url == config.token_url:
            method = "GET"
            kwargs["params"] = kwargs.pop("data", None)
        return send(config, method, url, **kwargs)

    ch.send = get_token


@defect("uses-oauth-aliases")
def uses_oauth_aliases() -> None:
    """The token and verify requests go to /oauth/token and /oauth/verify."""
    config: Any = ch.Config  # properties are replaced on the class itself
    config.token_url = property(lambda self: f"{self.identity_url}/oauth/token")
    config.verify_url = property(lambda self: f"{self.identity_url}/oauth/verify")


@defect("no-timeout")
def no_timeout() -> None:
    """CH_HTTP_TIMEOUT is ignored: every outgoing request waits 30 seconds."""
    send = ch.send

    def patient(
        config: ch.Config, method: str, url: str, **kwargs: Any
    ) -> requests.Response:
        slow = dataclasses.replace(config, http_timeout=SLOW_TIMEOUT)
        return send(slow, method, url, **kwargs)

    ch.send = patient


# The token response.


@defect("html-500-is-success")
def html_500_is_success() -> None:
    """A failed code exchange signs the person in anyway, with a placeholder token."""
    complete = client.ReferenceClient.complete_sign_in

    def complete_sign_in(
        self: client.ReferenceClient, code: str
    ) -> tuple[ch.TokenSet, str]:
        try:
            return complete(self, code)
        except client.SignInFailed:
            placeholder = ch.TokenSet(
                access_token="unknown", refresh_token=None, expires_in=None
            )
            return placeholder, "unknown"

    reference = client.ReferenceClient
    reference.complete_sign_in = complete_sign_in  # type: ignore[method-assign]


@defect("crashes-on-string-expires-in")
def crashes_on_string_expires_in() -> None:
    """expires_in is used as a number as it comes, so "3600" raises a TypeError."""

    def validate_expires_in(value: Any) -> int | None:
        if value is None:
            return None
        seconds: int = value + 0
        return seconds

    ch.validate_expires_in = validate_expires_in


@defect("failed-sign-in-is-500")
def failed_sign_in_is_500() -> None:
    """A sign-in the identity service failed is answered with a 500 page."""
    client.SignInFailed.status = 500


# Using the token.


@defect("no-profile-read")
def no_profile_read() -> None:
    """/user/profile is never read: the person is shown as "someone"."""

    def fetch_email(config: ch.Config, access_token: str) -> str:
        return "someone"

    ch.fetch_email = fetch_email


@defect("token-in-query")
def token_in_query() -> None:
    """The access token goes to /user/profile and the API as ?access_token=."""
    send = ch.send

    def token_in_url(
        config: ch.Config, method: str, url: str, **kwargs: Any
    ) -> requests.Response:
        headers = dict(kwargs.get("headers") or {})
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        if url in (config.profile_url, config.transactions_url) and scheme == "Bearer":
            del headers["Authorization"]
            kwargs.update(headers=headers, params={"access_token": token})
        return send(config, method, url, **kwargs)

    ch.send = token_in_url


@defect("api-refusal-is-success")
def api_refusal_is_success() -> None:
    """A filing the API refused is reported to the person as started."""
    file = client.ReferenceClient.file

    def file_or_claim(self: client.ReferenceClient, request: Request) -> Response:
        try:
            return file(self, request)
        except client.FilingError:
            return client.render_page("Filing started", "Transaction created.")

    client.ReferenceClient.file = file_or_claim  # type: ignore[method-assign]


# Refreshing.


@defect("no-refresh")
def no_refresh() -> None:
    """An API 401 is shown as a failure: the token is never refreshed."""

    def refresh(self: client.ReferenceClient, tokens: ch.TokenSet) -> None:
        raise client.FilingError("The filing service refused the sign-in.")

    client.ReferenceClient.refresh = refresh  # type: ignore[assignment,method-assign]


@defect("drops-refresh-token")
def drops_refresh_token() -> None:
    """A refresh answer without refresh_token makes the client forget its own."""

    def refresh(
        self: client.ReferenceClient, tokens: ch.TokenSet
    ) -> ch.TokenSet | None:
        if tokens.refresh_token is None:
            return None
        grant = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        try:
            return ch.request_token(self.config, grant)
        except ch.ServiceError:
            return None

    client.ReferenceClient.refresh = refresh  # type: ignore[method-assign]


@defect("no-reauthorise")
def no_reauthorise() -> None:
    """A refused refresh ends on an error page, not a new sign-in.

    The reference forgets the tokens and redirects to /login; this one stops there.
    """
    refresh = client.ReferenceClient.refresh

    def refresh_or_fail(
        self: client.ReferenceClient, tokens: ch.TokenSet
    ) -> ch.TokenSet:
        refreshed = refresh(self, tokens)
        if refreshed is None:
            raise client.FilingError("Your sign-in could not be renewed.")
        return refreshed

    client.ReferenceClient.refresh = refresh_or_fail  # type: ignore[method-assign]


def without_query(url: str, name: str) -> str:
    """Return ``url`` without the query parameter ``name``."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k != name]
    return urlunsplit(parts._replace(query=urlencode(kept, quote_via=quote)))


def main(argv: list[str] | None = None) -> int:
    """Apply the named defect, then run the reference client."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("defect", help="the defect to apply, or 'list'")
    parser.add_argument("--port", help="the port to listen on")
    args = parser.parse_args(argv)
    if args.defect == "list":
        print_defects(sys.stdout)
        return 0
    apply = DEFECTS.get(args.defect)
    if apply is None:
        print(f"unknown defect {args.defect!r}; the defects are:", file=sys.stderr)
        print_defects(sys.stderr)
        return 2
    if args.port is None:
        parser.error("--port is required to run a client")

    print(f"faulty client, {args.defect}: {summary(args.defect)}", file=sys.stderr)
    apply()
    return client.main(["--port", args.port])


if __name__ == "__main__":
    sys.exit(main())
