"""Tests of the store: models, migrations and the domain rules."""
