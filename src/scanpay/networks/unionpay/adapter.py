"""The UnionPay adapter: the :class:`~scanpay.networks.port.Network` port over ACP 5.1.0
(C2B code pay: the customer shows a UnionPay QR code, ``qrNo``, and we charge it).

ACP finds a transaction by ``orderId`` *and* ``txnTime`` (when the merchant sent
it), and cancels or refunds it by UnionPay's ``queryId``; the port names a trade by
its number only. So the adapter remembers (:mod:`.memory`), per trade, the ``txnTime`` it
sent, the amount, and the ``queryId`` once a reply names it (and per refund its
``txnTime``); and a trade number (or refund number) that *begins* with a Beijing time
``yyyyMMddHHmmss`` carries its ``txnTime``: the pay call sends exactly that, so any
process can query it later. A query the adapter cannot date raises ``bad_trade_no``
(``bad_refund_no``), like Alipay's refund query without its trade: nothing is sent.

``orderId`` is 8–40 letters or digits: a trade or refund number outside that is
refused before anything is sent. A cancel gets an order id of its own, the trade's
number with ``C`` and the time (``HHMMSS``), new on each try.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date, datetime

from scanpay.codes.mask import mask_text
from scanpay.networks.clients import ClientCache, HoldsClients
from scanpay.networks.errors import NetworkError
from scanpay.networks.leg import LegRules
from scanpay.networks.port import (
    Channel,
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
    ReverseOutcome,
    Statement,
    TradeState,
)
from scanpay.networks.unionpay import answers, bill, notices
from scanpay.networks.unionpay.answers import amount_of, text_of
from scanpay.networks.unionpay.client import NoReply, UnionPayClient
from scanpay.networks.unionpay.codes import SUCCESS, code_rule, pay_answer
from scanpay.networks.unionpay.config import (
    BEIJING,
    LEG_RULES,
    NETWORK,
    UnionPaySettings,
    keys_of,
)
from scanpay.networks.unionpay.memory import Book, Order, now_txn_time
from scanpay.networks.unionpay.money import to_txn_amt

__all__ = ["BACK_PATH", "FILE_PATH", "QUERY_PATH", "UnionPayNetwork"]

log = logging.getLogger("scanpay.networks.unionpay")

BACK_PATH = "/gateway/api/backTransReq.do"
QUERY_PATH = "/gateway/api/queryTrans.do"
FILE_PATH = "/gateway/api/fileTransReq.do"
_ORDER_ID = re.compile(r"[0-9A-Za-z]{8,40}")
_QR_NO = re.compile(r"62[0-9]{17}")
_REMEMBERED = 10_000
_COMMON = {
    "version": "5.1.0",
    "encoding": "UTF-8",
    "signMethod": "01",
    "bizType": "000000",
    "accessType": "0",
}


def _order_id(number: str, field: str) -> str:
    if not _ORDER_ID.fullmatch(number):
        raise NetworkError("bad_trade_no" if field == "trade_no" else "bad_refund_no", field=field)
    return number


class UnionPayNetwork(HoldsClients):
    """UnionPay behind the port. ``close()`` when done (it holds connections)."""

    def __init__(self, settings: UnionPaySettings) -> None:
        self.settings = settings
        super().__init__(settings.timeouts)
        self._clients: ClientCache[UnionPayClient] = self._cache()
        self._trades = Book("trade_no")
        self._refunds = Book("refund_no")

    @property
    def name(self) -> str:
        return NETWORK

    @property
    def leg_rules(self) -> LegRules:
        """UnionPay's timing for the network leg (:data:`~.config.LEG_RULES`)."""
        return LEG_RULES

    def client(self, channel: Channel) -> UnionPayClient:
        """The channel's client (built and cached on first use); ``NetworkError`` for a
        channel the adapter cannot use."""
        return self._clients.get(
            channel.mch_id,
            channel,
            lambda: UnionPayClient(
                keys_of(channel), expected_cn=self.settings.expected_cn, http=self._http
            ),
        )

    # ------------------------------------------------------------ notifications

    @property
    def notice_reply(self) -> NoticeReply:
        """UnionPay takes HTTP 200 (any body) as received."""
        return notices.NOTICE_REPLY

    def notice_claim(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """The trade number a ``backUrl`` notification names (unverified; see
        :mod:`.notices`)."""
        return notices.claim(body, self._trades.query_ids)

    def notice(self, channel: Channel, body: bytes, headers: Mapping[str, str]) -> Notice | None:
        """The notification, if UnionPay's certificate (under ``channel``'s root and
        intermediate, naming ``expected_cn``) signed it about ``channel``'s merchant."""
        keys = self.client(channel).keys
        return notices.read(
            channel,
            body,
            self._trades.query_ids,
            root=keys.root,
            middle=keys.middle,
            expected_cn=self.settings.expected_cn,
        )

    # --------------------------------------------------------------- transport

    def _ask(
        self, client: UnionPayClient, path: str, fields: dict[str, str], seconds: float, what: str
    ) -> dict[str, str] | None:
        try:
            return client.call(
                self.settings.url(path),
                {**_COMMON, "merId": client.keys.mer_id, **fields},
                seconds,
                self.settings.timeouts.connect,
            )
        except NoReply as no:
            log.warning("unionpay %s: no answer taken: %s", what, no)
            return None

    # -------------------------------------------------------------------- port

    def pay(self, request: PayRequest) -> PayAnswer:
        order_id = _order_id(request.trade_no, "trade_no")
        if request.currency != "CNY":
            raise NetworkError("bad_currency", field="currency")
        if not _QR_NO.fullmatch(request.auth_code):
            raise NetworkError("bad_auth_code", field="auth_code")
        client = self.client(request.channel)
        mer_id = client.keys.mer_id
        # A retry of the same trade is the same order: the same txnTime.
        txn_time = self._trades.sending(mer_id, order_id, request.amount, request.placed_at)
        fields = {
            "txnType": "01",
            "txnSubType": "06",
            "channelType": "08",
            "orderId": order_id,
            "txnTime": txn_time,
            "txnAmt": to_txn_amt(request.amount),
            "currencyCode": "156",
            "backUrl": self.settings.back_url,
            "qrNo": request.auth_code,
        }
        t = self.settings.timeouts
        reply = self._ask(client, BACK_PATH, fields, t.pay, f"pay {order_id}")
        answer = PayAnswer.unknown() if reply is None else _pay_answer(reply, request)
        if reply is not None and text_of(reply, "orderId") == order_id:
            self._trades.learn(mer_id, order_id, txn_time, text_of(reply, "queryId"), None)
        log.info(
            "unionpay pay %s code %s %d: %s %s",
            order_id,
            mask_text(request.auth_code),
            request.amount,
            answer.outcome.value,
            answer.network_code or "-",
        )
        return answer

    def query(
        self, channel: Channel, trade_no: str, placed_at: datetime | None = None
    ) -> QueryAnswer:
        """The trade's state; ``bad_trade_no`` when its ``txnTime`` is not known (see
        the module's text)."""
        order_id = _order_id(trade_no, "trade_no")
        client = self.client(channel)
        answer = self._query(client, order_id, placed_at)
        log.info("unionpay query %s: %s", order_id, answer.state.value)
        return answer

    def _query(
        self, client: UnionPayClient, order_id: str, placed_at: datetime | None
    ) -> QueryAnswer:
        mer_id = client.keys.mer_id
        txn_time = self._trades.txn_time(mer_id, order_id, placed_at)
        fields = {"txnType": "00", "txnSubType": "00", "orderId": order_id, "txnTime": txn_time}
        seconds = self.settings.timeouts.query
        reply = self._ask(client, QUERY_PATH, fields, seconds, f"query {order_id}")
        if reply is None:
            return QueryAnswer.unknown()
        answer = answers.query_answer(reply, order_id)
        if answer.transaction_id:
            self._trades.learn(mer_id, order_id, txn_time, answer.transaction_id, answer.amount)
        return answer

    def _original(
        self, client: UnionPayClient, order_id: str, placed_at: datetime | None
    ) -> tuple[Order | None, QueryAnswer | None]:
        """The consume's queryId and amount: remembered, or asked for."""
        known = self._trades.get(client.keys.mer_id, order_id)
        if known is not None and known.query_id and known.amount:
            return known, None
        answer = self._query(client, order_id, placed_at)
        return self._trades.get(client.keys.mer_id, order_id), answer

    def reverse(
        self, channel: Channel, trade_no: str, placed_at: datetime | None = None
    ) -> ReverseAnswer:
        """Cancel the consume (``txnType=31``). Without its queryId the adapter queries
        first: no such order, or a consume that failed, is DONE (nothing is held)."""
        order_id = _order_id(trade_no, "trade_no")
        client = self.client(channel)
        trade, asked = self._original(client, order_id, placed_at)
        if asked is not None and asked.state in (
            TradeState.NOT_FOUND,
            TradeState.PAY_ERROR,
            TradeState.CLOSED,
        ):
            answer = ReverseAnswer(ReverseOutcome.DONE, asked.network_code, asked.message)
        elif trade is None or not trade.query_id or not trade.amount:
            answer = answers.reverse_answer(None)
        else:
            fields = {
                "txnType": "31",
                "txnSubType": "00",
                "channelType": "08",
                "orderId": f"{order_id}C{datetime.now(BEIJING):%H%M%S}",
                "origQryId": trade.query_id,
                "txnTime": now_txn_time(),
                "txnAmt": to_txn_amt(trade.amount),
                "currencyCode": "156",
                "backUrl": self.settings.back_url,
            }
            seconds = self.settings.timeouts.reverse
            reply = self._ask(client, BACK_PATH, fields, seconds, f"cancel {order_id}")
            answer = answers.reverse_answer(reply)
        log.info("unionpay cancel %s: %s %s", order_id, answer.outcome.value, answer.network_code)
        return answer

    def refund(self, request: RefundRequest) -> RefundAnswer:
        order_id = _order_id(request.trade_no, "trade_no")
        refund_id = _order_id(request.refund_no, "refund_no")
        if request.currency != "CNY":
            raise NetworkError("bad_currency", field="currency")
        client = self.client(request.channel)
        trade, asked = self._original(client, order_id, request.trade_placed_at)
        if trade is None or not trade.query_id:
            if asked is not None and asked.state is TradeState.NOT_FOUND:
                text = code_rule("34").message
                return RefundAnswer(RefundStatus.FAILED, refund_id, "34", message=text)
            return RefundAnswer(RefundStatus.UNKNOWN, refund_id)
        txn_time = self._refunds.sending(
            client.keys.mer_id, refund_id, request.amount, request.placed_at
        )
        fields = {
            "txnType": "04",
            "txnSubType": "00",
            "channelType": "08",
            "orderId": refund_id,
            "origQryId": trade.query_id,
            "txnTime": txn_time,
            "txnAmt": to_txn_amt(request.amount),
            "currencyCode": "156",
            "backUrl": self.settings.back_url,
        }
        seconds = self.settings.timeouts.refund
        reply = self._ask(client, BACK_PATH, fields, seconds, f"refund {refund_id}")
        if reply is None:
            answer: RefundAnswer | None = RefundAnswer(RefundStatus.UNKNOWN, refund_id)
        else:
            answer = answers.refund_answer(reply, refund_id, request.amount)
        if answer is None:
            answer = self._refund_query(client, refund_id, request.placed_at)
        log.info("unionpay refund %s: %s", refund_id, answer.status.value)
        return answer

    def refund_query(
        self,
        channel: Channel,
        refund_no: str,
        trade_no: str | None = None,
        placed_at: datetime | None = None,
    ) -> RefundAnswer:
        """The refund's state: the query of the refund's own order (``trade_no`` is not
        needed); ``bad_refund_no`` when its ``txnTime`` is not known."""
        refund_id = _order_id(refund_no, "refund_no")
        return self._refund_query(self.client(channel), refund_id, placed_at)

    def _refund_query(
        self, client: UnionPayClient, refund_id: str, placed_at: datetime | None
    ) -> RefundAnswer:
        txn_time = self._refunds.txn_time(client.keys.mer_id, refund_id, placed_at)
        fields = {"txnType": "00", "txnSubType": "00", "orderId": refund_id, "txnTime": txn_time}
        seconds = self.settings.timeouts.query
        reply = self._ask(client, QUERY_PATH, fields, seconds, f"refund query {refund_id}")
        if reply is None:
            return RefundAnswer(RefundStatus.UNKNOWN, refund_id)
        return answers.refund_query_answer(reply, refund_id)

    def statement(self, channel: Channel, day: date) -> Statement:
        """The day's settlement file (``fileType=00``); ``ready`` false while UnionPay
        has none (98: no such file) or gives no answer."""
        client = self.client(channel)
        fields = {
            "txnType": "76",
            "txnSubType": "01",
            "settleDate": f"{day:%m%d}",
            "txnTime": now_txn_time(),
            "fileType": "00",
        }
        what = f"statement {day.isoformat()}"
        reply = self._ask(client, FILE_PATH, fields, self.settings.timeouts.statement, what)
        if reply is None:
            return Statement(day, False)
        code, content = text_of(reply, "respCode"), text_of(reply, "fileContent")
        if code != SUCCESS or content is None:
            return Statement(day, False, (), code)
        known = self._trades.query_ids(client.keys.mer_id)
        try:
            lines = bill.parse_zm(bill.decode_file(content), day, known)
        except bill.BillError as exc:
            log.warning("unionpay %s: the file not taken: %s", what, exc)
            return Statement(day, False, (), code)
        return Statement(day, True, tuple(lines), code)


def _pay_answer(reply: dict[str, str], request: PayRequest) -> PayAnswer:
    answer = pay_answer(
        text_of(reply, "respCode"), text_of(reply, "origRespCode"), text_of(reply, "queryId")
    )
    if answer.outcome is Outcome.APPROVED and (
        text_of(reply, "orderId") != request.trade_no or amount_of(reply) != request.amount
    ):
        log.warning("unionpay pay %s: approved, not as asked", request.trade_no)
        return PayAnswer.unknown(answer.network_code)
    return answer
