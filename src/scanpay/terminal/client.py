"""The signed host client (httpx).

Every request carries the four signature headers of :mod:`scanpay.protocol.signing`
plus ``X-Scanpay-Signature-Version: 2`` and ``X-Scanpay-Software-Version``.
Every reply is checked before it is believed: the host's signature with the
terminal's key over the reply *and this request's own signature* (version 2),
the terminal id it names, the request's own nonce echoed back, a timestamp
inside the skew window, and a body that parses as the expected model. The
outcome is one of:

- :class:`Answer` - a verified 2xx with its parsed body;
- :class:`Refusal` - a verified 4xx error body, bound to this very request:
  definite, nothing changed on the host (research-payments.md §8b);
- :class:`NoReply` - a timeout, a reset, a 5xx, an unsigned, badly signed,
  unbound or unreadable reply. Never a "no": the caller queries. A refusal
  that cannot be bound to this request is one of these: anyone on the path can
  get the host to refuse *some* request under this terminal's id and nonce.
  A host whose certificate fails verification (the CA, the pinned fingerprint)
  is one too, with ``sent=False`` and the typed error: the TLS handshake
  failed, so not one byte of the request reached anyone. So is a connection
  the host refused (``host_connection_refused``: no TCP connection, nothing
  written). Any other failure - a reset, a timeout - may follow bytes that
  left, and stays ``sent=True``.

Every connection is verified with the :class:`ssl.SSLContext` of
:mod:`scanpay.terminal.tls` (the terminal's CA file or the system's store, and
the pin), passed as httpx's ``verify=``.

The client never raises for what the network or the host does; only for
programming errors.
"""

from __future__ import annotations

import json
import secrets
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel, ValidationError

from scanpay.protocol.models import (
    ActivationRequest,
    ActivationResponse,
    BatchCloseRequest,
    BatchCloseResponse,
    CodeVerifyRequest,
    CodeVerifyResponse,
    ErrorBody,
    Order,
    OrderRequest,
    Payment,
    PaymentRequest,
    Refund,
    RefundList,
    RefundRequest,
    TerminalStatus,
)
from scanpay.protocol.models import SelfTestReport as SelfTestReportBody
from scanpay.protocol.signing import (
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_SIGNATURE_VERSION,
    HEADER_TERMINAL,
    HEADER_TIMESTAMP,
    MAX_SKEW_SECONDS,
    SIGNATURE_VERSION,
    SignedHeaders,
    response_message,
    verify,
)
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.tls import certificate_error, ssl_context

__all__ = [
    "HEADER_SOFTWARE_VERSION",
    "Acknowledged",
    "Answer",
    "HostClient",
    "NoReply",
    "Refusal",
    "Reply",
    "activate",
]

HEADER_SOFTWARE_VERSION = "X-Scanpay-Software-Version"

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Answer(Generic[M]):
    """A verified 2xx reply."""

    status: int
    body: M
    server_time: int


@dataclass(frozen=True, slots=True)
class Refusal:
    """A verified 4xx error body: the host refused and changed nothing."""

    status: int
    error: ErrorBody


@dataclass(frozen=True, slots=True)
class NoReply:
    """No answer that can be believed: the outcome is unknown - unless ``sent`` is
    False: then the request provably never left (a certificate refused in the
    handshake, a connection refused), and ``error`` says why."""

    reason: str
    status: int | None = None
    sent: bool = True
    error: TerminalError | None = None


Reply = Answer[M] | Refusal | NoReply


