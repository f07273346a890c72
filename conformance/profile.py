"""The client profile: a TOML file that says how to reach the client under test.

Errors name the file, the key and what was expected. See the README's "Client
profiles" section for every key.
"""

from __future__ import annotations

import shlex
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["PLACEHOLDERS", "ClientProfile", "ProfileError", "load_profile"]

PLACEHOLDERS = frozenset(
    {
        "python",
        "port",
        "identity_url",
        "api_url",
        "client_id",
        "client_secret",
        "redirect_uri",
        "http_timeout",
        "company_number",
    }
)
_SECTIONS = {"client", "success", "api", "expect"}
ADAPTER_REDIRECT_URI = "http://127.0.0.1:{port}/callback"


class ProfileError(ValueError):
    """A client profile is malformed; the message names the file, key and fault."""


@dataclass(frozen=True, kw_only=True)
class ClientProfile:
    """Everything the suite needs to know about the client under test."""

    path: Path
    name: str
    command: tuple[str, ...] | None = None
    cwd: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    base_url: str = ""
    adapter: str | None = None
    ready_path: str = "/"
    login_path: str = "/login"
    redirect_uri: str = ""
    http_timeout: float = 5.0
    port: int | None = None
    start_timeout: float = 20.0
    success_path: str = "/"
    success_text: str | None = None
    api_path: str | None = None
    api_text: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    expected_failures: Mapping[str, str] = field(default_factory=dict)

    def fill(self, template: str, values: Mapping[str, str]) -> str:
        """Replace ``{placeholder}``s in a template."""
        return template.format_map(_Strict(values, self.path))


# The [client] keys: the profile's fields that are not read from other tables.
_CLIENT_KEYS = {f.name for f in fields(ClientProfile)} - {
    "path",
    "success_path",
    "success_text",
    "api_path",
    "api_text",
    "expected_failures",
} | {"command", "cwd", "env"}


class _Strict(dict[str, str]):
    def __init__(self, values: Mapping[str, str], path: Path) -> None:
        super().__init__(values)
        self.path = path

    def __missing__(self, key: str) -> str:
        raise ProfileError(f"{self.path}: unknown placeholder {{{key}}}")


