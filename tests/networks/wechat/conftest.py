"""One simulator per test module, and an adapter pointed at it (patient: the machine is
busy, so no call times out unless a test means it to). Tests make their own merchants
and wallets, so they do not see each other's money."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from networks.wechat.kit import adapter
from scanpay.networks.wechat import WeChatPayNetwork
from sim.kit import RunningSim, running_sim


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSim]:
    with running_sim(tmp_path_factory.mktemp("sim")) as running:
        yield running
        running.books_balance()  # whatever the module did, the network's books balance


@pytest.fixture(scope="module")
def network(sim: RunningSim) -> Iterator[WeChatPayNetwork]:
    with adapter(sim.url) as made:
        yield made
