"""Fixtures come from ``distretto.testing.plugin`` (a pytest plugin shipped for module authors)."""
