"""The scope catalogue: parse a requested scope string, validate each scope.

A Companies House scope is a resource URL plus a permission; some name a company
(``.../company/{company_number}/...``). Parsing turns the request's string into
:class:`GrantedScope` values that know which company they name, if any.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .config import COMPANY_NUMBER, Client, Company, ScopeDefinition
from .errors import InvalidScope, UnauthorizedClient

__all__ = [
    "GrantedScope",
    "PROFILE_SCOPE",
    "ScopeCatalogue",
    "join_scope",
    "split_scope",
]

PROFILE_SCOPE = "https://identity.company-information.service.gov.uk/user/profile.read"


@dataclass(frozen=True)
class GrantedScope:
    """A concrete scope string and what it means."""

    value: str
    definition: ScopeDefinition
    company_number: str | None = None


class ScopeCatalogue:
    """The scopes a data set knows, compiled once for matching."""

    def __init__(
        self, scopes: Iterable[ScopeDefinition], companies: Mapping[str, Company]
    ) -> None:
        scopes = tuple(scopes)
        self._exact = {d.scope: d for d in scopes if not d.names_company}
        self._templates = [(_compile(d.scope), d) for d in scopes if d.names_company]
        self._companies = companies

    def validate(self, requested: str, client: Client) -> tuple[GrantedScope, ...]:
        """Parse a space separated scope string; raise if any scope is not allowed.

        ``+`` separates scopes too: clients send both (``ch-oauth-facts``, Scopes).
        Repeats are dropped, order is kept.
        """
        granted: dict[str, GrantedScope] = {}
        for value in split_scope(requested):
            scope = self._validate_one(value)
            if scope.definition.insolvency and not client.insolvency:
                raise UnauthorizedClient(
                    f"{client.name} is not registered as insolvency software"
                )
            granted.setdefault(value, scope)
        if not granted:
            default = self._exact.get(PROFILE_SCOPE)
            if default is not None:
                granted[PROFILE_SCOPE] = GrantedScope(PROFILE_SCOPE, default)
        return tuple(granted.values())

    def _validate_one(self, value: str) -> GrantedScope:
        definition = self._exact.get(value)
        if definition is not None:
            return GrantedScope(value, definition)
        for pattern, definition in self._templates:
            match = pattern.match(value)
            if match is None:
                continue
            number = match.group("company")
            if not COMPANY_NUMBER.match(number):
                raise InvalidScope(f"malformed company number {number[:16]!r}")
            if number not in self._companies:
                raise InvalidScope(f"no company with number {number}")
            return GrantedScope(value, definition, number)
        raise InvalidScope(f"unknown scope {value[:120]!r}")

    def company_name(self, number: str) -> str:
        """Return the name of a company in the data set."""
        return self._companies[number].name


def split_scope(requested: str) -> list[str]:
    """Split a scope parameter on spaces and ``+``."""
    return requested.replace("+", " ").split()


def join_scope(scopes: Iterable[GrantedScope | str]) -> str:
    """Join scopes with single spaces, as RFC 6749 §3.3 writes them."""
    return " ".join(s if isinstance(s, str) else s.value for s in scopes)


def _compile(template: str) -> re.Pattern[str]:
    before, after = template.split("{company_number}", 1)
    return re.compile(f"^{re.escape(before)}(?P<company>[^/]+){re.escape(after)}$")
