"""The whole system on one machine: the host, a terminal agent, the networks'
simulators and demo data.

``scanpay run`` (:class:`Stack`) and ``scanpay demo`` (:mod:`scanpay.terminal.demo`)
share these parts, one module each:

- :mod:`~scanpay.stack.loopback`: :class:`LoopbackServer` serves an ASGI app on a
  loopback port, in a thread, and stops it cleanly; free ports; the host's TLS pair;
- :mod:`~scanpay.stack.demo`: the demo data - :func:`seed_host` (an approved
  merchant, a terminal waiting for activation, wallet accounts, through the host's own
  services), :func:`add_portal_users`, :func:`add_demo_operators`, ``demo.json``;
- :mod:`~scanpay.stack.sims`: a network's simulator as one :class:`Simulator` entry
  (its port, folder, demo, the demo merchant's channel, the host's options), with
  :mod:`~scanpay.stack.wechat` (port 8610), :mod:`~scanpay.stack.alipay` (8620) and
  :mod:`~scanpay.stack.unionpay` (8630);
- :mod:`~scanpay.stack.channels`: the demo merchant's channel to a simulator's demo
  merchant, made idempotently;
- :mod:`~scanpay.stack.terminal`: the demo terminal's activation and host address;
- :mod:`~scanpay.stack.summary`: what ``scanpay run`` prints, in zh-CN or English;
- :mod:`~scanpay.stack.stack`: :class:`Stack`, all of it started on a data
  directory (SQLite ``host.db``, the terminal's ``terminal/``, each simulator's
  ``sim-NAME/``): the first start creates the demo data and activates the terminal
  over HTTP, and writes what a person needs to log in to ``demo.json``; later starts
  reuse all of it. The host's adapters are pointed at the simulators, so a code a
  simulator issues pays through the whole chain.
"""

from __future__ import annotations

from scanpay.stack.alipay import ALIPAY
from scanpay.stack.channels import ChannelOutcome, DemoChannel, connect_demo_channel
from scanpay.stack.demo import (
    DEMO_FILE,
    DEMO_OPERATORS,
    DEMO_PORTAL_USERS,
    DEMO_WALLETS,
    DemoData,
    DemoOperator,
    DemoPortalUser,
    DemoWallet,
    SeededHost,
    add_demo_operators,
    add_portal_users,
    seed_host,
)
from scanpay.stack.loopback import (
    LoopbackServer,
    StackError,
    TlsPair,
    check_port,
    free_port,
    make_tls_pair,
)
from scanpay.stack.sims import RunningSim, Served, SimDemo, Simulator
from scanpay.stack.stack import SIM_PORTS, SIMULATORS, Stack
from scanpay.stack.unionpay import UNIONPAY
from scanpay.stack.wechat import WECHAT, WeChatDemo, wechat_channel

__all__ = [
    "ALIPAY",
    "DEMO_FILE",
    "DEMO_OPERATORS",
    "DEMO_PORTAL_USERS",
    "DEMO_WALLETS",
    "SIMULATORS",
    "SIM_DIR",
    "SIM_PORTS",
    "UNIONPAY",
    "WECHAT",
    "ChannelOutcome",
    "DemoChannel",
    "DemoData",
    "DemoOperator",
    "DemoPortalUser",
    "DemoWallet",
    "LoopbackServer",
    "RunningSim",
    "SeededHost",
    "Served",
    "SimDemo",
    "Simulator",
    "Stack",
    "StackError",
    "TlsPair",
    "WeChatDemo",
    "add_demo_operators",
    "add_portal_users",
    "check_port",
    "connect_demo_channel",
    "free_port",
    "make_tls_pair",
    "seed_host",
    "wechat_channel",
]

SIM_DIR = WECHAT.folder
"""The WeChat Pay simulator's data folder in the stack's data directory."""
