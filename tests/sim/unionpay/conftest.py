"""One UnionPay simulator per test module (its keys take a moment to make); tests make
their own merchants and wallets in it, so they do not see each other's money."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sim.unionpay.kit import RunningSim, running_sim


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSim]:
    with running_sim(tmp_path_factory.mktemp("unionpay")) as running:
        yield running
        running.books_balance()  # whatever the module did, the network's books balance
