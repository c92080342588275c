"""Alembic migrations of the host's schema (see :mod:`scanpay.host.db.migrate`)."""
