"""HTML pages, rendered from Jinja2 templates with every value escaped."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.wrappers import Response

__all__ = ["Pages"]


class Pages:
    """The provider's templates, loaded and compiled once."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("mock_provider", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            auto_reload=False,
        )
        self._cache = {
            name: self.env.get_template(name)
            for name in self.env.list_templates(extensions=["html"])
        }

    def render(self, name: str, status: int = 200, **context: Any) -> Response:
        """Render a page as an HTML response that is never cached."""
        html = self._cache[name].render(**context)
        response = Response(html, status=status, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; form-action *"
        )
        return response
