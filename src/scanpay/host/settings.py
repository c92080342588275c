"""The host's settings, read from the environment (``SCANPAY_*``).

======================================  ===========================================
variable                                meaning (default)
======================================  ===========================================
``SCANPAY_DATA_DIR``                    where the SQLite file lives (``./data``)
``SCANPAY_DATABASE_URL``                SQLAlchemy URL (``sqlite:///DATA_DIR/host.db``);
                                        ``postgresql+psycopg://user@host/db`` for PostgreSQL
``SCANPAY_MIN_TERMINAL_VERSION``        oldest terminal software allowed (``0.1.0``)
``SCANPAY_TIMEZONE``                    the business day's timezone (``Asia/Shanghai``)
``SCANPAY_WALLET_PREFIX``               the built-in wallet's code prefix (``88``)
``SCANPAY_CODE_LIFETIME``               seconds a wallet code lives (``60``)
``SCANPAY_ACTIVATION_TTL``              seconds an activation code lives (``86400``)
``SCANPAY_KEY_GRACE``                   seconds an old key works after rotation (``86400``)
``SCANPAY_PIN_TRIES``                   wrong PINs that lock a wallet (``3``)
``SCANPAY_PIN_LOCK``                    seconds the lock lasts (``900``)
``SCANPAY_USER_PAYING_TIMEOUT``         seconds a payment waits for the PIN (``120``)
``SCANPAY_MAX_BODY``                    largest request body in bytes (``65536``)
``SCANPAY_MASTER_KEY``                  64 hex: seals terminal keys and wallet secrets
``SCANPAY_MASTER_KEY_FILE``             or a file holding it (default: ``master.key``
                                        beside the SQLite file, or in the data dir)
``SCANPAY_COUNTRY``                     country code written into order QR codes (``CN``)
``SCANPAY_SWEEP_INTERVAL``              seconds between expiry sweeps in ``serve`` (``5``)
``SCANPAY_HEADER_TIMEOUT``              seconds a connection has to send a whole request
                                        head, then it is closed (``10``)
``SCANPAY_KEEP_ALIVE_TIMEOUT``          seconds an idle keep-alive connection stays (``5``)
``SCANPAY_MAX_CONNECTIONS``             connections per worker; past it the one waiting
                                        longest for a request head is closed (``1000``)
``SCANPAY_NETWORK_DEADLINE``            seconds a payment routed to a network may take to be
                                       approved, from the pay call (``45``; WeChat Pay's rule)
``SCANPAY_NETWORK_REVERSE_AFTER``       no reverse at a network sooner after the pay call
                                       (``15``; WeChat Pay's rule)
``SCANPAY_NETWORK_POLL``                seconds between queries of a payment in doubt (``5``)
``SCANPAY_NETWORK_PAY_TIMEOUT``         seconds the host waits for a network's answer to a pay
                                       call before it answers the terminal USER_PAYING and
                                       queries (``6``: well under a terminal's 10 s request timeout)
``SCANPAY_NETWORK__<NAME>__<OPTION>``   an option of network ``<name>``'s adapter, e.g.
                                       ``SCANPAY_NETWORK__WECHAT_PAY__GATEWAY`` (the real
                                       gateway by default; the simulator in ``make run``)
``SCANPAY_RECONCILE_AT``                when a network's day is reconciled by itself, on the
                                        next day, in the network's own time zone (``10:00``:
                                        WeChat Pay's bill is out after 10:00 Beijing time);
                                        ``off``: only by ``scanpay host reconcile run``
``SCANPAY_RECONCILE_RETRY``             seconds before a day whose statement was not ready
                                        is asked for again (``1800``)
``SCANPAY_RECONCILE_DAYS``              how many of the latest due days are caught up (``3``)
``SCANPAY_LEGACY_SIGNATURE_UNTIL``      last day (ISO date) version 1 terminals, whose
                                        replies are not bound to their requests, are
                                        served (``2027-06-30``); ``none``: refuse now
======================================  ===========================================
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scanpay.host.domain.pin import PinPolicy
from scanpay.host.domain.versions import parse_version
from scanpay.host.domain.wallet_codes import CodeFormat

__all__ = ["HostSettings", "normalize_database_url"]

#: The most days back the scheduled reconciliation catches up: networks keep their
#: statements a few months only (WeChat Pay: three), and each day is a call per channel.
_MAX_RECONCILE_DAYS = 90
#: The longest wait before a statement not ready is asked for again: a day.
_MAX_RECONCILE_RETRY = 86_400.0


@dataclass(frozen=True, slots=True)
class HostSettings:
    """Everything the host can be told; build with :meth:`from_env` or directly in tests."""

    database_url: str
    min_terminal_version: str = "0.1.0"
    timezone: str = "Asia/Shanghai"
    wallet_prefix: str = "88"
    code_lifetime: int = 60
    activation_ttl: int = 86_400
    key_grace: int = 86_400
    pin_tries: int = 3
    pin_lock: int = 900
    user_paying_timeout: int = 120
    max_body: int = 65_536
    data_dir: str = "./data"
    master_key: str | None = field(default=None, repr=False)
    master_key_file: str | None = None
    country: str = "CN"
    sweep_interval: float = 5.0
    header_timeout: float = 10.0
    keep_alive_timeout: int = 5
    max_connections: int = 1000
    legacy_signature_until: date | None = date(2027, 6, 30)
    network_deadline: float = 45.0
    network_reverse_after: float = 15.0
    network_poll: float = 5.0
    network_pay_timeout: float = 6.0
    #: The longest wait before a network refund is asked about again (its backoff's cap).
    network_refund_retry_max: float = 300.0
    #: When a day's statements are due on the next day, in each network's zone (None: off).
    reconcile_at: time | None = time(10, 0)
    reconcile_retry: float = 1800.0
    reconcile_days: int = 3
    #: Each network adapter's options by network name (``{"wechat_pay": {"gateway": ...}}``).
    networks: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parse_version(self.min_terminal_version)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {self.timezone!r}") from None
        self.code_format  # noqa: B018 - validates the prefix and lifetime
        for name in ("activation_ttl", "pin_tries", "pin_lock", "user_paying_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.key_grace < 0 or self.max_body < 1024:
            raise ValueError("key_grace >= 0 and max_body >= 1024")
        if self.master_key is not None and not _is_key_hex(self.master_key):
            raise ValueError("the master key is 64 hex characters (32 bytes)")
        if len(self.country) != 2 or not self.country.isalpha() or not self.country.isupper():
            raise ValueError("the country is two capital letters (ISO 3166)")
        if self.sweep_interval <= 0:
            raise ValueError("sweep_interval must be positive")
        for name in (
            "network_deadline",
            "network_poll",
            "network_pay_timeout",
            "network_refund_retry_max",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if not 0 <= self.network_reverse_after < self.network_deadline:
            raise ValueError("network_reverse_after must be >= 0 and below network_deadline")
        for name in ("header_timeout", "keep_alive_timeout", "max_connections"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.reconcile_at is not None and self.reconcile_at.tzinfo is not None:
            raise ValueError("reconcile_at is a wall time (in each network's own zone)")
        if not 0 < self.reconcile_retry <= _MAX_RECONCILE_RETRY:  # NaN too
            raise ValueError(f"reconcile_retry must be positive, at most {_MAX_RECONCILE_RETRY}")
        if not 1 <= self.reconcile_days <= _MAX_RECONCILE_DAYS:
            raise ValueError(f"reconcile_days must be 1 to {_MAX_RECONCILE_DAYS}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HostSettings:
        """Settings from ``environ`` (default: the process environment)."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("SCANPAY_DATA_DIR", "./data"))
        url = env.get("SCANPAY_DATABASE_URL") or f"sqlite:///{data_dir / 'host.db'}"
        ints = {
            "code_lifetime": "SCANPAY_CODE_LIFETIME",
            "activation_ttl": "SCANPAY_ACTIVATION_TTL",
            "key_grace": "SCANPAY_KEY_GRACE",
            "pin_tries": "SCANPAY_PIN_TRIES",
            "pin_lock": "SCANPAY_PIN_LOCK",
            "user_paying_timeout": "SCANPAY_USER_PAYING_TIMEOUT",
            "max_body": "SCANPAY_MAX_BODY",
            "keep_alive_timeout": "SCANPAY_KEEP_ALIVE_TIMEOUT",
            "max_connections": "SCANPAY_MAX_CONNECTIONS",
            "reconcile_days": "SCANPAY_RECONCILE_DAYS",
        }
        values: dict[str, Any] = {}
        for name, var in ints.items():
            if env.get(var):
                try:
                    values[name] = int(env[var])
                except ValueError:
                    raise ValueError(f"{var} must be an integer") from None
        for name, var in (
            ("sweep_interval", "SCANPAY_SWEEP_INTERVAL"),
            ("header_timeout", "SCANPAY_HEADER_TIMEOUT"),
            ("network_deadline", "SCANPAY_NETWORK_DEADLINE"),
            ("network_reverse_after", "SCANPAY_NETWORK_REVERSE_AFTER"),
            ("network_poll", "SCANPAY_NETWORK_POLL"),
            ("network_pay_timeout", "SCANPAY_NETWORK_PAY_TIMEOUT"),
            ("network_refund_retry_max", "SCANPAY_NETWORK_REFUND_RETRY_MAX"),
            ("reconcile_retry", "SCANPAY_RECONCILE_RETRY"),
        ):
            if env.get(var):
                try:
                    values[name] = float(env[var])
                except ValueError:
                    raise ValueError(f"{var} must be a number") from None
        networks: dict[str, dict[str, str]] = {}
        for var, value in env.items():
            if var.startswith("SCANPAY_NETWORK__"):
                name, _, option = var[len("SCANPAY_NETWORK__") :].partition("__")
                if not name or not option:
                    raise ValueError(f"{var}: name it SCANPAY_NETWORK__<NAME>__<OPTION>")
                networks.setdefault(name.lower(), {})[option.lower()] = value
        if networks:
            values["networks"] = networks
        settings = cls(database_url=normalize_database_url(url), data_dir=str(data_dir), **values)
        texts = {
            "min_terminal_version": "SCANPAY_MIN_TERMINAL_VERSION",
            "timezone": "SCANPAY_TIMEZONE",
            "wallet_prefix": "SCANPAY_WALLET_PREFIX",
            "master_key": "SCANPAY_MASTER_KEY",
            "master_key_file": "SCANPAY_MASTER_KEY_FILE",
            "country": "SCANPAY_COUNTRY",
        }
        given: dict[str, Any] = {name: env[var] for name, var in texts.items() if env.get(var)}
        if env.get("SCANPAY_LEGACY_SIGNATURE_UNTIL"):
            given["legacy_signature_until"] = _parse_day(env["SCANPAY_LEGACY_SIGNATURE_UNTIL"])
        if env.get("SCANPAY_RECONCILE_AT"):
            given["reconcile_at"] = _parse_time_of_day(env["SCANPAY_RECONCILE_AT"])
        return replace(settings, **given) if given else settings

    @property
    def code_format(self) -> CodeFormat:
        """The built-in wallet's code shape for these settings."""
        return CodeFormat(prefix=self.wallet_prefix, lifetime_seconds=self.code_lifetime)

    @property
    def pin_policy(self) -> PinPolicy:
        return PinPolicy(max_tries=self.pin_tries, lock_seconds=self.pin_lock)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _parse_day(text: str) -> date | None:
    if text.strip().lower() == "none":
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("SCANPAY_LEGACY_SIGNATURE_UNTIL is an ISO date or 'none'") from None


def _parse_time_of_day(text: str) -> time | None:
    value = text.strip().lower()
    if value == "off":
        return None
    found = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", value)
    if found:
        return time(int(found[1]), int(found[2]))
    raise ValueError("SCANPAY_RECONCILE_AT is a time of day (HH:MM) or 'off'")


def _is_key_hex(text: str) -> bool:
    return len(text) == 64 and all(ch in "0123456789abcdefABCDEF" for ch in text)


def normalize_database_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` mean psycopg 3 (the driver the host ships with)."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url
