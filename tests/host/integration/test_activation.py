"""Terminal activation codes and key rotation with a grace period."""

from __future__ import annotations

import httpx

from host.kit import RunningHost, SignedClient, activate, make_merchant, reply_verifies
from scanpay.host.services import merchants, terminals


def test_activation_gives_a_key_once(host: RunningHost) -> None:
    merchant_id = make_merchant(host.ctx)
    issued = terminals.add_terminal(host.ctx, merchant_id)
    first = activate(host.url, issued.activation_code)
    assert first.status_code == 200, first.text
    data = first.json()
    assert data["terminal_id"] == issued.terminal_id and data["merchant_id"] == merchant_id
    assert len(data["key"]) == 64 and int(data["key"], 16) >= 0
    assert (data["merchant_name"], data["mcc"], data["currency"]) == ("Best Shop", "5411", "CNY")
    assert data["payee"] == merchant_id and data["min_software_version"] == "1.0.0"
    assert reply_verifies(first, data["key"])  # signed with the key it hands out
    # Lower case and without dashes is the same code; it is used up either way.
    again = activate(host.url, issued.activation_code.lower().replace("-", ""))
    assert again.status_code == 401 and again.json()["code"] == "63"
    assert "already used" in again.json()["message"]["en"]
    unknown = activate(host.url, "AAAA-BBBB-CCCC")
    assert unknown.status_code == 401 and "unknown" in unknown.json()["message"]["en"]


def test_activation_names_the_business_timezone(host: RunningHost) -> None:
    """Issue 14: the terminal shows times in the merchant's business zone, which it
    learns at activation (the zone the portal and the settlements use)."""
    issued = terminals.add_terminal(host.ctx, make_merchant(host.ctx))
    answer = activate(host.url, issued.activation_code)
    assert answer.status_code == 200, answer.text
    assert answer.json()["timezone"] == host.ctx.settings.timezone == "Asia/Shanghai"


def test_refusals_do_not_use_the_code(host: RunningHost) -> None:
    merchant_id = make_merchant(host.ctx, approve=False)
    issued = terminals.add_terminal(host.ctx, merchant_id)
    in_review = activate(host.url, issued.activation_code)
    assert in_review.status_code == 403 and in_review.json()["code"] == "58"
    old = activate(host.url, issued.activation_code, version="0.5")
    assert old.status_code == 426 and old.json()["code"] == "26"
    merchants.set_status(host.ctx, merchant_id, "approve")
    assert activate(host.url, issued.activation_code).status_code == 200


def test_activation_code_expires(host: RunningHost) -> None:
    issued = terminals.add_terminal(host.ctx, make_merchant(host.ctx))
    host.clock.advance(host.ctx.settings.activation_ttl + 1)
    late = activate(host.url, issued.activation_code)
    assert late.status_code == 401 and "expired" in late.json()["message"]["en"]


def test_key_rotation_keeps_the_old_key_for_the_grace_period(host: RunningHost) -> None:
    merchant_id = make_merchant(host.ctx)
    issued = terminals.add_terminal(host.ctx, merchant_id)
    old = activate(host.url, issued.activation_code).json()
    rotation = terminals.rotate_key(host.ctx, old["terminal_id"], grace=600)
    assert rotation.purpose == "rotate"
    new = activate(host.url, rotation.activation_code).json()
    assert new["terminal_id"] == old["terminal_id"] and new["key"] != old["key"]
    old_client = SignedClient(host.url, old["terminal_id"], old["key"], host.clock)
    new_client = SignedClient(host.url, new["terminal_id"], new["key"], host.clock)
    assert old_client.request("GET", "/v1/terminals/self").status_code == 200  # signed with old
    assert new_client.request("GET", "/v1/terminals/self").status_code == 200
    host.clock.advance(601)
    expired = old_client.request("GET", "/v1/terminals/self", check_reply=False)
    assert expired.status_code == 401 and expired.json()["code"] == "63"
    # The refusal is signed with the key that signed the request - the terminal's own,
    # expired one - so the terminal can believe it and knows to activate again.
    assert "expired" in expired.json()["message"]["en"]
    assert reply_verifies(expired, old["key"]) and not reply_verifies(expired, new["key"])
    assert new_client.request("GET", "/v1/terminals/self").status_code == 200
    listed = [t for t in terminals.list_terminals(host.ctx, merchant_id)]
    assert [(t.status, t.keys) for t in listed] == [("active", 1)]


def test_rotation_needs_an_active_terminal(host: RunningHost) -> None:
    issued = terminals.add_terminal(host.ctx, make_merchant(host.ctx))
    try:
        terminals.rotate_key(host.ctx, issued.terminal_id)
    except Exception as exc:
        assert getattr(exc, "code", None) == "30"
    else:  # pragma: no cover
        raise AssertionError("rotating a pending terminal must be refused")
    assert httpx.get(host.url + "/openapi.json").status_code == 200