def _connection_refused(exc: httpx.TransportError) -> bool:
    """The host refused the TCP connection (ECONNREFUSED): not one byte of the request
    was written. Only a failure to connect is looked into - httpx raises ``ConnectError``
    for the connect phase alone (a write or read failure has its own class), and it never
    retries a request that was written - and the ``OSError`` is found in its chain of
    causes (httpx's, from httpcore's, from the socket's)."""
    if not isinstance(exc, httpx.ConnectError):
        return False
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class HostClient:
    """Signed requests to one host for one terminal.

    ``clock`` (unix seconds) and ``nonce`` are injectable so that tests can skew
    the clock or replay a nonce; ``transport`` is httpx's (tests pass none: they
    talk to a real host over loopback); ``tls`` the TLS context
    (:func:`scanpay.terminal.tls.ssl_context`; default: the system's trust store).
    """

    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        key_hex: str,
        software_version: str,
        *,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
        transport: httpx.BaseTransport | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.terminal_id = terminal_id
        self._key = key_hex
        self.software_version = software_version
        self._clock = clock
        self._nonce = nonce
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            transport=transport,
            # A POS talks to its host and nothing else: no proxies from the environment.
            # The trust store is ours, not certifi's: the CA file, or the system's.
            trust_env=False,
            verify=tls if tls is not None else ssl_context(),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"HostClient({self.base_url!r}, terminal={self.terminal_id!r})"

    # ------------------------------------------------------------ transport

    def request(
        self,
        method: str,
        path: str,
        model: type[M],
        body: BaseModel | None = None,
        *,
        timeout: float | None = None,
    ) -> Answer[M] | Refusal | NoReply:
        """Send one signed request and classify the reply."""
        raw = (
            body.model_dump_json(exclude_none=True, by_alias=True).encode()
            if body is not None
            else b""
        )
        timestamp = int(self._clock())
        nonce = self._nonce()
        headers = SignedHeaders.for_request(
            terminal_id=self.terminal_id,
            key_hex=self._key,
            method=method,
            path=path,
            body=raw,
            timestamp=timestamp,
            nonce=nonce,
        ).as_dict()
        headers[HEADER_SOFTWARE_VERSION] = self.software_version
        headers[HEADER_SIGNATURE_VERSION] = str(SIGNATURE_VERSION)
        if raw:
            headers["Content-Type"] = "application/json"
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = httpx.Timeout(timeout, connect=min(timeout, 3.0))
        if self._http.is_closed:
            # The agent is stopping (a background self-test or worker may still run):
            # nothing was sent, which is what NoReply means to every caller.
            return NoReply("client closed")
        try:
            response = self._http.request(method, path, content=raw, headers=headers, **extra)
        except httpx.TimeoutException as exc:
            return NoReply(f"timeout: {type(exc).__name__}")
        except httpx.TransportError as exc:
            error = certificate_error(exc)
            if error is not None:
                return NoReply(f"certificate: {error.code}", sent=False, error=error)
            if _connection_refused(exc):
                refused = TerminalError("host_connection_refused", host=self.base_url)
                return NoReply("network: connection refused", sent=False, error=refused)
            return NoReply(f"network: {type(exc).__name__}")
        return self._classify(response, model, nonce, headers[HEADER_SIGNATURE])

    def _classify(
        self, response: httpx.Response, model: type[M], nonce: str, request_signature: str
    ) -> Answer[M] | Refusal | NoReply:
        status = response.status_code
        if status >= 500:
            return NoReply(f"host error {status}", status)
        checked = self._verified(response, nonce, request_signature)
        if checked is not None:
            return NoReply(checked, status)
        server_time = int(response.headers[HEADER_TIMESTAMP])
        try:
            # 204 No Content carries no body: an acknowledgement, validated as {}.
            data = json.loads(response.content) if response.content else {}
        except ValueError:
            return NoReply("unreadable body", status)
        if 200 <= status < 300:
            try:
                return Answer(status, model.model_validate(data), server_time)
            except ValidationError:
                return NoReply("unexpected body", status)
        if 400 <= status < 500:
            try:
                return Refusal(status, ErrorBody.model_validate(data))
            except ValidationError:
                return NoReply(f"unreadable error {status}", status)
        return NoReply(f"unexpected status {status}", status)

    def _verified(self, response: httpx.Response, nonce: str, request_signature: str) -> str | None:
        """None when the reply is signed by the host for this request; else why not."""
        h = response.headers
        missing = [n for n in (HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE) if n not in h]
        if missing:
            return "unsigned reply"
        if h.get(HEADER_TERMINAL, self.terminal_id) != self.terminal_id:
            return "reply for another terminal"
        if h[HEADER_NONCE] != nonce:
            # The host echoes the request's nonce: a reply to another request
            # (or an old one replayed) cannot pass for this one's.
            return "reply to another request"
        message = response_message(
            response.status_code,
            h[HEADER_TIMESTAMP],
            h[HEADER_NONCE],
            response.content,
            request_signature,
        )
        if not verify(self._key, message, h[HEADER_SIGNATURE]):
            # Forged, altered, or the host's answer to some other request under our
            # nonce (one that did not authenticate is never signed): not ours.
            return "bad reply signature"
        try:
            skew = abs(int(h[HEADER_TIMESTAMP]) - self._clock())
        except ValueError:
            return "bad reply timestamp"
        if skew > MAX_SKEW_SECONDS:
            # An old reply replayed at us, or a clock far off: either way not believable.
            return "stale reply"
        return None

    # ------------------------------------------------------------------ API

    def pay(self, request: PaymentRequest, *, timeout: float | None = None) -> Reply[Payment]:
        return self.request("POST", "/v1/payments", Payment, request, timeout=timeout)

    def query(self, out_trade_no: str, *, timeout: float | None = None) -> Reply[Payment]:
        path = f"/v1/payments/{quote(out_trade_no, safe='')}"
        return self.request("GET", path, Payment, timeout=timeout)

    def reverse(self, out_trade_no: str, *, timeout: float | None = None) -> Reply[Payment]:
        path = f"/v1/payments/{quote(out_trade_no, safe='')}/reverse"
        return self.request("POST", path, Payment, timeout=timeout)

    def refund(self, request: RefundRequest, *, timeout: float | None = None) -> Reply[Refund]:
        return self.request("POST", "/v1/refunds", Refund, request, timeout=timeout)

    def get_refund(self, out_refund_no: str) -> Reply[Refund]:
        return self.request("GET", f"/v1/refunds/{quote(out_refund_no, safe='')}", Refund)

    def list_refunds(
        self,
        *,
        day: date | None = None,
        currency: str | None = None,
        out_trade_no: str | None = None,
        timeout: float | None = None,
    ) -> Reply[RefundList]:
        """The refunds of this terminal's payments, wherever they were made (the merchant's
        portal included): of one business day, or of one payment."""
        params = {"date": day.isoformat() if day else None, "currency": currency}
        params["out_trade_no"] = out_trade_no
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return self.request("GET", f"/v1/refunds?{query}", RefundList, timeout=timeout)

    def status(self, *, timeout: float | None = None) -> Reply[TerminalStatus]:
        return self.request("GET", "/v1/terminals/self", TerminalStatus, timeout=timeout)

    def report_self_test(self, report: SelfTestReportBody) -> Reply[Acknowledged]:
        """Tell the host the latest self-test, for the merchant's portal."""
        return self.request("POST", "/v1/terminals/self/report", Acknowledged, report)

    def verify_code(self, payload: str) -> Reply[CodeVerifyResponse]:
        return self.request(
            "POST", "/v1/codes/verify", CodeVerifyResponse, CodeVerifyRequest(payload=payload)
        )

    def create_order(self, request: OrderRequest) -> Reply[Order]:
        return self.request("POST", "/v1/orders", Order, request)

    def get_order(self, out_trade_no: str, wait: int = 0) -> Reply[Order]:
        path = f"/v1/orders/{quote(out_trade_no, safe='')}"
        if wait:
            path += f"?wait={wait}"
        return self.request("GET", path, Order, timeout=wait + 10.0 if wait else None)

    def close_order(self, out_trade_no: str) -> Reply[Order]:
        return self.request("POST", f"/v1/orders/{quote(out_trade_no, safe='')}/close", Order)

    def close_batch(self, request: BatchCloseRequest) -> Reply[BatchCloseResponse]:
        return self.request("POST", "/v1/batches/close", BatchCloseResponse, request)


