"""Fixtures for the provider's own tests: an in-process provider with a still clock.

Most tests talk to the WSGI application through werkzeug's test client, which is
fast and needs no socket. The few that need real HTTP use the session's
:class:`~mock_provider.ProviderServer`, reset before each test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from provider_support import START, Flow

from mock_provider import Clock, Provider, ProviderConfig, ProviderServer


@pytest.fixture
def clock() -> Clock:
    """A clock standing still until a test moves it."""
    return Clock(start=START)


@pytest.fixture
def config() -> ProviderConfig:
    """The default configuration; tests override it with ``dataclasses.replace``."""
    return ProviderConfig()


@pytest.fixture
def provider(config: ProviderConfig, clock: Clock) -> Iterator[Provider]:
    """A provider with the default data; fails the test if a handler raised."""
    provider = Provider(config, clock=clock)
    yield provider
    assert provider.take_errors() == []


@pytest.fixture
def flow(provider: Provider) -> Flow:
    """A driver for the provider, with a browser-like test client."""
    return Flow(provider)


@pytest.fixture
def make_flow(clock: Clock) -> Iterator[Callable[..., Flow]]:
    """Return a factory of flows for providers configured otherwise."""
    made: list[Provider] = []

    def make(config: ProviderConfig | None = None, **changes: Any) -> Flow:
        provider = Provider(
            dataclasses.replace(config or ProviderConfig(), **changes), clock=clock
        )
        made.append(provider)
        return Flow(provider)

    yield make
    for provider in made:
        assert provider.take_errors() == []


@pytest.fixture(scope="session")
def session_server() -> Iterator[ProviderServer]:
    """One provider over real HTTP for the session."""
    with ProviderServer(clock=Clock(start=START)) as server:
        yield server


@pytest.fixture
def server(session_server: ProviderServer) -> Iterator[ProviderServer]:
    """The session's server, reset for this test; fails it if a handler raised."""
    control = session_server.provider.control
    assert control is not None
    control.reset()
    yield session_server
    assert session_server.provider.take_errors() == []
