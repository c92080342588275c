"""API v3 through ``wechatpayv3`` (2.0.4, pinned), wrapped thinly where it fails us.

What we use of the package: its request builders (``pay`` with
``pay_type=CODEPAY``, ``query``, ``codepay_reverse``, ``refund``,
``query_refund``, ``trade_bill``, ``download_bill``: paths, the direct and the
partner forms), its request signing (``build_authorization``) and its reply
verification (``Core._verify_signature``: the WeChat Pay public key, or the
platform certificates it fetches and opens with the APIv3 key).

What we replace, and why (one subclass of its ``Core``, one of ``WeChatPay``):

- **The transport** (``Core.request``). Its ``requests`` calls raise on a lost
  connection; its timeout is one per client, not per call; and it verifies only
  2xx replies and returns no headers, so a 4xx decline could be neither checked
  nor refused. Ours sends the same signed bytes over a shared ``httpx.Client``
  with the call's own timeout, verifies *every* reply it hands back (errors
  too: WeChat signs them), and turns a timeout, a reset or an unverifiable
  reply into :class:`NoReply`, which the adapter answers as UNKNOWN.
- **Fetching certificates from the constructor** (``Core._init_certificates``):
  it calls the real gateway before ours can be set, and raises when it cannot.
  Ours fetches lazily, on the first reply whose serial it does not know (the
  package's own ``_verify_signature`` does that), from the configured gateway.
- **The client's constructor** (``WeChatPay.__init__``) builds that ``Core``
  itself, so ours sets the few attributes the builders read.

Both verification modes work unchanged: with a public key the package checks
replies whose serial is its ``PUB_KEY_ID_…``, and any other serial against the
platform certificates (so a merchant moving between the two keeps working). The
same check, then its ``decrypt_callback`` (AEAD_AES_256_GCM under the APIv3 key),
reads callbacks (:meth:`V3Client.callback`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx
from wechatpayv3 import WeChatPay, WeChatPayType  # type: ignore[import-untyped]
from wechatpayv3.core import Core  # type: ignore[import-untyped]
from wechatpayv3.type import RequestType  # type: ignore[import-untyped]
from wechatpayv3.utils import build_authorization, load_certificate  # type: ignore[import-untyped]

import scanpay
from scanpay.networks.wechat.config import V3Keys

__all__ = ["CODEPAY", "NoReply", "V3Client", "V3Reply"]

CODEPAY = WeChatPayType.CODEPAY
_USER_AGENT = f"scanpay/{getattr(scanpay, '__version__', '0')} (wechatpayv3 2.0.4)"
# The timeout of the call under way in this thread (the client is shared by threads).
_TIMEOUT: ContextVar[httpx.Timeout | None] = ContextVar("wechat_v3_timeout", default=None)
# What the package reads of a callback's headers, spelled as it looks them up first.
_CALLBACK_HEADERS = (
    "Wechatpay-Signature",
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Serial",
    "Wechatpay-Signature-Type",
)


class NoReply(Exception):
    """No reply we may believe: ``why`` says what (a timeout, a reset, a bad signature)."""

    def __init__(self, why: str, status: int | None = None) -> None:
        super().__init__(why if status is None else f"{why} (HTTP {status})")
        self.why = why
        self.status = status


@dataclass(frozen=True, slots=True)
class V3Reply:
    """A verified reply: its HTTP status and JSON object (None: no JSON), or raw bytes."""

    status: int
    data: dict[str, Any] | None
    raw: bytes = b""

    @property
    def code(self) -> str | None:
        """The error reply's ``code`` (``NOTENOUGH``, ``SYSTEM_ERROR``...)."""
        value = (self.data or {}).get("code")
        return value if isinstance(value, str) and value else None


