"""Fixtures for the provider's own tests: an in-process provider with a still clock.

Most tests talk to the WSGI application through werkzeug's test client, which is
fast and needs no socket; the provider is built once and reset before each test.
The few that need real HTTP use the session's :class:`~mock_provider.ProviderServer`,
reset alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from provider_support import START, Flow

from mock_provider import Clock, Provider, ProviderConfig, ProviderServer


@pytest.fixture(scope="session")
def shared_provider() -> Provider:
    """One provider with the default configuration, shared by the session's tests."""
    return Provider(ProviderConfig(), clock=Clock(start=START))


@pytest.fixture
def provider(shared_provider: Provider) -> Iterator[Provider]:
    """The shared provider, reset for this test; fails it if a handler raised."""
    assert shared_provider.control is not None
    shared_provider.control.reset()
    yield shared_provider
    assert shared_provider.take_errors() == []


@pytest.fixture
def clock(provider: Provider) -> Clock:
    """The provider's clock: it stands still until a test moves it."""
    return provider.clock


@pytest.fixture
def flow(provider: Provider) -> Flow:
    """A driver for the provider, with a browser-like test client."""
    return Flow(provider)


@pytest.fixture
def make_flow() -> Iterator[Callable[..., Flow]]:
    """Return a factory of flows for providers configured otherwise.

    Each provider gets its own still clock; the factory takes a whole
    configuration, field changes, or both.
    """
    made: list[Provider] = []

    def make(config: ProviderConfig | None = None, **changes: Any) -> Flow:
        provider = Provider(
            dataclasses.replace(config or ProviderConfig(), **changes),
            clock=Clock(start=START),
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
