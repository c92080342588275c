"""Why a payment failed, on the portal's payment page: a payment network's decline in the
network's own words (``wechat_pay:NOTENOUGH`` is "Insufficient balance ..."), in the
viewer's language, with the stored code kept beside the words for support; a code with
no words is shown as stored (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from host.kit import RunningHost, World, make_world
from host.portal.portal_kit import PortalClient, add_user, logged_in
from scanpay.host.db.models import Payment
from scanpay.host.portal.render import reason_markup
from scanpay.host.services import audit, ledger

_REASON = re.compile(r'<span id="detail-reason">(.*?)</span></dd>', re.S)
_CODE = re.compile(r'<span class="muted small reason-code">([^<]*)</span>')


@dataclass
class Declines:
    """A shop whose owner is logged in, and its failed payments by their stored reason."""

    world: World
    owner: PortalClient
    by_reason: dict[str, str]

    def reason_shown(self, reason: str, language: str) -> str:
        """The markup the payment page shows for the payment failed with ``reason``."""
        page = self.owner.get(
            f"/portal/transactions/{self.by_reason[reason]}",
            headers={"Accept-Language": language},
        )
        assert page.status_code == 200, page.text[:300]
        found = _REASON.search(page.text)
        assert found is not None, page.text[:2000]
        return found.group(1)


def _declined(world: World, reason: str, network: str | None) -> str:
    """A payment the host declined for want of funds, stored as a network's decline when
    ``network`` is given (the host stores ``network:CODE`` when a network declined)."""
    no = f"DR-{uuid.uuid4().hex[:10]}"
    answer = world.pay(no, world.balance() + 100)
    assert (answer["status"], answer["code"]) == ("FAILED", "51"), answer
    with world.ctx.db.write() as session:
        row = session.scalar(select(Payment).where(Payment.public_id == answer["payment_id"]))
        assert row is not None and row.reason == "insufficient_funds"
        if network is not None:
            row.reason, row.network, row.wallet = reason, network, network
            row.wallet_account_id = None
    return str(answer["payment_id"])


@pytest.fixture(scope="module")
def declines(host: RunningHost) -> Iterator[Declines]:
    world = make_world(host, balance=5_000)
    by_reason = {
        "wechat_pay:NOTENOUGH": _declined(world, "wechat_pay:NOTENOUGH", "wechat_pay"),
        "wechat_pay:NO_SUCH_CODE": _declined(world, "wechat_pay:NO_SUCH_CODE", "wechat_pay"),
        "insufficient_funds": _declined(world, "insufficient_funds", None),
    }
    owner = logged_in(host, add_user(host, "owner", world.merchant_id))
    yield Declines(world, owner, by_reason)
    owner.close()
    assert ledger.check(host.ctx).ok and audit.verify(host.ctx).ok


def test_a_network_decline_reads_in_english_with_its_code(declines: Declines) -> None:
    shown = declines.reason_shown("wechat_pay:NOTENOUGH", "en")
    assert shown.startswith("Insufficient balance; ask for another card or way to pay")
    assert _CODE.findall(shown) == ["wechat_pay:NOTENOUGH"]


def test_a_network_decline_reads_in_chinese_with_its_code(declines: Declines) -> None:
    shown = declines.reason_shown("wechat_pay:NOTENOUGH", "zh-CN")
    assert shown.startswith("余额不足，请顾客换卡或换一种支付方式")
    assert "Insufficient" not in shown
    assert _CODE.findall(shown) == ["wechat_pay:NOTENOUGH"]


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_an_unknown_network_code_shows_as_stored(declines: Declines, language: str) -> None:
    assert declines.reason_shown("wechat_pay:NO_SUCH_CODE", language) == "wechat_pay:NO_SUCH_CODE"


def test_the_hosts_own_reasons_keep_their_words(declines: Declines) -> None:
    assert declines.reason_shown("insufficient_funds", "en") == "insufficient funds"
    assert declines.reason_shown("insufficient_funds", "zh-CN") == "余额不足"


# ------------------------------------------------------------------------------ pure


def test_reason_markup_escapes_what_it_shows_as_stored() -> None:
    assert str(reason_markup("<b>odd</b>", "en")) == "&lt;b&gt;odd&lt;/b&gt;"
    assert str(reason_markup("acme:<x>", "zh-CN")) == "acme:&lt;x&gt;"
    assert str(reason_markup(None, "en")) == "" and str(reason_markup("", "en")) == ""


def test_reason_markup_takes_any_spelling_of_a_known_network_code() -> None:
    # WeChat Pay's API v3 spells some codes with underscores: the same words.
    shown = str(reason_markup("wechat_pay:AUTH_CODE_INVALID", "en"))
    assert shown.startswith("The code is not valid; ask the customer to refresh it <span")
    assert _CODE.findall(shown) == ["wechat_pay:AUTH_CODE_INVALID"]
    # Not a decline (the network's "query it"): no words of a decline, the code as stored.
    assert str(reason_markup("wechat_pay:SYSTEMERROR", "en")) == "wechat_pay:SYSTEMERROR"
    assert str(reason_markup("alipay:NOTENOUGH", "en")) == "alipay:NOTENOUGH"
