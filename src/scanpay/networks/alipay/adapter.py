"""The Alipay adapter: the :class:`~scanpay.networks.port.Network` port over Alipay's
OpenAPI (face-to-face ``alipay.trade.pay`` with ``scene=bar_code`` and the rest).

One signer per channel's credentials, built on first use and cached (thread-safe);
a channel whose secrets changed (a rotated key) gets a new one. Building it sends
nothing (keys and certificates are loaded and checked), so a channel the adapter
cannot use raises :class:`~scanpay.networks.errors.NetworkError` before any call
leaves; after that no call raises for network trouble: it answers UNKNOWN.

Nothing is logged of a payment code but its mask, nor of a key anything at all.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from scanpay.codes.mask import mask_text
from scanpay.networks.alipay import answers, bill, notices
from scanpay.networks.alipay.client import AlipayClient, NoReply, Reply
from scanpay.networks.alipay.codes import SUCCESS, pay_answer
from scanpay.networks.alipay.config import LEG_RULES, NETWORK, AlipaySettings, keys_of
from scanpay.networks.alipay.money import to_yuan
from scanpay.networks.clients import ClientCache, HoldsClients
from scanpay.networks.errors import NetworkError
from scanpay.networks.leg import LegRules
from scanpay.networks.port import (
    Channel,
    ChannelMode,
    Notice,
    NoticeReply,
    Outcome,
    PayAnswer,
    PayRequest,
    QueryAnswer,
    RefundAnswer,
    RefundRequest,
    RefundStatus,
    ReverseAnswer,
    Statement,
)

__all__ = ["AlipayNetwork"]

log = logging.getLogger("scanpay.networks.alipay")

_PAY = "alipay.trade.pay"
_QUERY = "alipay.trade.query"
_CANCEL = "alipay.trade.cancel"
_REFUND = "alipay.trade.refund"
_REFUND_QUERY = "alipay.trade.fastpay.refund.query"
_BILL = "alipay.data.dataservice.bill.downloadurl.query"
_REMEMBERED_REFUNDS = 10_000


def _check_trade_no(trade_no: str) -> None:
    # Alipay's out_trade_no takes letters, digits and "_" only; the port also allows
    # "-|*" (WeChat's alphabet): refused before anything is sent.
    if not trade_no.replace("_", "").isalnum() or not trade_no.isascii():
        raise NetworkError("bad_trade_no", field="trade_no")


class AlipayNetwork(HoldsClients):
    """Alipay behind the port. ``close()`` when done (it holds connections)."""

    def __init__(self, settings: AlipaySettings) -> None:
        self.settings = settings
        super().__init__(settings.timeouts)
        self._clients: ClientCache[AlipayClient] = self._cache()
        self._lock = threading.Lock()
        # refund number -> trade number, for a refund query the port asks without one.
        self._refunds: OrderedDict[tuple[str, str], str] = OrderedDict()

    @property
    def name(self) -> str:
        return NETWORK

    @property
    def leg_rules(self) -> LegRules:
        """Alipay's timing for the network leg (:data:`~.config.LEG_RULES`)."""
        return LEG_RULES

    # ------------------------------------------------------------ notifications

    @property
    def notice_reply(self) -> NoticeReply:
        return notices.NOTICE_REPLY

    def notice_claim(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """The trade number an Alipay notification names (unverified)."""
        return notices.claim(body)

    def notice(self, channel: Channel, body: bytes, headers: Mapping[str, str]) -> Notice | None:
        """The notification, if Alipay signed it for ``channel``'s app."""
        return notices.read(channel, body, self.client(channel).verify)

    # ------------------------------------------------------------------ clients

    def client(self, channel: Channel) -> AlipayClient:
        """The channel's client (built and cached on first use); ``NetworkError`` for a
        channel the adapter cannot use."""
        key = (channel.app_id, channel.mch_id, channel.sub_mch_id or "")
        return self._clients.get(
            key,
            channel,
            lambda: AlipayClient(
                keys_of(channel),
                gateway=self.settings.gateway,
                notify_url=self.settings.notify_url,
                http=self._http,
            ),
        )

    def _ask(
        self, client: AlipayClient, method: str, biz: dict[str, Any], seconds: float, what: str
    ) -> Reply | None:
        try:
            return client.call(method, biz, seconds, self.settings.timeouts.connect)
        except NoReply as no:
            log.warning("alipay %s: no answer taken: %s", what, no)
            return None

    # --------------------------------------------------------------------- port

    def pay(self, request: PayRequest) -> PayAnswer:
        channel = request.channel
        _check_trade_no(request.trade_no)
        if request.currency != "CNY":
            raise NetworkError("bad_currency", field="currency")
        client = self.client(channel)
        biz: dict[str, Any] = {
            "out_trade_no": request.trade_no,
            "scene": "bar_code",
            "auth_code": request.auth_code,
            "product_code": "FACE_TO_FACE_PAYMENT",
            "subject": request.description[:256],
            "total_amount": to_yuan(request.amount),
        }
        if channel.mode is ChannelMode.SERVICE_PROVIDER:
            biz["seller_id"] = client.keys.seller_id
        if request.store_id:
            biz["store_id"] = request.store_id[:32]
        t = self.settings.timeouts
        reply = self._ask(client, _PAY, biz, t.pay, f"pay {request.trade_no}")
        answer = PayAnswer.unknown() if reply is None else _pay_answer(reply, request)
        log.info(
            "alipay pay %s code %s %d: %s %s",
            request.trade_no,
            mask_text(request.auth_code),
            request.amount,
            answer.outcome.value,
            answer.network_code or "-",
        )
        return answer

    def query(
        self, channel: Channel, trade_no: str, placed_at: datetime | None = None
    ) -> QueryAnswer:
        _check_trade_no(trade_no)
        client = self.client(channel)
        seconds = self.settings.timeouts.query
        reply = self._ask(client, _QUERY, {"out_trade_no": trade_no}, seconds, f"query {trade_no}")
        answer = (
            QueryAnswer.unknown() if reply is None else answers.query_answer(reply.data, trade_no)
        )
        log.info("alipay query %s: %s", trade_no, answer.state.value)
        return answer

    def reverse(
        self, channel: Channel, trade_no: str, placed_at: datetime | None = None
    ) -> ReverseAnswer:
        _check_trade_no(trade_no)
        client = self.client(channel)
        seconds = self.settings.timeouts.reverse
        reply = self._ask(
            client, _CANCEL, {"out_trade_no": trade_no}, seconds, f"cancel {trade_no}"
        )
        answer = answers.reverse_answer(None if reply is None else reply.data)
        log.info("alipay cancel %s: %s %s", trade_no, answer.outcome.value, answer.network_code)
        return answer

    def refund(self, request: RefundRequest) -> RefundAnswer:
        _check_trade_no(request.trade_no)
        if request.currency != "CNY":
            raise NetworkError("bad_currency", field="currency")
        client = self.client(request.channel)
        self._remember(request.channel, request.refund_no, request.trade_no)
        biz: dict[str, Any] = {
            "out_trade_no": request.trade_no,
            "out_request_no": request.refund_no,
            "refund_amount": to_yuan(request.amount),
        }
        if request.reason:
            biz["refund_reason"] = request.reason[:256]
        seconds = self.settings.timeouts.refund
        reply = self._ask(client, _REFUND, biz, seconds, f"refund {request.refund_no}")
        if reply is None:
            answer: RefundAnswer | None = RefundAnswer(RefundStatus.UNKNOWN, request.refund_no)
        else:
            answer = answers.refund_answer(reply.data, request.refund_no, request.amount)
        if answer is None:
            # fund_change=N: a repeat of a refund made, or one under way: the query says.
            answer = self._refund_query(client, request.refund_no, request.trade_no)
        log.info("alipay refund %s: %s", request.refund_no, answer.status.value)
        return answer

    def refund_query(
        self,
        channel: Channel,
        refund_no: str,
        trade_no: str | None = None,
        placed_at: datetime | None = None,
    ) -> RefundAnswer:
        """A refund's state. Alipay finds a refund by its trade's number and its own:
        ``trade_no`` (beyond the port) or, without it, the number of the refund this
        adapter made; ``bad_trade_no`` when it knows neither."""
        if trade_no is None:
            with self._lock:
                trade_no = self._refunds.get((channel.app_id, refund_no))
            if trade_no is None:
                raise NetworkError("bad_trade_no", field="trade_no")
        _check_trade_no(trade_no)
        return self._refund_query(self.client(channel), refund_no, trade_no)

    def _refund_query(self, client: AlipayClient, refund_no: str, trade_no: str) -> RefundAnswer:
        biz = {"out_trade_no": trade_no, "out_request_no": refund_no}
        seconds = self.settings.timeouts.query
        reply = self._ask(client, _REFUND_QUERY, biz, seconds, f"refund query {refund_no}")
        if reply is None:
            return RefundAnswer(RefundStatus.UNKNOWN, refund_no)
        return answers.refund_query_answer(reply.data, refund_no)

    def _remember(self, channel: Channel, refund_no: str, trade_no: str) -> None:
        with self._lock:
            self._refunds[(channel.app_id, refund_no)] = trade_no
            self._refunds.move_to_end((channel.app_id, refund_no))
            while len(self._refunds) > _REMEMBERED_REFUNDS:
                self._refunds.popitem(last=False)

    def statement(self, channel: Channel, day: date) -> Statement:
        """The day's trade bill (业务明细); ``ready`` false while Alipay has none."""
        client = self.client(channel)
        seconds = self.settings.timeouts.statement
        what = f"statement {day.isoformat()}"
        biz = {"bill_type": "trade", "bill_date": day.isoformat()}
        reply = self._ask(client, _BILL, biz, seconds, what)
        if reply is None:
            return Statement(day, False)
        url = reply.text("bill_download_url")
        if reply.code != SUCCESS or url is None:
            return Statement(day, False, (), reply.sub_code or reply.code)
        # The file is not signed: the signed reply that names it vouches for it.
        try:
            content = client.download(url, seconds, self.settings.timeouts.connect)
            lines = bill.parse_bill(bill.read_zip(content))
        except (NoReply, bill.BillError) as exc:
            log.warning("alipay %s: the bill not taken: %s", what, exc)
            return Statement(day, False)
        return Statement(day, True, tuple(lines))


def _pay_answer(reply: Reply, request: PayRequest) -> PayAnswer:
    answer = pay_answer(reply.code, reply.sub_code, reply.text("trade_no"))
    if answer.outcome in (Outcome.APPROVED, Outcome.USER_PAYING):
        if reply.text("out_trade_no") != request.trade_no:
            log.warning("alipay pay %s: reply for another trade", request.trade_no)
            return PayAnswer.unknown(answer.network_code)
        total = answers.amount_of(reply.data, "total_amount")
        if answer.outcome is Outcome.APPROVED and total != request.amount:
            log.warning("alipay pay %s: paid, not as asked", request.trade_no)
            return PayAnswer.unknown(answer.network_code)
    return answer
