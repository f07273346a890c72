"""Configuration and data: clients, users, companies, the scope catalogue, lifetimes.

Everything the provider knows is held in frozen, keyword-only dataclasses. Data sets
are loaded from TOML (or JSON) files; a broken file raises :class:`DataError` naming
the file, the entry and what was expected.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

__all__ = [
    "COMPANY_NUMBER",
    "Client",
    "Company",
    "DataError",
    "DataSet",
    "ProviderConfig",
    "Realm",
    "ScopeDefinition",
    "User",
    "default_data",
    "load_data",
    "parse_client",
    "parse_company",
    "parse_user",
]

Realm = Literal["live", "sandbox"]
REALMS: tuple[Realm, ...] = ("live", "sandbox")
COMPANY_NUMBER = re.compile(r"^[A-Z0-9]{8}$")
_URI = re.compile(r"^https?://[^\s/?#]+[^\s#]*$")


class DataError(ValueError):
    """A data set is malformed; the message names the file, the entry and the fault."""


@dataclass(frozen=True, kw_only=True)
class Client:
    """An application registered with the identity service."""

    client_id: str
    client_secret: str
    name: str
    redirect_uris: tuple[str, ...]
    realm: Realm = "sandbox"
    insolvency: bool = False


@dataclass(frozen=True, kw_only=True)
class User:
    """A person with a Companies House account."""

    user_id: str
    email: str
    password: str
    forename: str
    surname: str
    locale: str = "en-GB"


@dataclass(frozen=True, kw_only=True)
class Company:
    """A company and the authentication code its officers hold."""

    number: str
    name: str
    auth_code: str


@dataclass(frozen=True, kw_only=True)
class ScopeDefinition:
    """One entry of the scope catalogue.

    ``scope`` may hold the placeholder ``{company_number}``: such a scope names a
    company, and asking for it makes the person type that company's auth code.
    ``description`` is what the consent page shows; it may use ``{company_name}``.
    """

    scope: str
    description: str
    insolvency: bool = False

    @property
    def names_company(self) -> bool:
        """Whether the scope is a template naming one company."""
        return "{company_number}" in self.scope


@dataclass(frozen=True, kw_only=True)
class DataSet:
    """Everything the provider is told about: clients, users, companies, scopes."""

    clients: tuple[Client, ...] = ()
    users: tuple[User, ...] = ()
    companies: tuple[Company, ...] = ()
    scopes: tuple[ScopeDefinition, ...] = ()
    source: str = "<code>"


@functools.cache
def _packaged() -> DataSet:
    """Return the data set shipped inside the package."""
    text = resources.files("mock_provider").joinpath("data/default.toml").read_text()
    return parse_data(tomllib.loads(text), source="mock_provider/data/default.toml")


@dataclass(frozen=True, kw_only=True)
class ProviderConfig:
    """How the fake behaves. Make variants with :func:`dataclasses.replace`.

    Lifetimes are in seconds. The switches follow ``ch-oauth-facts``: by default the
    fake is lenient where the real service appears to be (``/oauth/`` aliases served,
    ``state`` optional); :meth:`strict` turns that leniency off.
    """

    data: DataSet = field(default_factory=lambda: _packaged())
    realm: Realm = "sandbox"
    access_token_lifetime: int = 3600
    refresh_token_lifetime: int = 7 * 24 * 3600
    code_lifetime: int = 120
    session_lifetime: int = 3600
    journey_lifetime: int = 1800
    max_auth_code_attempts: int = 3
    journal_size: int = 1000
    serve_aliases: bool = True
    require_state: bool = False
    expires_in_as_string: bool = False
    control: bool = True

    def __post_init__(self) -> None:
        if self.realm not in REALMS:
            raise ValueError(f"realm must be one of {REALMS}, not {self.realm!r}")
        for name in (
            "access_token_lifetime",
            "refresh_token_lifetime",
            "code_lifetime",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be a positive number of seconds")
        if self.journal_size < 1:
            raise ValueError("journal_size must be at least 1")
        if self.max_auth_code_attempts < 1:
            raise ValueError("max_auth_code_attempts must be at least 1")

    def strict(self) -> ProviderConfig:
        """Return this configuration with every lenient behaviour turned off."""
        return dataclasses.replace(self, serve_aliases=False, require_state=True)


def default_data() -> DataSet:
    """Return the data set shipped inside the package."""
    return _packaged()


def load_data(path: str | Path) -> DataSet:
    """Load a data set from a TOML or JSON file, raising :class:`DataError` if bad."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read: {exc.strerror}") from exc
    try:
        if path.suffix == ".json":
            document = json.loads(raw)
        else:
            document = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not valid {_kind(path)}: {exc}") from exc
    return parse_data(document, source=str(path))


def _kind(path: Path) -> str:
    return "JSON" if path.suffix == ".json" else "TOML"


def parse_data(document: object, *, source: str) -> DataSet:
    """Build a :class:`DataSet` from a parsed document, checking every entry."""
    if not isinstance(document, Mapping):
        raise DataError(f"{source}: expected a table at the top level")
    unknown = set(document) - {"clients", "users", "companies", "scopes"}
    if unknown:
        raise DataError(
            f"{source}: unknown section {sorted(unknown)[0]!r}; expected clients, "
            "users, companies and scopes"
        )
    data = DataSet(
        clients=_entries(document, "clients", source, _client),
        users=_entries(document, "users", source, _user),
        companies=_entries(document, "companies", source, _company),
        scopes=_entries(document, "scopes", source, _scope),
        source=source,
    )
    _validate_unique(data, source)
    return data


