"""What every network adapter's settings share: the errors of an unusable secret or
option, the timeouts per kind of call, the URL rule (https, or plain http to this
machine), and the text options a configuration file gives an adapter.

Each adapter's ``config`` keeps what is its network's own (accounts, keys, the leg's
timing) and re-exports these under its own names.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from scanpay.i18n import Text
from scanpay.networks.errors import NetworkError

__all__ = [
    "OPTION_ERRORS",
    "TIMEOUT_KINDS",
    "Timeouts",
    "bad_option",
    "bad_secret",
    "is_loopback",
    "read_options",
    "usable_url",
]

OPTION_ERRORS: dict[str, Text] = {
    "channel_secret_bad": Text(
        "支付渠道的机密 {name} 无法使用", "the channel's secret {name} cannot be used"
    ),
    "bad_network_option": Text(
        "支付网络的设置 {name} 无效", "the payment network's option {name} is not valid"
    ),
}
"""The texts of ``channel_secret_bad`` and ``bad_network_option`` (stable codes)."""

TIMEOUT_KINDS = ("pay", "query", "reverse", "refund", "statement", "connect")
"""The kinds of call with a timeout each (option ``<kind>_timeout``)."""


def bad_secret(name: str) -> NetworkError:
    """The channel's secret ``name`` is unusable (its value is never repeated)."""
    text = OPTION_ERRORS["channel_secret_bad"].format(name=name)
    return NetworkError("channel_secret_bad", text, field=name)


def bad_option(name: str) -> NetworkError:
    """The adapter's option ``name`` is unknown or unusable."""
    text = OPTION_ERRORS["bad_network_option"].format(name=name)
    return NetworkError("bad_network_option", text, field=name)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds each kind of call may take in all (``connect``: to open a connection).

    Pay is the longest a cashier waits; a query or a reverse is repeated by the leg,
    so each waits less. A pay call that outlasts its timeout is UNKNOWN and queried."""

    pay: float = 10.0
    query: float = 5.0
    reverse: float = 5.0
    refund: float = 10.0
    statement: float = 30.0
    connect: float = 3.0

    def __post_init__(self) -> None:
        for name in TIMEOUT_KINDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise bad_option(f"{name}_timeout")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (where plain HTTP is taken)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def usable_url(url: str, *, any_http: bool = False) -> bool:
    """Whether ``url`` may be called or named: http(s) with a host and no query or
    fragment; plain ``http`` only to this machine unless ``any_http`` (a URL the
    network calls back, which a test's host may serve anywhere)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("https", "http") or not host or parts.query or parts.fragment:
        return False
    return parts.scheme == "https" or any_http or is_loopback(host)


def _seconds(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise bad_option(name) from None


def read_options(
    options: Mapping[str, str], names: Iterable[str], *, every: bool = True
) -> tuple[dict[str, str], dict[str, float]]:
    """``options`` (a configuration file's, the command line's) split into the settings
    ``names`` allows (stripped text) and the seconds per kind of call for
    :class:`Timeouts`: ``<kind>_timeout`` and, with ``every``, ``timeout`` for every call
    but connecting (a kind's own wins). Any other option, or a timeout that is no
    number, raises ``bad_network_option`` (a number ``Timeouts`` refuses raises it there)."""
    allowed = frozenset(names)
    every_call: float | None = None
    timeouts: dict[str, float] = {}
    settings: dict[str, str] = {}
    for name, value in options.items():
        kind = name.removesuffix("_timeout")
        if name in allowed:
            settings[name] = value.strip()
        elif every and name == "timeout":
            every_call = _seconds(name, value)
        elif kind != name and kind in TIMEOUT_KINDS:
            timeouts[kind] = _seconds(name, value)
        else:
            raise bad_option(name)
    if every_call is not None:
        timeouts = {**{k: every_call for k in TIMEOUT_KINDS if k != "connect"}, **timeouts}
    return settings, timeouts
