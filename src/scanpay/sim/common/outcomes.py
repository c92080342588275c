"""How a test's chosen outcome is read, for a simulator whose outcomes take seconds and,
for DECLINE, the network's own decline code (Alipay's ``sub_code``, UnionPay's
``respCode``): by name or another simulator's alias, from a request's headers or a
payment code's issue. Each network keeps its own names, codes and descriptions.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping
from enum import StrEnum
from typing import TypeVar

from scanpay.sim.common.delivery import CHARGED_NO_REPLY_SECONDS, SLOW_SECONDS

__all__ = ["MAX_SECONDS", "WECHAT_NAMES", "default_delay", "from_headers", "parse"]

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

MAX_SECONDS = 3600.0
"""The most seconds an outcome may be given."""

WECHAT_NAMES: dict[str, str] = {
    "SYSTEMERROR": "SYSTEM_ERROR",
    "USERPAYING_SUCCESS": "WAIT_PASSWORD_SUCCESS",
    "USERPAYING_FAIL": "WAIT_PASSWORD_FAIL",
    "USERPAYING_NEVER": "WAIT_PASSWORD_NEVER",
    "REVERSE_RECALL": "CANCEL_RETRY",
}
"""The WeChat Pay simulator's names of the outcomes every simulator of the shared core
has under its own name, taken as aliases so one chaos run drives them all alike; a
network's ``aliases`` add those that name its own errors and decline codes."""

_DEFAULT_SECONDS = {"SLOW": SLOW_SECONDS, "CHARGED_NO_REPLY": CHARGED_NO_REPLY_SECONDS}


def parse(
    name: str,
    seconds: float | None,
    code: str | None,
    *,
    outcomes: type[E],
    aliases: Mapping[str, tuple[E, str | None]],
    declines: Container[str],
    default_decline: str,
    code_name: str,
) -> tuple[E, str | None]:
    """The outcome ``name`` names (or an alias does, one of :data:`WECHAT_NAMES` or of
    ``aliases``, maybe with its decline code) and the decline code that goes with it.
    ValueError when the name is unknown, the seconds are out of 0..3600, or ``code``
    (called ``code_name``) is no decline in ``declines`` or comes with another outcome
    than DECLINE."""
    key = name.strip().upper()
    outcome, alias_code = aliases.get(key, (None, None))
    if outcome is None:
        outcome = outcomes(WECHAT_NAMES.get(key, key))
    if seconds is not None and not 0 <= seconds <= MAX_SECONDS:
        raise ValueError("seconds must be within 0..3600")
    if outcome == "DECLINE":
        code = code or alias_code or default_decline
        if code not in declines:
            raise ValueError(f"{code} is not a decline this simulator knows")
    elif code:
        raise ValueError(f"a {code_name} goes with DECLINE only")
    return outcome, code


def default_delay(outcome: StrEnum, seconds: float | None) -> float:
    """The seconds an outcome waits: those chosen, else its default (SLOW's,
    CHARGED_NO_REPLY's), else none."""
    if seconds is not None:
        return seconds
    return _DEFAULT_SECONDS.get(outcome.value, 0.0)


def from_headers(
    headers: Mapping[str, str],
    names: tuple[str, str, str],
    choose: Callable[[str, float | None, str | None], T],
) -> T | None:
    """The outcome a request's headers choose: ``names`` are the outcome's, the seconds'
    and the decline code's headers (ValueError for a bad one; None without the first)."""
    outcome_header, seconds_header, code_header = names
    name = headers.get(outcome_header.lower())
    if not name:
        return None
    raw = headers.get(seconds_header.lower())
    return choose(name, float(raw) if raw else None, headers.get(code_header.lower()))
