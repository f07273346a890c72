"""A fake of the Companies House identity service's OAuth 2.0 web-server flow."""

from .app import Provider, create_app
from .clock import Clock
from .config import (
    Client,
    Company,
    DataError,
    DataSet,
    ProviderConfig,
    ScopeDefinition,
    User,
    default_data,
    load_data,
)
from .journal import Exchange
from .server import ProviderServer

__all__ = [
    "Client",
    "Clock",
    "Company",
    "DataError",
    "DataSet",
    "Exchange",
    "Provider",
    "ProviderConfig",
    "ProviderServer",
    "ScopeDefinition",
    "User",
    "create_app",
    "default_data",
    "load_data",
]
