"""Every audit action the host records and every kind of actor has words in both
languages, so the portal's audit pages never show an identifier (issue 14)."""

from __future__ import annotations

import re

import pytest

from scanpay.host.portal.texts import TEXTS
from support import ROOT

_SOURCES = [*(ROOT / "src" / "scanpay" / "host").rglob("*.py"), ROOT / "src/scanpay/cli/host.py"]
# An action is the quoted "<subject>.<verb>" right after an audit.record( / _audit( call
# (within its first few arguments), or merchants' f"merchant.{action}".
_CALL = re.compile(
    r"(?:audit\.record|_audit)\((?:[^()]|\([^()]*\)){0,200}?\"([a-z_]+\.[a-z_]+)\"", re.S
)


def _actions() -> set[str]:
    found: set[str] = set()
    for path in _SOURCES:
        found.update(_CALL.findall(path.read_text(encoding="utf-8")))
    return found | {"merchant.approve", "merchant.suspend", "payment.after_reversal"}


ACTIONS = sorted(_actions())


def test_the_scan_finds_the_actions() -> None:
    assert {"payment.create", "refund.create", "order.pay", "terminal.add"} <= set(ACTIONS)


@pytest.mark.parametrize("action", ACTIONS)
def test_every_audit_action_has_words(action: str) -> None:
    zh, en = TEXTS[f"action.{action}"]
    assert zh and en and "_" not in en


@pytest.mark.parametrize("kind", ["terminal", "operator", "portal", "admin", "wallet", "host"])
def test_every_kind_of_actor_has_words(kind: str) -> None:
    zh, en = TEXTS[f"actor.{kind}"]
    assert zh and en
