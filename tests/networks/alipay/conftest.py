"""One Alipay simulator per test module that asks for it, and the adapter pointed at it
(patient: the machine is busy, so no call times out unless a test means it to). Tests
make their own apps and wallets, so they do not see each other's money."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from networks.alipay.kit import network
from scanpay.networks.alipay import AlipayNetwork
from sim.alipay.kit import RunningSim, running_sim


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSim]:
    with running_sim(tmp_path_factory.mktemp("alipay")) as running:
        yield running
        running.books_balance()  # whatever the module did, the network's books balance


@pytest.fixture(scope="module")
def adapter(sim: RunningSim) -> Iterator[AlipayNetwork]:
    with network(sim.url + "/gateway.do") as made:
        yield made
