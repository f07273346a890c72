"""The provider's data at run time: clients, users, companies; tests may change it."""

from __future__ import annotations

import hmac
import threading

from .config import Client, Company, DataSet, Realm, User
from .scopes import ScopeCatalogue

__all__ = ["Registry"]


class Registry:
    """Clients, users, companies and scopes, looked up by key.

    Built from a :class:`DataSet`; the control plane adds entries and changes auth
    codes while the provider runs, and :meth:`reset` restores the data set.
    """

    def __init__(self, data: DataSet, realm: Realm) -> None:
        self.realm = realm
        self._data = data
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Restore the configured data set."""
        with self._lock:
            self.clients = {c.client_id: c for c in self._data.clients}
            self.users = {u.user_id: u for u in self._data.users}
            self.emails = {u.email.lower(): u for u in self._data.users}
            self.companies = {c.number: c for c in self._data.companies}
            self.scopes = ScopeCatalogue(self._data.scopes, self.companies)

    def client(self, client_id: str | None) -> Client | None:
        """Return a client of this provider's realm; others are unknown here."""
        client = self.clients.get(client_id or "")
        return client if client is not None and client.realm == self.realm else None

    def user_by_credentials(self, email: str, password: str) -> User | None:
        """Return the user whose email and password these are."""
        user = self.emails.get(email.strip().lower())
        if user is None:
            return None
        if not hmac.compare_digest(user.password.encode(), password.encode()):
            return None
        return user

    def add_client(self, client: Client) -> None:
        """Register (or replace) a client."""
        with self._lock:
            self.clients[client.client_id] = client

    def add_user(self, user: User) -> None:
        """Add (or replace) a user."""
        with self._lock:
            old = self.users.get(user.user_id)
            if old is not None:
                self.emails.pop(old.email.lower(), None)
            self.users[user.user_id] = user
            self.emails[user.email.lower()] = user

    def add_company(self, company: Company) -> None:
        """Add (or replace) a company."""
        with self._lock:
            self.companies[company.number] = company
