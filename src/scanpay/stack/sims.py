"""A payment network's simulator as the stack runs it: one :class:`Simulator` entry each.

An entry says everything the stack does with its simulator: its default port and data
folder (``sim-NAME``), how its app and demo (a merchant and a customer, made on its
first start) are made, what channel the host's demo merchant gets to the demo
merchant, and the host's network options that send the network's codes to it. Adding
a network to ``scanpay run`` is adding an entry to :data:`scanpay.stack.SIMULATORS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanpay.i18n import Text
from scanpay.stack.channels import ChannelOutcome, DemoChannel
from scanpay.stack.loopback import LoopbackServer

__all__ = ["RunningSim", "Served", "SimDemo", "Simulator", "network_env"]


@dataclass(frozen=True, slots=True)
class SimDemo:
    """A simulator's demo as the stack shows it: its merchant (whose keys stay in the
    simulator's ``demo.json``, never here) and its customer's wallet."""

    merchant_id: str
    """The id the network knows the demo merchant by (WeChat Pay's mchid, Alipay's app id)."""
    demo_file: Path
    wallet_id: int
    wallet_name: str
    password_above: int | None


@dataclass(frozen=True, slots=True)
class Served:
    """A simulator's ASGI app on its folder, its state (``app.state.sim``) and its demo
    (None when its folder holds merchants but no demo: set up by someone else)."""

    app: Any
    state: Any
    demo: SimDemo | None


@dataclass(frozen=True, slots=True)
class Simulator:
    """One network's simulator in the stack (see the module's docstring)."""

    name: str
    """Short name: the ``--NAME-port`` option, the ``sim-NAME`` folder, the summary's tag."""
    network: str
    """The host's name of the network (a channel's ``network``)."""
    port: int
    merchant: Text
    """The demo merchant as the summary names it; ``{id}`` is its ``merchant_id``."""
    serve: Callable[[Path], Served]
    """The simulator's app on a data folder, its demo made on the folder's first use."""
    channel: Callable[[Served], DemoChannel]
    """The direct channel to the demo merchant (called only when there is a demo)."""
    options: Callable[[str, str | None], Mapping[str, str]]
    """The host's options of the network given the simulator's URL and the host's own
    URL (None when the simulator cannot call the host back)."""

    @property
    def folder(self) -> str:
        return f"sim-{self.name}"

    @property
    def title(self) -> Text:
        """The network's name as a person reads it."""
        from scanpay.codes.names import network_name

        return network_name(self.network)


def network_env(network: str, options: Mapping[str, str]) -> dict[str, str]:
    """``options`` of ``network`` as the host reads them from its environment."""
    prefix = f"SCANPAY_NETWORK__{network.upper()}__"
    return {prefix + name.upper(): value for name, value in options.items()}


@dataclass
class RunningSim:
    """A started simulator: its entry, its app and the server serving it."""

    simulator: Simulator
    served: Served
    server: LoopbackServer
    channel: ChannelOutcome | None = None
    """What this start did to the demo merchant's channel (None: no demo, no channel)."""

    @property
    def url(self) -> str:
        """The simulator's address (its pages and admin under ``/sim/``)."""
        return self.server.url

    @property
    def demo(self) -> SimDemo | None:
        return self.served.demo

    def balance(self) -> int | None:
        """The demo customer's balance now (fen), read from the simulator's state."""
        demo = self.served.demo
        if demo is None:
            return None
        wallet = self.served.state.store.wallet(demo.wallet_id)
        return int(wallet.balance) if wallet is not None else None
