"""Run the provider in a background thread of this process, on a port the OS picks."""

from __future__ import annotations

import logging
import socket
import threading
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import Provider
from .clock import Clock
from .config import ProviderConfig

__all__ = ["ProviderServer"]

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request (the journal has them)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class ProviderServer:
    """A running provider, started and stopped as a context manager.

    >>> with ProviderServer() as server:
    ...     server.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(
        self,
        config: ProviderConfig | None = None,
        *,
        provider: Provider | None = None,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if provider is not None and (config is not None or clock is not None):
            raise ValueError("give a provider, or a config and clock to make one")
        self.provider = provider or Provider(config, clock=clock)
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, such as ``http://127.0.0.1:50123``."""
        if self._server is None:
            raise RuntimeError("the server is not running")
        host = str(self._server.server_address[0])
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self._server.server_port}"

    def start(self) -> ProviderServer:
        """Bind and start serving in a daemon thread; return self."""
        if self._server is not None:
            raise RuntimeError("the server is already running")
        server = make_server(
            self.host,
            self.port,
            self.provider,
            threaded=True,
            request_handler=_QuietHandler,
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            name=f"ch-oauth-mock:{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        log.info("listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; waits for the serving thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        stopper = threading.Thread(target=server.shutdown, daemon=True)
        stopper.start()
        # serve_forever wakes every poll interval; a connection wakes it at once.
        self._poke(server)
        stopper.join()
        thread.join()
        server.server_close()
        self._server = self._thread = None

    @staticmethod
    def _poke(server: BaseWSGIServer) -> None:
        address = server.server_address
        try:
            with socket.create_connection((str(address[0]), address[1]), timeout=1):
                pass
        except OSError:
            pass

    def __enter__(self) -> ProviderServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
