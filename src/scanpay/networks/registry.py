"""Payment networks by name: the adapter the host uses for a channel's ``network``.

Each network's adapter is made by a factory from text options (what a
configuration file or the command line gives: a gateway, timeouts...), each
adapter naming and checking its own. Built-in adapters are imported only when
one is made, so reading the registry does no I/O and pulls in no HTTP client::

    network = create("wechat_pay", {"gateway": "http://127.0.0.1:8700"})
    network.pay(request)

:func:`register` adds one (the built-in wallet's adapter, a test's).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping

from scanpay.i18n import Text
from scanpay.networks.errors import NetworkError
from scanpay.networks.port import Network

__all__ = ["NetworkFactory", "create", "names", "register"]

NetworkFactory = Callable[[Mapping[str, str]], Network]
"""Makes a network's adapter from its options."""

# name -> "module:function", imported on first use.
_BUILT_IN: dict[str, str] = {
    "wechat_pay": "scanpay.networks.wechat:from_options",
    "alipay": "scanpay.networks.alipay:from_options",
    "unionpay": "scanpay.networks.unionpay:from_options",
}
_registered: dict[str, NetworkFactory] = {}
_lock = threading.Lock()

_UNKNOWN = Text("没有名为 {name} 的支付网络", "there is no payment network named {name}")


def register(name: str, factory: NetworkFactory) -> None:
    """Make ``factory`` the adapter factory of ``name`` (replacing any before it)."""
    if not name or not name.islower() or not name.replace("_", "").isalnum():
        raise NetworkError("bad_network_name", field="network")
    with _lock:
        _registered[name] = factory


def names() -> tuple[str, ...]:
    """The networks an adapter can be made for, sorted."""
    with _lock:
        return tuple(sorted({*_BUILT_IN, *_registered}))


def _factory(name: str) -> NetworkFactory:
    with _lock:
        found = _registered.get(name)
    if found is not None:
        return found
    target = _BUILT_IN.get(name)
    if target is None:
        raise NetworkError("network_unknown", _UNKNOWN.format(name=name[:32]), field="network")
    module, _, function = target.partition(":")
    made: NetworkFactory = getattr(importlib.import_module(module), function)
    return made


def create(name: str, options: Mapping[str, str] | None = None) -> Network:
    """A new adapter for the network ``name``; ``network_unknown`` when there is none.
    The caller owns it (and closes it when it has a ``close``)."""
    network = _factory(name)(options or {})
    if network.name != name:
        raise NetworkError("channel_network_mismatch", field="network")
    return network
