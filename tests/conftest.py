"""Shared pytest set-up: pytester runs pytest itself, for the plugin tests."""

pytest_plugins = ["pytester"]
