"""ACP's transport: a signed form POSTed with ``httpx``, the reply read and verified.

Every failure to get a believable reply is :class:`NoReply` (a timeout, a reset, a
non-200, a reply that is not ``k=v``, unsigned, or fails :func:`.acp.verify_fields`),
which the adapter answers UNKNOWN. The whole call is held to its own deadline as it
reads (a reply trickled byte by byte would outlast httpx's per-read timeouts).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

import scanpay
from scanpay.networks.transport import NoReply, send_within
from scanpay.networks.unionpay.acp import Untrusted, parse_reply, sign_fields, verify_fields
from scanpay.networks.unionpay.config import UnionPayKeys

__all__ = ["NoReply", "UnionPayClient"]

_USER_AGENT = f"scanpay/{getattr(scanpay, '__version__', '0')} (acp 5.1.0)"
_FORM = "application/x-www-form-urlencoded;charset=UTF-8"
_MAX_REPLY = 64 << 20  # a statement's file comes inside the reply


class UnionPayClient:
    """One channel's keys and the shared connection pool; safe to share by threads."""

    def __init__(self, keys: UnionPayKeys, *, expected_cn: str, http: httpx.Client) -> None:
        self.keys = keys
        self.expected_cn = expected_cn
        self._http = http

    def signed(self, fields: Mapping[str, str]) -> dict[str, str]:
        """The request as sent: blank fields dropped, ``certId`` set, signed."""
        kept = {k: v.strip() for k, v in fields.items() if v and v.strip()}
        kept["certId"] = self.keys.cert_id
        return sign_fields(kept, self.keys.sign_key)

    def call(
        self, url: str, fields: Mapping[str, str], seconds: float, connect: float
    ) -> dict[str, str]:
        """POST ``fields`` signed to ``url`` within ``seconds``: the verified reply's
        fields, or :class:`NoReply`."""
        form = self.signed(fields)
        headers = {"Content-Type": _FORM, "User-Agent": _USER_AGENT}
        status, body = send_within(
            self._http,
            "POST",
            url,
            seconds=seconds,
            connect=connect,
            limit=_MAX_REPLY,
            data=form,
            headers=headers,
        )
        if status != 200:
            raise NoReply(f"HTTP {status}")
        try:
            reply = parse_reply(body.decode("utf-8"))
        except ValueError:
            raise NoReply("reply not k=v") from None
        try:
            verify_fields(
                reply,
                root=self.keys.root,
                middle=self.keys.middle,
                expected_cn=self.expected_cn,
            )
        except Untrusted as exc:
            raise NoReply(f"reply not believed: {exc}") from None
        return reply
