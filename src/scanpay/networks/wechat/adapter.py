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
import threading
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import TypeVar

import httpx

from scanpay.codes.mask import mask_text
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

_Client = TypeVar("_Client", V2Client, V3Client)
_Key = tuple[str, str, str, bool]


class WeChatPayNetwork:
    """WeChat Pay behind the port, and :class:`~scanpay.networks.port.Notifying` for
    its refund callbacks. ``close()`` when done (it holds connections)."""

    def __init__(self, settings: WeChatSettings | None = None) -> None:
        self.settings = settings or WeChatSettings()
        t = self.settings.timeouts
        # No redirects: a reply comes from the gateway or it is no reply.
        self._http = httpx.Client(
            timeout=httpx.Timeout(t.pay, connect=t.connect), follow_redirects=False
        )
        self._lock = threading.Lock()
        self._clients: dict[_Key, tuple[frozenset[tuple[str, str]], V2Client | V3Client]] = {}
        self._own_http: list[httpx.Client] = []

    @property
    def name(self) -> str:
        return NETWORK

    def close(self) -> None:
        with self._lock:
            self._clients.clear()
            for http in [self._http, *self._own_http]:
                http.close()
            self._own_http.clear()

    def __enter__(self) -> WeChatPayNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ clients

    def _cached(
        self, channel: Channel, api: str, kind: type[_Client], build: Callable[[], _Client]
    ) -> _Client:
        partner = channel.mode is ChannelMode.SERVICE_PROVIDER
        key: _Key = (api, channel.app_id, channel.mch_id, partner)
        secrets = frozenset(channel.secrets.items())
        with self._lock:
            found = self._clients.get(key)
            if found is not None and found[0] == secrets and isinstance(found[1], kind):
                return found[1]
            client = build()
            # A replaced client is left to finish what another thread does with it.
            self._clients[key] = (secrets, client)
            return client

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

        return self._cached(channel, "v3", V3Client, build)

    def _v2(self, channel: Channel) -> V2Client:
        def build() -> V2Client:
            keys = v2_keys(channel, self.settings)
            http = self._http
            if keys.client_cert and keys.client_key:
                try:
                    context = client_context(keys.client_cert, keys.client_key)
                except ssl.SSLError:
                    raise bad_secret("client_cert") from None
                t = self.settings.timeouts
                http = httpx.Client(
                    verify=context,
                    timeout=httpx.Timeout(t.pay, connect=t.connect),
                    follow_redirects=False,
                )
                self._own_http.append(http)
            return V2Client(
                keys,
                appid=channel.app_id,
                mchid=channel.mch_id,
                gateway=self.settings.gateway,
                http=http,
            )

        return self._cached(channel, "v2", V2Client, build)

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