class _Core(Core):  # type: ignore[misc]
    def __init__(self, keys: V3Keys, mchid: str, gateway: str, http: httpx.Client) -> None:
        self._lock = threading.RLock()
        self._seed = keys.platform_certificate
        self._http = http
        super().__init__(
            mchid=mchid,
            cert_serial_no=keys.cert_serial,
            private_key=keys.private_key,
            apiv3_key=keys.api_v3_key,
            public_key=keys.public_key,
            public_key_id=keys.public_key_id,
        )
        self._gate_way = gateway

    def _init_certificates(self) -> None:
        # Called by Core.__init__ in certificate mode: no network call from here.
        if self._seed:
            certificate = load_certificate(self._seed)
            if certificate is not None:
                self._certificates.append(certificate)

    def _update_certificates(self) -> None:
        # The package empties the list before it fetches: keep what we had if that fails.
        with self._lock:
            kept = list(self._certificates)
            try:
                super()._update_certificates()
            finally:
                if not self._certificates:
                    self._certificates.extend(kept)

    def _verify_signature(self, headers: Any, body: str) -> bool:
        with self._lock:
            return bool(super()._verify_signature(headers, body))

    def request(
        self,
        path: str,
        method: Any = RequestType.GET,
        data: Any = None,
        skip_verify: bool = False,
        sign_data: Any = None,
        files: Any = None,
        cipher_data: bool = False,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str | bytes]:
        if files or cipher_data or sign_data:
            raise NotImplementedError("not used by the calls the adapter makes")
        # Exactly the text the package signs (json.dumps, its defaults), sent as signed.
        body = json.dumps(data) if data else ""
        sent = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": _USER_AGENT,
            "Authorization": build_authorization(
                path,
                method.value,
                self._mchid,
                self._cert_serial_no,
                self._private_key,
                data=body or None,
            ),
            **(headers or {}),
        }
        if self._public_key_id:
            sent["Wechatpay-Serial"] = self._public_key_id
        try:
            response = self._http.request(
                method.value,
                self._gate_way + path,
                content=body.encode() if body else None,
                headers=sent,
                timeout=_TIMEOUT.get() or httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException:
            raise NoReply("timeout") from None
        except httpx.HTTPError as exc:  # refused, reset, closed without a reply...
            raise NoReply(type(exc).__name__) from None
        if not skip_verify and not self._verified(response):
            raise NoReply("reply not verified", response.status_code)
        if "application/json" in response.headers.get("content-type", ""):
            return response.status_code, response.text
        return response.status_code, response.content

    def _verified(self, response: httpx.Response) -> bool:
        try:
            return self._verify_signature(response.headers, response.text)
        except NoReply:
            raise  # fetching the certificates got no answer
        except Exception:
            # The package raises bare Exception for a signature type it does not know;
            # int() of a serial that is not hex (a public key's id) raises ValueError.
            return False


class _Api(WeChatPay):  # type: ignore[misc]
    def __init__(self, core: _Core, appid: str, mchid: str, partner: bool) -> None:
        # Not WeChatPay.__init__: it builds its own Core. These are what its builders read.
        self._type = CODEPAY
        self._mchid = mchid
        self._appid = appid
        self._notify_url = None
        self._core = core
        self._partner_mode = partner


class V3Client:
    """One channel's API v3 client (its credentials), shared by threads."""

    def __init__(
        self,
        keys: V3Keys,
        *,
        appid: str,
        mchid: str,
        partner: bool,
        gateway: str,
        http: httpx.Client,
    ) -> None:
        self.gateway = gateway
        self.partner = partner
        self.api: Any = _Api(_Core(keys, mchid, gateway, http), appid, mchid, partner)

    @contextmanager
    def _timeout(self, seconds: float, connect: float) -> Iterator[None]:
        token = _TIMEOUT.set(httpx.Timeout(seconds, connect=min(connect, seconds)))
        try:
            yield
        finally:
            _TIMEOUT.reset(token)

    def call(self, seconds: float, connect: float, make: Callable[[Any], Any]) -> V3Reply:
        """``make(api)`` (one of the package's builders) within ``seconds``: its verified
        reply, or :class:`NoReply`."""
        with self._timeout(seconds, connect):
            try:
                status, body = make(self.api)
            except NoReply:
                raise
            except Exception as exc:  # the package raises bare Exception for bad arguments
                raise NoReply(f"client: {type(exc).__name__}") from None
        if isinstance(body, bytes):
            return V3Reply(status, None, body)
        if not body:
            return V3Reply(status, None)
        try:
            data = json.loads(body)
        except ValueError:
            raise NoReply("reply not JSON", status) from None
        if not isinstance(data, dict):
            raise NoReply("reply not a JSON object", status)
        return V3Reply(status, data, body.encode())

    def callback(
        self, headers: Mapping[str, str], body: bytes, seconds: float, connect: float
    ) -> dict[str, Any] | None:
        """A callback signed by the network (the platform certificates fetched within
        ``seconds`` if it names a serial not known yet) and opened with the APIv3 key:
        its JSON, ``resource`` decrypted into an object. None when it does not verify,
        does not open (tampered, another merchant's key) or is not a callback."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        lowered = {k.lower(): v for k, v in headers.items()}
        named = {h: lowered[h.lower()] for h in _CALLBACK_HEADERS if h.lower() in lowered}
        with self._timeout(seconds, connect):
            try:
                read = self.api.callback(named, text)
            except Exception:
                # NoReply fetching certificates; the package's bare Exception for an
                # algorithm it does not know; a serial that is not hex; a resource that
                # opened to something not JSON.
                return None
        if not isinstance(read, dict) or not isinstance(read.get("resource"), dict):
            return None
        return read