def load_profile(path: str | Path) -> ClientProfile:
    """Read and check a client profile."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{path}: cannot be read: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from exc
    return _Reader(path, document).profile()


class _Reader:
    def __init__(self, path: Path, document: dict[str, Any]) -> None:
        self.path = path
        self.doc = document

    def fail(self, key: str, expected: str) -> ProfileError:
        return ProfileError(f"{self.path}: {key}: expected {expected}")

    def table(self, name: str, required: bool = False) -> dict[str, Any]:
        value = self.doc.get(name)
        if value is None:
            if required:
                raise self.fail(f"[{name}]", "a table; the profile needs one")
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"[{name}]", "a table")
        return value

    def text(self, section: str, values: dict[str, Any], key: str) -> str | None:
        value = values.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(f"{section}.{key}", "a non-empty string")
        self.validate_placeholders(f"{section}.{key}", value)
        return value

    def validate_placeholders(self, key: str, value: str) -> None:
        try:
            names = {n for _, n, _, _ in string.Formatter().parse(value) if n}
        except ValueError as exc:
            raise self.fail(
                key, f"a string with well-formed {{placeholders}} ({exc})"
            ) from None
        unknown = names - PLACEHOLDERS
        if unknown:
            raise self.fail(
                key,
                f"placeholders among {{{'}, {'.join(sorted(PLACEHOLDERS))}}}, "
                f"not {{{sorted(unknown)[0]}}}",
            )

    def only_keys(self, section: str, values: dict[str, Any], keys: set[str]) -> None:
        extra = set(values) - keys
        if extra:
            raise self.fail(
                f"{section}.{sorted(extra)[0]}",
                f"one of the keys {', '.join(sorted(keys))}",
            )

    def path_text(self, section: str, values: dict[str, Any], key: str) -> str | None:
        value = self.text(section, values, key)
        if value is not None and not value.startswith("/"):
            raise self.fail(
                f"{section}.{key}", f"a path starting with '/', got {value!r}"
            )
        return value

    def number(
        self, section: str, values: dict[str, Any], key: str, default: float
    ) -> float:
        value = values.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(f"{section}.{key}", "a positive number of seconds")
        return float(value)

    def profile(self) -> ClientProfile:
        unknown = set(self.doc) - _SECTIONS
        if unknown:
            raise self.fail(
                f"[{sorted(unknown)[0]}]",
                f"one of the tables {', '.join(sorted(_SECTIONS))}",
            )
        client = self.table("client", required=True)
        self.only_keys("client", client, _CLIENT_KEYS)
        command, adapter, base_url, redirect_uri = self.reach(client)
        success = self.table("success")
        api = self.table("api")
        self.only_keys("success", success, {"path", "text"})
        self.only_keys("api", api, {"path", "text"})
        return ClientProfile(
            path=self.path,
            name=self.text("client", client, "name") or self.path.stem,
            command=command,
            cwd=self.cwd(client),
            env=self.env(client),
            base_url=base_url or "",
            adapter=adapter,
            ready_path=self.path_text("client", client, "ready_path") or "/",
            login_path=self.path_text("client", client, "login_path") or "/login",
            redirect_uri=redirect_uri,
            http_timeout=self.number("client", client, "http_timeout", 5.0),
            port=self.port(client),
            start_timeout=self.number("client", client, "start_timeout", 20.0),
            success_path=self.path_text("success", success, "path") or "/",
            success_text=self.text("success", success, "text"),
            api_path=self.path_text("api", api, "path"),
            api_text=self.text("api", api, "text"),
            client_id=self.text("client", client, "client_id"),
            client_secret=self.text("client", client, "client_secret"),
            expected_failures=self.expected(),
        )

    def reach(
        self, client: dict[str, Any]
    ) -> tuple[tuple[str, ...] | None, str | None, str | None, str]:
        """Read how the client is reached: command, adapter, base URL, redirect."""
        command = self.command(client)
        adapter = self.text("client", client, "adapter")
        base_url = self.text("client", client, "base_url")
        if command is None and adapter is None and base_url is None:
            raise self.fail(
                "client",
                "a command to start the client, the base_url of a running "
                "one, or a Python adapter ('module:Class')",
            )
        if base_url is None and adapter is None:
            raise self.fail("client.base_url", "the URL the started client listens on")
        redirect_uri = self.text("client", client, "redirect_uri")
        if redirect_uri is None and adapter is None:
            raise self.fail("client.redirect_uri", "the client's redirect URI")
        # An adapter is served by the suite itself, at a redirect URI it knows.
        return command, adapter, base_url, redirect_uri or ADAPTER_REDIRECT_URI

    def expected(self) -> dict[str, str]:
        from .requirements import CATALOGUE

        values = self.table("expect")
        for key, note in values.items():
            if key not in CATALOGUE:
                raise self.fail(
                    f"expect.{key}", f"a requirement id, one of {', '.join(CATALOGUE)}"
                )
            if not isinstance(note, str) or not note:
                raise self.fail(f"expect.{key}", "a note saying why it fails")
        return dict(values)

    def port(self, client: dict[str, Any]) -> int | None:
        value = client.get("port")
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 0 < value < 65536
        ):
            raise self.fail("client.port", "a port number from 1 to 65535")
        return value

    def command(self, client: dict[str, Any]) -> tuple[str, ...] | None:
        value = client.get("command")
        if value is None:
            return None
        if isinstance(value, str):
            value = shlex.split(value)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v for v in value)
        ):
            raise self.fail("client.command", "a non-empty list of strings")
        for part in value:
            self.validate_placeholders("client.command", part)
        return tuple(value)

    def cwd(self, client: dict[str, Any]) -> Path:
        value = self.text("client", client, "cwd")
        folder = self.path.parent.resolve()
        return folder if value is None else (folder / value).resolve()

    def env(self, client: dict[str, Any]) -> dict[str, str]:
        value = client.get("env", {})
        if not isinstance(value, dict):
            raise self.fail("client.env", "a table of strings")
        for key, item in value.items():
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise self.fail(f"client.env.{key}", "a string")
            self.validate_placeholders(f"client.env.{key}", str(item))
        return {k: str(v) for k, v in value.items()}
