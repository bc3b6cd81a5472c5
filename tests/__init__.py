"""Tests for rollcall; ``tests.servers`` is loaded as a pytest plugin from pyproject.toml."""
