"""Shared test setup: pytester runs the README's examples and plugin scenarios."""

pytest_plugins = ["pytester"]
