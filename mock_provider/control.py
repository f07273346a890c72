"""The control plane: arrange, inject faults, move the clock, read the journal, reset.

The same operations are methods of :class:`Control` (in-process) and JSON over HTTP
under ``/_mock/`` (for a client in another process or language). The prefix is one
the real service never uses; ``serve --no-control`` leaves it out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from werkzeug.wrappers import Response

from . import faults as faults_module
from .config import Client, Company, User, parse_client, parse_company, parse_user
from .faults import Fault, FaultTable
from .journal import Exchange
from .scopes import join_scope
from .store import Grant, Journey
from .wire import Request

if TYPE_CHECKING:
    from .app import Provider

__all__ = [
    "Arrangement",
    "Control",
    "Decision",
]

Decision = Literal["approve", "decline"]


@dataclass(kw_only=True)
class Arrangement:
    """How the next authorisation goes, without anyone walking the pages.

    ``auth_codes`` maps a company number to the codes typed for it, in order; a
    company not named gets its right code typed once.
    """

    user_id: str
    auth_codes: dict[str, list[str]] = field(default_factory=dict)
    decision: Decision = "approve"
    times: int | None = 1

    def complete(self, provider: Provider, journey: Journey) -> Response:
        """Walk the journey as arranged and return the redirect to the client.

        A company's code is accepted if the right one is among the first
        ``max_auth_code_attempts`` typed, as on the pages.
        """
        from .authorise import approve, deny, is_right_auth_code

        journey.user_id = self.user_id
        limit = provider.config.max_auth_code_attempts
        for number in journey.companies:
            typed = self.auth_codes.get(number)
            if typed is not None and not any(
                is_right_auth_code(provider, number, code) for code in typed[:limit]
            ):
                raise deny(
                    provider, journey, "too many wrong company authentication codes"
                )
        journey.companies_done = len(journey.companies)
        if self.decision == "decline":
            raise deny(provider, journey, "the person declined")
        return approve(provider, journey)


class Control:
    """Operations a test uses to arrange and observe the provider."""

    PREFIX = "/_mock"

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.faults = FaultTable()
        # Set by reset to end arranged delays still waiting; then replaced.
        self._cancelled = threading.Event()
        self._arrangements: list[Arrangement] = []
        self._lock = threading.Lock()

    # Data at run time.

    def register_client(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str] | tuple[str, ...],
        name: str = "Test application",
        realm: str | None = None,
        insolvency: bool = False,
    ) -> Client:
        """Register a client (or replace one with the same id)."""
        client = parse_client(
            {
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uris": list(redirect_uris),
                "name": name,
                "realm": realm or self.provider.config.realm,
                "insolvency": insolvency,
            },
        )
        self.provider.registry.add_client(client)
        return client

    def add_user(
        self,
        *,
        user_id: str,
        email: str,
        password: str,
        forename: str = "Test",
        surname: str = "User",
        locale: str = "en-GB",
    ) -> User:
        """Add a user (or replace one with the same id)."""
        user = parse_user(
            {
                "id": user_id,
                "email": email,
                "password": password,
                "forename": forename,
                "surname": surname,
                "locale": locale,
            }
        )
        self.provider.registry.add_user(user)
        return user

    def add_company(self, *, number: str, name: str, auth_code: str) -> Company:
        """Add a company with its auth code (or replace one with the same number)."""
        company = parse_company(
            {"number": number, "name": name, "auth_code": auth_code}
        )
        self.provider.registry.add_company(company)
        return company

    def set_auth_code(self, *, number: str, auth_code: str) -> int:
        """Change a company's auth code, withdrawing that company from every grant.

        Returns how many grants lost the company.
        """
        company = self.provider.registry.companies.get(number)
        if company is None:
            raise ValueError(f"no company with number {number!r}")
        self.add_company(number=number, name=company.name, auth_code=auth_code)
        return self.provider.store.withdraw_company(number)

    def revoke_user(self, *, user_id: str) -> int:
        """Revoke every grant of a user; return how many."""
        return self.provider.store.revoke_user(user_id)

    # The next authorisation.

    def arrange(
        self,
        *,
        user: str | None = None,
        auth_codes: Mapping[str, str | Sequence[str]] | None = None,
        decision: Decision = "approve",
        times: int | None = 1,
    ) -> Arrangement:
        """Decide how the next authorisation (or the next ``times``) goes.

        :param user: email or id of the person signing in; the first user if omitted.
        :param auth_codes: codes typed per company number, one or a list in order.
        :param decision: ``approve`` or ``decline`` on the consent page.
        :param times: how many authorisations this covers; None for every one.
        """
        if decision not in ("approve", "decline"):
            raise ValueError("decision must be 'approve' or 'decline'")
        if times is not None and (type(times) is not int or times < 1):
            raise ValueError("times must be at least 1, or None for every one")
        arrangement = Arrangement(
            user_id=self._user_id(user),
            auth_codes=_typed_codes(auth_codes or {}),
            decision=decision,
            times=times,
        )
        with self._lock:
            self._arrangements.append(arrangement)
        return arrangement

    def _user_id(self, user: str | None) -> str:
        registry = self.provider.registry
        if user is None:
            if not registry.users:
                raise ValueError("there are no users to sign in as")
            return next(iter(registry.users))
        if user in registry.users:
            return user
        found = registry.emails.get(str(user).lower())
        if found is None:
            raise ValueError(f"no user with id or email {user!r}")
        return found.user_id

    def take_arrangement(self) -> Arrangement | None:
        """Consume the arrangement for one authorisation, if any."""
        with self._lock:
            if not self._arrangements:
                return None
            arrangement = self._arrangements[0]
            if arrangement.times is not None:
                arrangement.times -= 1
                if arrangement.times <= 0:
                    self._arrangements.pop(0)
            return arrangement

    # Faults and variants.

    def fault(
        self, endpoint: str, kind: faults_module.FaultKind, **options: Any
    ) -> Fault:
        """Arrange a fault or variant; see :class:`mock_provider.faults.Fault`."""
        return self.faults.add(Fault(endpoint=endpoint, kind=kind, **options))

    def clear_faults(self) -> None:
        """Remove every fault and variant."""
        self.faults.clear()

    def handle_http(self, request: Request, operation: str) -> Response:
        """Serve one control operation as JSON (see ``control_http``)."""
        from .control_http import handle

        return handle(self, request, operation)

    def _faults(self) -> list[Fault]:
        return self.faults.active()

    def intercept(
        self, endpoint: str, request: Request, call: Callable[[], Response]
    ) -> Response:
        """Answer a request with the fault arranged for it, or normally."""
        taken = self.faults.take(endpoint, faults_module.RESPONSE_FAULTS, first=True)
        if not taken:
            return call()
        return faults_module.respond(taken[0], endpoint, request, call, self._cancelled)

    def shape_token(
        self,
        provider: Provider,
        grant: Grant,
        scopes: tuple[str, ...],
        body: dict[str, Any],
        refresh_token: str,
    ) -> dict[str, Any]:
        """Apply the token response variants in force to a successful response."""
        for fault in self.faults.take("token", faults_module.TOKEN_VARIANTS):
            kind = fault.kind
            if kind == "expires_in_string":
                body["expires_in"] = str(body["expires_in"])
            elif kind == "token_type_lower":
                body["token_type"] = "bearer"
            elif kind == "token_type_absent":
                body.pop("token_type", None)
            elif kind == "no_refresh_token":
                body.pop("refresh_token", None)
            elif kind == "rotate_refresh_token":
                fresh = provider.store.add_refresh_token(
                    grant, provider.config.refresh_token_lifetime
                )
                provider.store.revoke_refresh_token(refresh_token)
                body["refresh_token"] = fresh.value
            elif kind == "scope_echoed":
                body["scope"] = join_scope(scopes)
            elif kind == "scope_omitted":
                body.pop("scope", None)
            elif kind == "scope_narrowed":
                body["scope"] = fault.scope or scopes[0]
                self._narrow(body["access_token"], body["scope"])
        return body

    def _narrow(self, access_token: str, scope: str) -> None:
        found = self.provider.store.access_token(access_token)
        if found is not None:
            found[0].scopes = tuple(scope.split())

    def shape_verify(self, body: dict[str, Any]) -> dict[str, Any]:
        """Apply the verify response variants in force."""
        for fault in self.faults.take("verify", faults_module.VERIFY_VARIANTS):
            if fault.kind == "expires_in_string":
                body["expires_in"] = str(body["expires_in"])
            elif fault.kind == "different_scope":
                body["scope"] = fault.scope or "https://example.com/unrelated.read"
        return body

    # The clock and the journal.

    def now(self) -> float:
        """Return the provider's time."""
        return self.provider.clock.now()

    def advance(self, *, seconds: float) -> float:
        """Move the provider's clock forward; return the new time."""
        return self.provider.clock.advance(seconds)

    def journal(
        self,
        *,
        endpoint: str | None = None,
        client_id: str | None = None,
        since: int = 0,
    ) -> list[Exchange]:
        """Return the recorded exchanges, optionally for one endpoint or client."""
        names = faults_module.ENDPOINTS.get(endpoint, {endpoint}) if endpoint else None
        return self.provider.journal.entries(
            endpoint=names, client_id=client_id, since=since
        )

    def clear_journal(self) -> None:
        """Forget every recorded exchange."""
        self.provider.journal.clear()

    def reset(self) -> None:
        """Return to the configured data, with no tokens, faults or journal."""
        provider = self.provider
        self._cancelled.set()
        self._cancelled = threading.Event()
        provider.registry.reset()
        provider.store.reset()
        provider.journal.clear()
        provider.clock.reset()
        provider.errors.clear()
        self.faults.clear()
        with self._lock:
            self._arrangements.clear()


def _typed_codes(
    auth_codes: Mapping[str, str | Sequence[str]],
) -> dict[str, list[str]]:
    if not isinstance(auth_codes, Mapping):
        raise ValueError("auth_codes must map company numbers to codes")
    typed = {}
    for number, codes in auth_codes.items():
        codes = [codes] if isinstance(codes, str) else codes
        if not isinstance(codes, list | tuple) or not all(
            isinstance(c, str) for c in codes
        ):
            raise ValueError(f"auth_codes[{number!r}]: expected a code or codes")
        typed[number] = list(codes)
    return typed
