"""Test support for Distretto and for module authors (loaded as a pytest plugin)."""