T = TypeVar("T")


def _entries(
    document: Mapping[str, Any],
    section: str,
    source: str,
    build: Callable[[_Entry], T],
) -> tuple[T, ...]:
    items = document.get(section, [])
    if not isinstance(items, list):
        raise DataError(f"{source}: {section}: expected a list of tables")
    built = []
    for index, item in enumerate(items):
        where = f"{source}: {section}[{index}]"
        if not isinstance(item, Mapping):
            raise DataError(f"{where}: expected a table")
        entry = _Entry(item, where)
        built.append(build(entry))
        entry.validate_known_keys()
    return tuple(built)


class _Entry:
    """One table of a data file, read key by key with errors that say where."""

    def __init__(self, item: Mapping[str, Any], where: str) -> None:
        self.item = item
        self.where = where
        self.read: set[str] = set()

    def text(self, key: str, default: str | None = None) -> str:
        self.read.add(key)
        value = self.item.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise DataError(f"{self.where}.{key}: expected a non-empty string")
        return value

    def flag(self, key: str) -> bool:
        self.read.add(key)
        value = self.item.get(key, False)
        if not isinstance(value, bool):
            raise DataError(f"{self.where}.{key}: expected true or false")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        self.read.add(key)
        value = self.item.get(key)
        if not isinstance(value, list) or not value:
            raise DataError(f"{self.where}.{key}: expected a non-empty list of strings")
        if not all(isinstance(v, str) and v for v in value):
            raise DataError(f"{self.where}.{key}: expected a non-empty list of strings")
        return tuple(value)

    def fail(self, key: str, expected: str) -> DataError:
        return DataError(f"{self.where}.{key}: expected {expected}")

    def validate_known_keys(self) -> None:
        extra = sorted(set(self.item) - self.read)
        if extra:
            raise DataError(
                f"{self.where}: unknown key {extra[0]!r}; expected one of "
                f"{', '.join(sorted(self.read))}"
            )


def parse_client(values: Mapping[str, Any], where: str = "client") -> Client:
    """Build one :class:`Client` from a table, raising :class:`DataError` if bad."""
    return _one(values, where, _client)


def parse_user(values: Mapping[str, Any], where: str = "user") -> User:
    """Build one :class:`User` from a table, raising :class:`DataError` if bad."""
    return _one(values, where, _user)


def parse_company(values: Mapping[str, Any], where: str = "company") -> Company:
    """Build one :class:`Company` from a table, raising :class:`DataError` if bad."""
    return _one(values, where, _company)


def _one(values: Mapping[str, Any], where: str, build: Callable[[_Entry], T]) -> T:
    entry = _Entry(values, where)
    built = build(entry)
    entry.validate_known_keys()
    return built


def _client(entry: _Entry) -> Client:
    uris = entry.texts("redirect_uris")
    for uri in uris:
        if not _URI.match(uri):
            raise entry.fail("redirect_uris", f"absolute http(s) URLs, got {uri!r}")
    realm = entry.text("realm", "sandbox")
    if realm not in REALMS:
        raise entry.fail("realm", "'live' or 'sandbox'")
    return Client(
        client_id=entry.text("client_id"),
        client_secret=entry.text("client_secret"),
        name=entry.text("name"),
        redirect_uris=uris,
        realm="live" if realm == "live" else "sandbox",
        insolvency=entry.flag("insolvency"),
    )


def _user(entry: _Entry) -> User:
    email = entry.text("email")
    if "@" not in email:
        raise entry.fail("email", "an email address")
    return User(
        user_id=entry.text("id"),
        email=email,
        password=entry.text("password"),
        forename=entry.text("forename"),
        surname=entry.text("surname"),
        locale=entry.text("locale", "en-GB"),
    )


def _company(entry: _Entry) -> Company:
    number = entry.text("number")
    if not COMPANY_NUMBER.match(number):
        raise entry.fail("number", f"eight capital letters or digits, got {number!r}")
    return Company(
        number=number, name=entry.text("name"), auth_code=entry.text("auth_code")
    )


def _scope(entry: _Entry) -> ScopeDefinition:
    scope = entry.text("scope")
    if not _URI.match(scope):
        raise entry.fail("scope", f"an absolute URL, got {scope!r}")
    return ScopeDefinition(
        scope=scope,
        description=entry.text("description"),
        insolvency=entry.flag("insolvency"),
    )


def _validate_unique(data: DataSet, source: str) -> None:
    keyed: Sequence[tuple[str, Sequence[str]]] = (
        ("clients", [c.client_id for c in data.clients]),
        ("users", [u.email.lower() for u in data.users]),
        ("users", [u.user_id for u in data.users]),
        ("companies", [c.number for c in data.companies]),
        ("scopes", [s.scope for s in data.scopes]),
    )
    for section, keys in keyed:
        seen: set[str] = set()
        for index, key in enumerate(keys):
            if key in seen:
                raise DataError(f"{source}: {section}[{index}]: duplicate {key!r}")
            seen.add(key)
