"""Benchmarks of the fake identity service; run ``python bench/provider.py``."""
