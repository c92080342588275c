"""Every audit action the host records and every kind of actor has words in both
languages, so the portal's audit pages never show an identifier (issue 14); a day
close's differences are sentences, not ``SUCCESS 1234``."""

from __future__ import annotations

import re

import pytest

from host.kit import RunningHost, make_world
from host.portal.portal_kit import add_user, logged_in
from scanpay.host.portal.texts import TEXTS
from support import ROOT

_SOURCES = [
    *(ROOT / "src" / "scanpay" / "host").rglob("*.py"),
    *(ROOT / "src/scanpay/cli/host").rglob("*.py"),
]
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


_DIFFERENCES = re.compile(r'<td class="small">(.*?)</td>', re.S)


def test_day_close_differences_are_sentences_in_the_page_language(host: RunningHost) -> None:
    """The settlements page said ``DAY-1 (payment): terminal USER_PAYING 1234, host
    PARTIALLY_REFUNDED 1234``; it says what differs, in words and in money."""
    world = make_world(host)
    world.pay("DAY-1", 1234)
    assert world.terminal.refund("DAY-1-R1", "DAY-1", 300).status_code == 200
    day = world.host.clock.now().astimezone(world.ctx.settings.zone).date().isoformat()
    # The terminal never learnt the outcome (still waiting) and never saw the refund.
    items = [{"out_trade_no": "DAY-1", "kind": "payment", "status": "USER_PAYING", "amount": 1234}]
    body = {"date": day, "count": 0, "total": 0, "refund_count": 0, "refund_total": 0,
            "items": items}  # fmt: skip
    answer = world.terminal.request("POST", "/v1/batches/close", body)
    assert answer.status_code == 200 and answer.json()["matched"] is False, answer.text
    owner = logged_in(host, add_user(host, "owner", world.merchant_id))
    shown = {}
    for lang in ("en", "zh-CN"):
        page = owner.get("/portal/settlements", headers={"Accept-Language": lang}).text
        shown[lang] = " ".join(_DIFFERENCES.findall(page[page.index('id="batches"') :]))
        for raw in ("SUCCESS", "PARTIALLY_REFUNDED", "USER_PAYING", "1234", "(payment)"):
            assert raw not in shown[lang], (lang, raw, shown[lang])
    owner.close()
    en, zh = shown["en"], shown["zh-CN"]
    assert (
        "Payment DAY-1 (CNY 12.34): waiting for the customer on this terminal, "
        "partly refunded on the host"
    ) in en
    assert "Refund DAY-1-R1: the host has CNY 3.00 (refunded); this terminal has no record" in en
    assert "付款 DAY-1（CNY 12.34）：本终端为“等待顾客确认”，主机为“部分退款”" in zh
    assert "退款 DAY-1-R1：主机有 CNY 3.00（已退款），本终端没有记录" in zh
