"""Terminal software versions and the host's minimum-version policy.

Versions are dotted numbers with an optional pre-release tail: ``1.4``,
``1.4.2``, ``2.0.0rc1``, ``2.0.0-beta.3``. Missing trailing numbers count as
zero (``1.4`` == ``1.4.0``) and a pre-release sorts before its release, as in
PEP 440 and SemVer. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Version", "is_supported", "parse_version"]

_VERSION = re.compile(r"v?(\d{1,6}(?:\.\d{1,6}){0,3})(?:[-.]?([A-Za-z][A-Za-z0-9.]{0,15}))?")


@dataclass(frozen=True, slots=True, order=True)
class Version:
    """A comparable version: release numbers, then (is-release, pre-release tag)."""

    release: tuple[int, ...]
    final: bool
    pre: str
    text: str = field(compare=False)

    def __str__(self) -> str:
        return self.text


def parse_version(text: str) -> Version:
    """Parse a version; :class:`ValueError` for anything that is not one."""
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a software version: {text[:32]!r}")
    numbers = [int(part) for part in match.group(1).split(".")]
    while len(numbers) < 4:
        numbers.append(0)
    pre = (match.group(2) or "").lower()
    return Version(tuple(numbers), not pre, pre, text.strip())


def is_supported(version: str, minimum: str) -> bool:
    """Whether a terminal reporting ``version`` may transact under ``minimum``."""
    return parse_version(version) >= parse_version(minimum)
