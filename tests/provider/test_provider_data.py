"""Data sets and configuration: the shipped data, fixture files, and load errors."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path

import pytest
from provider_support import Flow, query_of

from mock_provider import (
    Clock,
    DataError,
    Provider,
    ProviderConfig,
    default_data,
    load_data,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CLIENT = """
[[clients]]
client_id = "a"
client_secret = "s"
name = "A"
redirect_uris = ["http://127.0.0.1/cb"]
"""


def test_default_data_has_clients_users_companies_scopes() -> None:
    data = default_data()

    assert {c.client_id for c in data.clients} == {
        "test-client-id",
        "live-client-id",
        "insolvency-client-id",
    }
    assert [u.email for u in data.users] == ["demo@example.com", "second@example.com"]
    assert {c.number: c.auth_code for c in data.companies}["00012345"] == "222222"
    assert sum(s.names_company for s in data.scopes) == 2
    assert [s.insolvency for s in data.scopes].count(True) == 1
    assert data.source == "mock_provider/data/default.toml"


@pytest.mark.parametrize(
    "path", sorted(FIXTURES.glob("*.toml")) + sorted(FIXTURES.glob("*.json")), ids=str
)
def test_fixture_file_loads_and_serves(path: Path) -> None:
    data = load_data(path)
    provider = Provider(ProviderConfig(data=data))

    response = Flow(provider).http.get("/")

    assert data.source == str(path)
    assert response.status_code == 200
    assert provider.take_errors() == []


def test_fixtures_folder_not_empty() -> None:
    assert list(FIXTURES.glob("*.toml"))


def test_json_data_equals_toml_data(tmp_path: Path) -> None:
    text = (FIXTURES / "default.toml").read_text()
    path = tmp_path / "data.json"
    path.write_text(json.dumps(tomllib.loads(text)))

    data = load_data(path)

    assert dataclasses.replace(data, source="") == dataclasses.replace(
        default_data(), source=""
    )


def test_loaded_data_drives_provider(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        CLIENT
        + """
[[users]]
id = "u1"
email = "u1@example.com"
password = "pw"
forename = "U"
surname = "One"

