"""The demo merchant's channel to a simulator's demo merchant, made idempotently.

Each simulator entry (:mod:`scanpay.stack.sims`) says what the channel is - the
network, its ids and secrets, read from the simulator's ``demo.json`` -
:func:`connect_demo_channel` makes the host's channel say the same, touching it only
when it does not. Nothing here prints or logs a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ChannelOutcome", "DemoChannel", "connect_demo_channel"]

ChannelOutcome = Literal["added", "updated", "kept", "left"]
"""What :func:`connect_demo_channel` did to the merchant's channel."""


@dataclass(frozen=True, slots=True)
class DemoChannel:
    """A direct channel to a simulator's demo merchant: ``app_id`` and ``mch_id`` as
    the host's channel names them, and its secrets (kept out of ``repr``)."""

    network: str
    app_id: str
    mch_id: str
    secrets: Mapping[str, str]

    def __repr__(self) -> str:
        # A traceback or a debug print must not carry a private key.
        names = ", ".join(sorted(self.secrets))
        return f"DemoChannel({self.network}, {self.app_id}, {self.mch_id}, secrets: {names})"


def connect_demo_channel(ctx: Any, merchant_id: str, channel: DemoChannel) -> ChannelOutcome:
    """Give ``merchant_id`` (in ``ctx``, a host context) the direct ``channel``.

    Idempotent: a channel that already pays with these ids and secrets is left as it is
    (nothing audited); one with other ids or secrets (the simulator's data was made
    anew) gets these; a service-provider channel, which an operator set up on purpose,
    is left alone. Returns what was done: ``"added"``, ``"updated"``, ``"kept"`` or
    ``"left"``."""
    from scanpay.host.errors import HostError
    from scanpay.host.services import channels
    from scanpay.networks.port import ChannelMode

    secrets = dict(channel.secrets)
    try:
        current = channels.get_channel(ctx, merchant_id, channel.network)
    except HostError:
        channels.add_channel(
            ctx,
            merchant_id,
            network=channel.network,
            mode="direct",
            app_id=channel.app_id,
            mch_id=channel.mch_id,
            secrets=secrets,
        )
        return "added"
    if current.mode is not ChannelMode.DIRECT:
        return "left"
    wanted = {name: channels.fingerprint(value) for name, value in secrets.items()}
    ids = (channel.app_id, channel.mch_id)
    if (current.app_id, current.mch_id, dict(current.secrets)) == (*ids, wanted):
        return "kept"
    channels.update_channel(
        ctx,
        merchant_id,
        channel.network,
        app_id=channel.app_id,
        mch_id=channel.mch_id,
        secrets=secrets,
        # Secrets of another set-up (a v2 key, a certificate) would not match the
        # simulator's merchant: the channel pays with these alone.
        drop=[name for name in current.secrets if name not in secrets],
    )
    return "updated"
