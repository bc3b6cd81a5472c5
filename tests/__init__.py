"""Tests for rollcall; conftest loads ``tests.servers`` (the real test servers) as a plugin."""
