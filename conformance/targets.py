"""The identity services the suite can run against: the fake, the sandbox, a URL."""

from __future__ import annotations

import dataclasses
import os
import secrets
import select
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from mock_provider import Client, ProviderConfig, ProviderServer, default_data
from mock_provider.testing import MockIdentity

from .drivers import Endpoints, redirect_uri_for
from .profile import ClientProfile, ProfileError
from .scenario import Target
from .user_agent import Person

__all__ = [
    "InteractivePerson",
    "SANDBOX_API",
    "SANDBOX_IDENTITY",
    "fake_target",
    "remote_target",
]

SANDBOX_IDENTITY = "https://identity-sandbox.company-information.service.gov.uk"
SANDBOX_API = "https://api-sandbox.company-information.service.gov.uk"
CLIENT_ID = "conformance-client"


def fake_target(profile: ClientProfile, port: int) -> tuple[Target, ProviderServer]:
    """Start the fake in-process with the client under test registered."""
    secret = "conformance-secret-" + secrets.token_urlsafe(18)
    redirect_uri = redirect_uri_for(profile, Endpoints("", "", CLIENT_ID, secret), port)
    client = Client(
        client_id=CLIENT_ID,
        client_secret=secret,
        name=f"Client under test: {profile.name}",
        redirect_uris=(redirect_uri,),
    )
    data = default_data()
    data = dataclasses.replace(data, clients=(*data.clients, client))
    server = ProviderServer(ProviderConfig(data=data)).start()
    identity = MockIdentity(server)
    identity.use_client(client)
    target = Target(
        name="fake",
        identity_url=server.url,
        api_url=server.url,
        client_id=CLIENT_ID,
        client_secret=secret,
        identity=identity,
        companies={c.number: c.auth_code for c in data.companies},
    )
    return target, server


def remote_target(
    profile: ClientProfile,
    name: str,
    identity_url: str,
    api_url: str,
    via: Callable[[str], str | None] | None,
) -> Target:
    """A provider the suite cannot control: the sandbox, or any URL."""
    client_id = profile.client_id or os.environ.get("CH_CONFORMANCE_CLIENT_ID")
    client_secret = profile.client_secret or os.environ.get(
        "CH_CONFORMANCE_CLIENT_SECRET"
    )
    if not client_id or not client_secret:
        raise ProfileError(
            f"{profile.path}: client.client_id and client.client_secret: expected the "
            f"credentials of a client registered with {identity_url} (or set "
            "CH_CONFORMANCE_CLIENT_ID and CH_CONFORMANCE_CLIENT_SECRET)"
        )
    person = Person(
        email=os.environ.get("CH_CONFORMANCE_EMAIL", Person.email),
        password=os.environ.get("CH_CONFORMANCE_PASSWORD", Person.password),
    )
    return Target(
        name=name,
        identity_url=identity_url.rstrip("/"),
        api_url=api_url.rstrip("/"),
        client_id=client_id,
        client_secret=client_secret,
        no_control_reason=(
            f"needs the fake's control plane; the target {name} is a provider the "
            "suite cannot arrange or observe"
        ),
        person=lambda: dataclasses.replace(person),
        via=via,
    )


class InteractivePerson:
    """A person in a real browser: the suite prints the URL and reads the answer."""

    def __init__(
        self,
        timeout: float,
        suspend_capture: Callable[[], AbstractContextManager[object]] | None = None,
    ) -> None:
        self.timeout = timeout
        self.suspend_capture = suspend_capture or nullcontext

    def __call__(self, authorise_url: str) -> str | None:
        """Ask the person to sign in and paste the address they land on."""
        with self.suspend_capture():
            sys.stdout.write(
                "\nOpen this address in a browser and sign in:\n\n"
                f"  {authorise_url}\n\n"
                "When the browser lands on the client's redirect URI, copy that whole "
                f"address and paste it here (waiting {self.timeout:g} s): "
            )
            sys.stdout.flush()
            line = _read_line(self.timeout)
        return line.strip() or None if line is not None else None


def _read_line(timeout: float) -> str | None:
    try:
        tty = open("/dev/tty")  # noqa: SIM115 - closed below
    except OSError:
        return None
    with tty:
        ready, _, _ = select.select([tty], [], [], timeout)
        return tty.readline() if ready else None
