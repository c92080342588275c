"""The WeChat Pay adapter: the :class:`~scanpay.networks.port.Network` port over API v3
(``wechatpayv3``) or API v2 (XML by hand), chosen per channel.

One client per set of credentials, built on first use and cached (thread-safe):
the channels of a service provider's sub-merchants share their account's client,
and a channel whose secrets changed (a rotated key) gets a new one. Building a
client sends nothing (keys are loaded and checked), so a channel the adapter
cannot use raises :class:`~scanpay.networks.errors.NetworkError` before any call
leaves; after that, no call raises for network trouble: it answers UNKNOWN.

Nothing is logged of a payment code but its mask, nor of a key anything at all.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from datetime import date, datetime

from scanpay.codes.mask import mask_text
from scanpay.networks.clients import ClientCache, HoldsClients
from scanpay.networks.errors import NetworkError
from scanpay.networks.port import (
    Channel,
    ChannelMode,
    Notice,
    NoticeReply,
    PayAnswer,
    PayRequest,
    QueryAnswer,
    RefundAnswer,
    RefundRequest,
    ReverseAnswer,
    Statement,
)
from scanpay.networks.wechat import notices, v2, v3
from scanpay.networks.wechat.config import (
    API_V3,
    NETWORK,
    WeChatSettings,
    api_of,
    bad_secret,
    v2_keys,
    v3_keys,
)
from scanpay.networks.wechat.v2wire import V2Client, client_context
from scanpay.networks.wechat.v3client import V3Client

__all__ = ["WeChatPayNetwork"]

log = logging.getLogger("scanpay.networks.wechat")


class WeChatPayNetwork(HoldsClients):
    """WeChat Pay behind the port, and :class:`~scanpay.networks.port.Notifying` for
    its refund callbacks. ``close()`` when done (it holds connections)."""

    def __init__(self, settings: WeChatSettings | None = None) -> None:
        self.settings = settings or WeChatSettings()
        super().__init__(self.settings.timeouts)
        self._v3_clients: ClientCache[V3Client] = self._cache()
        self._v2_clients: ClientCache[V2Client] = self._cache()

    @property
    def name(self) -> str:
        return NETWORK

    # ------------------------------------------------------------------ clients

    @staticmethod
    def _key(channel: Channel) -> tuple[str, str, bool]:
        return (channel.app_id, channel.mch_id, channel.mode is ChannelMode.SERVICE_PROVIDER)

    def _v3(self, channel: Channel) -> V3Client:
        def build() -> V3Client:
            return V3Client(
                v3_keys(channel),
                appid=channel.app_id,
                mchid=channel.mch_id,
                partner=channel.mode is ChannelMode.SERVICE_PROVIDER,
                gateway=self.settings.gateway,
                http=self._http,
            )

        return self._v3_clients.get(self._key(channel), channel, build)

    def _v2(self, channel: Channel) -> V2Client:
        def build() -> V2Client:
            keys = v2_keys(channel, self.settings)
            http = self._http
            if keys.client_cert and keys.client_key:
                try:
                    context = client_context(keys.client_cert, keys.client_key)
                except ssl.SSLError:
                    raise bad_secret("client_cert") from None
                http = self._own_http(context)
            return V2Client(
                keys,
                appid=channel.app_id,
                mchid=channel.mch_id,
                gateway=self.settings.gateway,
                http=http,
            )

        return self._v2_clients.get(self._key(channel), channel, build)

    # --------------------------------------------------------------------- port

    def pay(self, request: PayRequest) -> PayAnswer:
        channel = request.channel
        if api_of(channel) == API_V3:
            answer = v3.pay(self._v3(channel), request, self.settings)
        else:
            answer = v2.pay(self._v2(channel), request, self.settings)
        log.info(
            "wechat pay %s code %s %d: %s %s",
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
        if api_of(channel) == API_V3:
            answer = v3.query(self._v3(channel), channel, trade_no, self.settings)
        else:
            answer = v2.query(self._v2(channel), channel, trade_no, self.settings)
        log.info("wechat query %s: %s", trade_no, answer.state.value)
        return answer

    def reverse(
        self, channel: Channel, trade_no: str, placed_at: datetime | None = None
    ) -> ReverseAnswer:
        if api_of(channel) == API_V3:
            answer = v3.reverse(self._v3(channel), channel, trade_no, self.settings)
        else:
            answer = v2.reverse(self._v2(channel), channel, trade_no, self.settings)
        log.info("wechat reverse %s: %s %s", trade_no, answer.outcome.value, answer.network_code)
        return answer

    def refund(self, request: RefundRequest) -> RefundAnswer:
        channel = request.channel
        if api_of(channel) == API_V3:
            answer = v3.refund(self._v3(channel), request, self.settings)
        else:
            answer = v2.refund(self._v2(channel), request, self.settings)
        log.info("wechat refund %s: %s", request.refund_no, answer.status.value)
        return answer

    def refund_query(
        self,
        channel: Channel,
        refund_no: str,
        trade_no: str | None = None,
        placed_at: datetime | None = None,
    ) -> RefundAnswer:
        # WeChat Pay finds trades and refunds by their numbers alone: no dates needed.
        if api_of(channel) == API_V3:
            return v3.refund_query(self._v3(channel), channel, refund_no, self.settings)
        return v2.refund_query(self._v2(channel), channel, refund_no, self.settings)

    def statement(self, channel: Channel, day: date) -> Statement:
        """The day's trade bill, through API v3 for every channel: v2's ``downloadbill``
        is unsigned, so a v2 channel needs its v3 secrets for statements."""
        api_of(channel)  # the channel is WeChat Pay's
        return v3.statement(self._v3(channel), channel, day, self.settings)

    # ---------------------------------------------------------------- callbacks

    @property
    def notice_reply(self) -> NoticeReply:
        return notices.NOTICE_REPLY

    def notice_claim(self, body: bytes, headers: Mapping[str, str]) -> str | None:
        """None always: the host finds the channel by the callback URL's merchant id."""
        return notices.claim(body, headers)

    def notice(self, channel: Channel, body: bytes, headers: Mapping[str, str]) -> Notice | None:
        """A callback checked and opened with ``channel``'s API v3 keys (a channel
        without them never asked for one: None)."""
        try:
            client = self._v3(channel)
        except NetworkError:
            return None
        t = self.settings.timeouts
        return notices.read(
            channel, body, headers, lambda h, b: client.callback(h, b, t.query, t.connect)
        )
