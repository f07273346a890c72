"""HTML pages, rendered from Jinja2 templates with every value escaped."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = ["Pages"]


class Pages:
    """The provider's templates, each compiled once, when first rendered.

    Compiling on first use rather than at start keeps a cold start short: the
    first page served needs two of the seven templates.
    """

    def __init__(self) -> None:
        self._env: Environment | None = None
        self._lock = threading.Lock()

    @property
    def env(self) -> Environment:
        """The Jinja2 environment, made (and jinja2 imported) on first use."""
        if self._env is None:
            with self._lock:
                if self._env is None:
                    from jinja2 import Environment, PackageLoader, select_autoescape

                    self._env = Environment(
                        loader=PackageLoader("mock_provider", "templates"),
                        autoescape=select_autoescape(
                            default=True, default_for_string=True
                        ),
                        auto_reload=False,
                    )
        return self._env

    def render(self, name: str, status: int = 200, **context: Any) -> Response:
        """Render a page as an HTML response that is never cached."""
        html = self.env.get_template(name).render(**context)
        response = Response(html, status=status, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; form-action *"
        )
        return response
