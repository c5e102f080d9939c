"""Shared pytest settings: notebooks under tests/fixtures are data for tests, not tests."""

collect_ignore_glob = ["fixtures/*", "fixtures/**/*"]
