"""The version gate (issue 15 item 7): a terminal below the minimum version takes no new
money (426 / 26) but can still find out and undo what it did, so a sale in doubt is
resolved; and the host's own version is the release's."""

from __future__ import annotations

from importlib.metadata import version

import scanpay
from host.kit import World


def _refused(answer: object) -> None:
    import httpx

    assert isinstance(answer, httpx.Response)
    assert answer.status_code == 426, answer.text
    assert (answer.json()["code"], answer.json()["field"]) == ("26", "software_version")


def test_an_outdated_terminal_resolves_its_sale_in_doubt_but_takes_no_new_money(
    world: World,
) -> None:
    done = world.pay("VG-1", 700)  # made while the terminal was up to date
    assert done["status"] == "SUCCESS"
    assert world.pay("VG-2", 300)["status"] == "SUCCESS"
    terminal = world.terminal
    terminal.version = "0.9.0"  # the host's minimum is 1.0.0: this terminal is outdated
    try:
        _refused(terminal.pay("VG-3", 100, world.code()))
        _refused(terminal.refund("VG-2-R1", "VG-2", 100))
        _refused(terminal.request("POST", "/v1/orders", {
            "out_trade_no": "VG-4", "amount": 100, "currency": "CNY"}))  # fmt: skip
        # Finding out what happened, and undoing it, stay open (answers signed: the kit
        # checks every reply's signature).
        queried = terminal.get("VG-1")
        assert queried.status_code == 200 and queried.json()["status"] == "SUCCESS"
        assert terminal.get("VG-3").status_code == 404  # refused: nothing was made
        listed = terminal.request("GET", "/v1/transactions")
        assert listed.status_code == 200
        before = world.balance()
        reversed_ = terminal.reverse("VG-1")
        assert reversed_.status_code == 200, reversed_.text
        assert reversed_.json()["status"] == "REVERSED"
        assert world.balance() == before + 700
        assert terminal.request("GET", "/v1/terminals/self").status_code == 200
    finally:
        terminal.version = "1.0.0"
    assert terminal.get("VG-2").json()["status"] == "SUCCESS"  # the refund never happened


def test_the_release_has_its_own_version() -> None:
    assert scanpay.__version__ == version("scanpay")  # one source: the package metadata
    assert scanpay.__version__ != "0.1.0"
    major, minor, _patch = (int(p) for p in scanpay.__version__.split("."))
    assert (major, minor) >= (0, 15)