def activate(
    base_url: str,
    activation_code: str,
    software_version: str,
    *,
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
    tls: ssl.SSLContext | None = None,
) -> ActivationResponse:
    """Exchange a one-time activation code for the terminal's identity and key.

    Raises :class:`TerminalError`: ``host_untrusted`` or ``host_pin_mismatch`` when the
    host's certificate fails ``tls`` (nothing was sent), else ``activation_failed``
    with the host's reason.
    """
    body = ActivationRequest(activation_code=activation_code, software_version=software_version)
    raw = body.model_dump_json().encode()
    try:
        with httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            trust_env=False,
            verify=tls if tls is not None else ssl_context(),
        ) as http:
            response = http.post(
                "/v1/terminals/activate",
                content=raw,
                headers={
                    "Content-Type": "application/json",
                    HEADER_SOFTWARE_VERSION: software_version,
                    HEADER_SIGNATURE_VERSION: str(SIGNATURE_VERSION),
                },
            )
    except httpx.HTTPError as exc:
        error = certificate_error(exc)
        if error is not None:
            raise error from exc
        raise TerminalError("activation_failed", reason=f"{type(exc).__name__}") from exc
    try:
        data = response.json()
    except ValueError:
        raise TerminalError(
            "activation_failed", reason=f"HTTP {response.status_code}, unreadable"
        ) from None
    if response.status_code != 200:
        try:
            error = ErrorBody.model_validate(data)
            reason = f"{error.code} {error.message.en}"
        except ValidationError:
            reason = f"HTTP {response.status_code}"
        raise TerminalError("activation_failed", reason=reason)
    try:
        answer = ActivationResponse.model_validate(data)
    except ValidationError as exc:
        raise TerminalError("activation_failed", reason="unexpected body") from exc
    # A signed activation reply is signed with the key it delivers; checking it
    # catches a corrupted key before it is stored (TLS, not this, stops a man in
    # the middle).
    h = response.headers
    if HEADER_SIGNATURE in h and HEADER_TIMESTAMP in h and HEADER_NONCE in h:
        # The activation request is not signed: the reply is bound to an empty signature.
        message = response_message(200, h[HEADER_TIMESTAMP], h[HEADER_NONCE], response.content, "")
        if not verify(answer.key, message, h[HEADER_SIGNATURE]):
            raise TerminalError("activation_failed", reason="bad reply signature")
    return answer


class Acknowledged(BaseModel):
    """An empty acknowledgement (HTTP 204)."""
