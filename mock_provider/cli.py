"""``ch-oauth-mock``: run the fake identity service for local development."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from urllib.parse import urlencode

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import Provider
from .config import DataError, ProviderConfig, default_data, load_data
from .journal import redact_text
from .scopes import PROFILE_SCOPE

__all__ = ["main"]

log = logging.getLogger("mock_provider.requests")


class _RedactingHandler(WSGIRequestHandler):
    """One log line per request, with codes, tokens and secrets cut short."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.info("%s %s", redact_text(self.requestline), code)


def build_parser() -> argparse.ArgumentParser:
    """Return the command line parser."""
    parser = argparse.ArgumentParser(
        prog="ch-oauth-mock",
        description="A fake Companies House identity service for OAuth clients.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the fake identity service")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8080, help="port, 0 for any (8080)")
    serve.add_argument("--data", help="a data set file (TOML or JSON) to load")
    serve.add_argument("--realm", choices=("sandbox", "live"), default="sandbox")
    serve.add_argument(
        "--no-control", action="store_true", help="leave out the /_mock control plane"
    )
    serve.add_argument(
        "--strict", action="store_true", help="no /oauth/ aliases; state required"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        data = load_data(args.data) if args.data else default_data()
    except DataError as exc:
        print(f"ch-oauth-mock: {exc}", file=sys.stderr)
        return 2
    config = ProviderConfig(data=data, realm=args.realm, control=not args.no_control)
    if args.strict:
        config = config.strict()
    return serve(config, args.host, args.port)


def serve(config: ProviderConfig, host: str, port: int) -> int:
    """Serve until interrupted; return the exit status."""
    provider = Provider(config)
    try:
        server = make_server(
            host, port, provider, threaded=True, request_handler=_RedactingHandler
        )
    except OSError as exc:
        print(f"ch-oauth-mock: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{server.server_port}"
    print(describe(config, url), flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Ctrl-C too, in case the shell that started us set SIGINT to be ignored.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("ch-oauth-mock: stopped", flush=True)
    return 0


def describe(config: ProviderConfig, url: str) -> str:
    """Return what a person needs to try the flow by hand."""
    lines = [f"ch-oauth-mock: listening on {url} ({config.realm} realm)"]
    client = next((c for c in config.data.clients if c.realm == config.realm), None)
    if client is not None:
        redirect_uri = client.redirect_uris[0]
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client.client_id,
                "redirect_uri": redirect_uri,
                "scope": PROFILE_SCOPE,
                "state": "try-me",
            }
        )
        lines += [
            f"  client id:      {client.client_id}",
            f"  client secret:  {client.client_secret}",
            f"  redirect URI:   {redirect_uri}",
            f"  authorise URL:  {url}/oauth2/authorise?{query}",
        ]
    if config.data.users:
        user = config.data.users[0]
        lines.append(f"  test user:      {user.email} / {user.password}")
    for company in config.data.companies[:1]:
        lines.append(
            f"  company:        {company.number} auth code {company.auth_code}"
        )
    if config.control:
        lines.append(f"  control plane:  {url}/_mock/ (off with --no-control)")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)