[[scopes]]
scope = "https://identity.company-information.service.gov.uk/user/profile.read"
description = "Profile"
"""
    )
    flow = Flow(Provider(ProviderConfig(data=load_data(path)), clock=clock))
    flow.control.arrange()

    response = flow.authorise(client_id="a", redirect_uri="http://127.0.0.1/cb")

    assert "code" in query_of(response.headers["Location"])


@pytest.mark.parametrize(
    ("suffix", "text", "expected"),
    [
        (".toml", "clients = [", "not valid TOML"),
        (".toml", b"\xff\xfe = 1", "not valid TOML"),
        (".json", "{", "not valid JSON"),
        (".json", "[]", "expected a table at the top level"),
        (".toml", "colour = 1", "unknown section 'colour'"),
        (".toml", "clients = 3", "clients: expected a list of tables"),
        (".toml", "clients = [1]", "clients[0]: expected a table"),
        (
            ".toml",
            CLIENT + 'colour = "red"',
            "clients[0]: unknown key 'colour'; expected one of",
        ),
        (".toml", CLIENT + CLIENT, "clients[1]: duplicate 'a'"),
        (
            ".toml",
            CLIENT.replace('name = "A"', "name = 5"),
            "clients[0].name: expected a non-empty string",
        ),
        (
            ".toml",
            CLIENT.replace('name = "A"', 'name = "  "'),
            "clients[0].name: expected a non-empty string",
        ),
        (
            ".toml",
            CLIENT.replace('["http://127.0.0.1/cb"]', '"http://127.0.0.1/cb"'),
            "clients[0].redirect_uris: expected a non-empty list of strings",
        ),
        (
            ".toml",
            CLIENT.replace('["http://127.0.0.1/cb"]', "[]"),
            "clients[0].redirect_uris: expected a non-empty list of strings",
        ),
        (
            ".toml",
            CLIENT.replace("http://127.0.0.1/cb", "/cb"),
            "clients[0].redirect_uris: expected absolute http(s) URLs, got '/cb'",
        ),
        (
            ".toml",
            CLIENT + 'realm = "production"',
            "clients[0].realm: expected 'live' or 'sandbox'",
        ),
        (
            ".toml",
            CLIENT + 'insolvency = "yes"',
            "clients[0].insolvency: expected true or false",
        ),
        (
            ".toml",
            '[[companies]]\nnumber = "1234"\nname = "N"\nauth_code = "1"',
            "companies[0].number: expected eight capital letters or digits, got '1234'",
        ),
        (
            ".toml",
            '[[companies]]\nnumber = "sc123456"\nname = "N"\nauth_code = "1"',
            "companies[0].number: expected eight capital letters or digits",
        ),
        (
            ".toml",
            '[[companies]]\nnumber = 12345678\nname = "N"\nauth_code = "1"',
            "companies[0].number: expected a non-empty string",
        ),
        (
            ".toml",
            '[[users]]\nid = "u"\nemail = "nobody"\npassword = "p"\n'
            'forename = "F"\nsurname = "S"',
            "users[0].email: expected an email address",
        ),
        (
            ".toml",
            '[[users]]\nid = "u"\nemail = "a@b"\npassword = "p"\nforename = "F"\n'
            'surname = "S"\n[[users]]\nid = "v"\nemail = "A@B"\npassword = "p"\n'
            'forename = "F"\nsurname = "S"',
            "users[1]: duplicate 'a@b'",
        ),
        (
            ".toml",
            '[[scopes]]\nscope = "profile.read"\ndescription = "d"',
            "scopes[0].scope: expected an absolute URL",
        ),
        (
            ".json",
            json.dumps({"clients": [{"client_id": "a"}]}),
            "clients[0].redirect_uris: expected a non-empty list of strings",
        ),
    ],
    ids=[
        "toml-syntax",
        "toml-not-utf8",
        "json-syntax",
        "json-not-object",
        "unknown-section",
        "section-not-list",
        "entry-not-table",
        "unknown-key",
        "duplicate-client",
        "name-not-string",
        "name-blank",
        "redirect-uris-not-list",
        "redirect-uris-empty",
        "redirect-uri-relative",
        "realm-unknown",
        "flag-not-bool",
        "company-number-short",
        "company-number-lowercase",
        "company-number-not-string",
        "email-without-at",
        "duplicate-email",
        "scope-not-url",
        "json-entry-missing-key",
    ],
)
def test_load_data_error_names_file_entry_and_key(
    tmp_path: Path, suffix: str, text: str | bytes, expected: str
) -> None:
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())

    with pytest.raises(DataError) as caught:
        load_data(path)

    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_load_data_missing_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    with pytest.raises(DataError, match="cannot be read") as caught:
        load_data(path)

    assert str(path) in str(caught.value)


def test_load_data_accepts_str_path(tmp_path: Path) -> None:
    path = tmp_path / "one.toml"
    path.write_text(CLIENT)

    data = load_data(str(path))

    assert [c.client_id for c in data.clients] == ["a"]
    assert data.clients[0].realm == "sandbox"
    assert data.clients[0].insolvency is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"realm": "production"}, "realm must be one of"),
        ({"access_token_lifetime": 0}, "access_token_lifetime must be a positive"),
        ({"refresh_token_lifetime": -1}, "refresh_token_lifetime must be a positive"),
        ({"code_lifetime": 0}, "code_lifetime must be a positive"),
        ({"max_auth_code_attempts": 0}, "max_auth_code_attempts must be at least 1"),
    ],
    ids=["realm", "access", "refresh", "code", "attempts"],
)
def test_config_rejects_bad_values(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProviderConfig(**changes)  # type: ignore[arg-type]


def test_config_strict_turns_leniency_off() -> None:
    config = ProviderConfig(access_token_lifetime=60)

    strict = config.strict()

    assert (strict.serve_aliases, strict.require_state) == (False, True)
    assert strict.access_token_lifetime == 60
    assert (config.serve_aliases, config.require_state) == (True, False)
