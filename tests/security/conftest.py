"""Fixtures of the security suite: the host suite's own, reused.

Conftest fixtures are per directory, so the host suite's fixtures are imported
here rather than copied: every test runs against the real host on SQLite and on
PostgreSQL (``database_url`` is parametrized over both backends), and the
session-wide log scan (``log_scan``, autouse) captures every log record of the
run and fails the session if any payment code, key, secret, PIN or password the
suite used (``host.kit.SECRETS``) shows up in one.
"""

from __future__ import annotations

from host.conftest import data_dir, database_url, host, log_scan, world

__all__ = ["data_dir", "database_url", "host", "log_scan", "world"]
