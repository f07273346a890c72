"""The pytest plugin: a running fake identity service for each test, reset between.

Installing the package registers it (entry point ``pytest11``). One server starts per
test session (per worker under pytest-xdist) and each test gets it reset, so a test
pays for a reset, not for a server. ``@pytest.mark.ch_oauth(...)`` asks for another
data set or configuration; such servers are started once and shared alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .config import ProviderConfig, load_data
from .server import ProviderServer
from .testing import ClientSettings, MockIdentity

__all__ = ["ServerThreadError"]

_FIELDS = {f.name for f in dataclasses.fields(ProviderConfig)} - {"data", "control"}


class ServerThreadError(Exception):
    """A handler of the fake raised while serving the test's requests."""


class _Servers:
    """Running servers, one per distinct configuration, stopped at session end."""

    def __init__(self) -> None:
        self._running: dict[ProviderConfig, ProviderServer] = {}

    def get(self, config: ProviderConfig) -> ProviderServer:
        server = self._running.get(config)
        if server is None:
            server = self._running[config] = ProviderServer(config).start()
        return server

    def stop_all(self) -> None:
        for server in self._running.values():
            server.stop()
        self._running.clear()


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``ch_oauth`` marker."""
    config.addinivalue_line(
        "markers",
        "ch_oauth(data=None, strict=False, **fields): the fake's data set file and "
        "ProviderConfig fields for this test",
    )


@pytest.fixture(scope="session")
def ch_oauth_config() -> ProviderConfig:
    """The fake's configuration for the session; override it in a conftest.py."""
    return ProviderConfig()


@pytest.fixture(scope="session")
def ch_oauth_servers() -> Iterator[_Servers]:
    """The fake servers of this session (one per configuration asked for)."""
    servers = _Servers()
    yield servers
    servers.stop_all()


@pytest.fixture(scope="session")
def ch_oauth_server(
    ch_oauth_servers: _Servers, ch_oauth_config: ProviderConfig
) -> ProviderServer:
    """The session's running fake, with the session configuration; not reset."""
    return ch_oauth_servers.get(_with_control(ch_oauth_config))


@pytest.fixture
def ch_oauth(
    request: pytest.FixtureRequest,
    ch_oauth_servers: _Servers,
    ch_oauth_config: ProviderConfig,
) -> Iterator[MockIdentity]:
    """A running fake identity service, reset for this test.

    Fails the test if a handler of the fake raised while the test ran.
    """
    config = _config_for(request, ch_oauth_config)
    server = ch_oauth_servers.get(config)
    identity = MockIdentity(server)
    identity.reset()
    yield identity
    errors = server.provider.take_errors()
    if errors:
        raise ServerThreadError(
            f"the fake raised {len(errors)} error(s) while serving this test: "
            f"{errors[0]!r}"
        ) from errors[0]


@pytest.fixture
def ch_oauth_settings(ch_oauth: MockIdentity) -> ClientSettings:
    """Identity URL, API URL, client id, secret and redirect URI of the fake."""
    return ch_oauth.settings


def _with_control(config: ProviderConfig) -> ProviderConfig:
    return config if config.control else dataclasses.replace(config, control=True)


def _config_for(request: pytest.FixtureRequest, base: ProviderConfig) -> ProviderConfig:
    marker = request.node.get_closest_marker("ch_oauth")
    if marker is None:
        return _with_control(base)
    if marker.args:
        raise pytest.UsageError("@pytest.mark.ch_oauth takes keyword arguments only")
    fields: dict[str, Any] = dict(marker.kwargs)
    data = fields.pop("data", None)
    strict = fields.pop("strict", False)
    unknown = set(fields) - _FIELDS
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.ch_oauth: unknown field {sorted(unknown)[0]!r}; expected "
            f"data, strict or one of {', '.join(sorted(_FIELDS))}"
        )
    if data is not None:
        path = Path(data)
        if not path.is_absolute():
            path = Path(request.path).parent / path
        fields["data"] = load_data(path)
    config = dataclasses.replace(_with_control(base), **fields)
    return config.strict() if strict else config
