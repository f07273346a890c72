"""``python -m mock_provider``: the same as ``ch-oauth-mock``."""

from .cli import main

raise SystemExit(main())
