"""Signed server-sent events: how a terminal can trust a stream it cannot hash up front.

Signed replies cover the whole body, and an event stream has no end to hash.
So an event stream is signed in two parts:

1. the reply's headers carry the usual signature over
   the empty body (bound to the request, :mod:`scanpay.protocol.signing`) plus
   ``X-Scanpay-Stream: events``: the host accepted *this* request (the nonce is
   the request's) and is answering with a stream;
2. every event carries its own signature in a ``signature:`` field (which
   ``EventSource`` implementations ignore, as the SSE standard says for unknown
   fields): hex HMAC-SHA256 with the terminal key over ::

       EVENT\\nNONCE\\nID\\nNAME\\nSHA256_HEX(DATA)

   where ``NONCE`` is the request's nonce (an event cannot be replayed into
   another stream), ``ID`` counts 1, 2, 3... (a dropped or reordered event
   shows as a gap) and ``DATA`` is the event's one-line JSON.

Keep-alive comments (``: keep-alive``) carry nothing and need no signature.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from scanpay.protocol.signing import sign, verify

__all__ = [
    "HEADER_STREAM",
    "KEEPALIVE",
    "StreamEvent",
    "encode_event",
    "event_message",
    "parse_events",
    "verify_event",
]

HEADER_STREAM = "X-Scanpay-Stream"
KEEPALIVE = b": keep-alive\n\n"


def event_message(nonce: str, event_id: str, name: str, data: str) -> bytes:
    """The bytes an event's signature covers."""
    digest = hashlib.sha256(data.encode()).hexdigest()
    return "\n".join(("EVENT", nonce, event_id, name, digest)).encode()


def encode_event(key_hex: str, nonce: str, event_id: int, name: str, data: str) -> bytes:
    """One signed event in the ``text/event-stream`` format (``data`` is one line)."""
    if "\n" in data or "\r" in data:
        raise ValueError("event data is one line of JSON")
    signature = sign(key_hex, event_message(nonce, str(event_id), name, data))
    return f"event: {name}\nid: {event_id}\ndata: {data}\nsignature: {signature}\n\n".encode()


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """An event as read from a stream."""

    name: str
    id: str
    data: str
    signature: str


def parse_events(text: str) -> list[StreamEvent]:
    """The events in a stream's text (comments and incomplete events left out)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":") or ":" not in line:
                continue
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        if {"event", "id", "data", "signature"} <= fields.keys():
            events.append(
                StreamEvent(fields["event"], fields["id"], fields["data"], fields["signature"])
            )
    return events


def verify_event(key_hex: str, nonce: str, event: StreamEvent) -> bool:
    """Whether ``event`` was signed by the host for the request with ``nonce``."""
    message = event_message(nonce, event.id, event.name, event.data)
    return verify(key_hex, message, event.signature)
