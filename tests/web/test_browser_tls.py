"""The cashier screen takes a payment through an agent whose host speaks HTTPS only
(issue 15, item 1): the terminal verifies the host with the CA file it was activated
with and the certificate's pinned fingerprint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scanpay.terminal.config import load_config
from web.world import World, login, running_world, scan_with_gun, start_sale

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """This module's stack: the host over TLS (overrides conftest's plain one)."""
    with running_world(tmp_path_factory.mktemp("stack-tls"), tls=True) as running:
        yield running


def test_a_sale_through_a_host_served_over_tls(cashier: Any, world: World) -> None:
    assert world.host.startswith("https://127.0.0.1:")
    config = load_config(world.stack.terminal_dir)
    assert config.host_url == world.host
    assert config.ca_file == "host-ca.pem"
    assert world.stack.tls_pair is not None
    assert config.pin_sha256 == world.stack.tls_pair.fingerprint_sha256

    account, _ = world.account("Alice")
    before = world.balance(account)
    login(cashier, world)
    no = start_sale(cashier, "12.34")
    scan_with_gun(cashier, world.code(account), then="[data-screen=confirm]")
    cashier.click("#confirm")
    cashier.wait_for_selector("[data-screen=approved]")
    assert cashier.inner_text("#result-title") == "Approved"

    row = world.payment(no)
    assert row is not None and (row.status, row.amount) == ("SUCCESS", 1234)
    assert world.balance(account) == before - 1234
    assert world.ledger_ok()
