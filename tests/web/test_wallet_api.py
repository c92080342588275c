"""The wallet page's JSON routes over real HTTP: sessions (cookie, CSRF, PIN
lockout), the payment code, payments waiting for the PIN, paying a merchant's
QR, reading a photo of one; and the page's own headers."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import cv2
import httpx
import numpy as np
import pytest
import segno

from scanpay.codes import parse_payment_code
from scanpay.host.services import audit, wallets
from web.world import World


@pytest.fixture
def agent(world: World) -> Iterator[httpx.Client]:
    client = httpx.Client(base_url=world.agent, timeout=30, trust_env=False)
    assert client.post("/api/session", json={"operator_id": "c01", "pin": "1234"}).is_success
    yield client
    client.close()


def wallet_client(world: World, account: str, pin: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=world.host, timeout=30, trust_env=False)
    answer = client.post("/wallet/v1/session", json={"account": account, "pin": pin})
    assert answer.status_code == 200, answer.text
    return client, answer.json()["csrf"]


def test_login_sets_a_strict_session_cookie(world: World) -> None:
    account, pin = world.account("Alice")
    with httpx.Client(base_url=world.host, trust_env=False, timeout=30) as client:
        answer = client.post("/wallet/v1/session", json={"account": account, "pin": pin})
        assert answer.status_code == 200
        assert answer.json()["account"] == account and answer.json()["name"] == "Alice"
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/wallet" in cookie
        assert pin not in cookie
        assert answer.headers["cache-control"] == "no-store"
        who = client.get("/wallet/v1/session").json()
        assert who == {"account": account, "csrf": answer.json()["csrf"]}
        me = client.get("/wallet/v1/me").json()
        assert me["balance_text"] and me["pin_above_text"] == "1000.00"
        # Logging out removes the cookie; the page is logged out.
        csrf = answer.json()["csrf"]
        out = client.delete("/wallet/v1/session", headers={"X-Wallet-CSRF": csrf})
        assert out.status_code == 204
        assert client.get("/wallet/v1/me").status_code == 401


def test_wrong_pins_slow_the_login_and_never_lock_the_account(world: World) -> None:
    """Issue 13: anyone can send an account number and a PIN, so a login must not lock
    the account (that stopped its payments); wrong PINs slow the next login instead."""
    account = world.open_wallet(balance=1000, pin="135790")
    with httpx.Client(base_url=world.host, trust_env=False, timeout=30) as client:

        def attempt(pin: str) -> httpx.Response:
            return client.post("/wallet/v1/session", json={"account": account, "pin": pin})

        for wrong in ("000000", "111111", "222222"):
            answer = attempt(wrong)
            assert (answer.status_code, answer.json()["code"]) == (401, "55")
            assert answer.json()["message"]["en"] == "Wrong account or PIN"  # no tries left
        # Slowed: even the right PIN waits now, and no cookie is set.
        right = attempt("135790")
        assert (right.status_code, right.json()["code"]) == (429, "57")
        assert int(right.headers["retry-after"]) >= 1 and "set-cookie" not in right.headers
    # The payment side never heard of it.
    assert wallets.wallet_info(world.ctx, account).locked_until is None
    records = audit.history(world.ctx, subject=("wallet", account))
    logins = [r for r in records if r.action == "wallet.login"]
    assert len(logins) == 3  # the slowed try was never checked


def test_an_unknown_account_is_refused_like_a_wrong_pin(world: World) -> None:
    with httpx.Client(base_url=world.host, trust_env=False, timeout=30) as client:
        answer = client.post("/wallet/v1/session", json={"account": "0000099991", "pin": "123456"})
    assert (answer.status_code, answer.json()["code"]) == (401, "55")
    assert answer.json()["message"]["en"] == "Wrong account or PIN"


def test_no_session_forged_session_or_missing_csrf_is_refused(world: World) -> None:
    account, pin = world.account("Alice")
    anonymous = httpx.Client(base_url=world.host, trust_env=False, timeout=30)
    assert anonymous.get("/wallet/v1/me").status_code == 401
    forged = f"{account}.1.99999999999.abcd.AAAA"
    anonymous.cookies.set("scanpay_wallet", forged, path="/wallet")
    assert anonymous.get("/wallet/v1/me").status_code == 401
    anonymous.cookies.clear()
    client, csrf = wallet_client(world, account, pin)
    assert client.post("/wallet/v1/me/code").status_code == 403
    assert client.post("/wallet/v1/me/code", headers={"X-Wallet-CSRF": "x" * 43}).status_code == 403
    evil = {"X-Wallet-CSRF": csrf, "Origin": "http://evil.example"}
    assert client.post("/wallet/v1/me/code", headers=evil).status_code == 403
    cross = {"X-Wallet-CSRF": csrf, "Sec-Fetch-Site": "cross-site"}
    assert client.post("/wallet/v1/me/code", headers=cross).status_code == 403
    assert client.post("/wallet/v1/me/code", headers={"X-Wallet-CSRF": csrf}).status_code == 200
    # Another site cannot log a browser in either.
    login = anonymous.post(
        "/wallet/v1/session",
        json={"account": account, "pin": pin},
        headers={"Origin": "http://evil.example"},
    )
    assert login.status_code == 403
    client.close()
    anonymous.close()


def _barcode_text(data_uri: str) -> str:
    """Read the Code 128 SVG back: its bars to pixels, the pixels to zxing-cpp."""
    import zxingcpp

    svg = base64.b64decode(data_uri.split(",", 1)[1]).decode()
    width = int(re.search(r'width="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    row = np.full(width, 255, np.uint8)
    for x, w in re.findall(r'<rect x="(\d+)" y="0" width="(\d+)"', svg):
        row[int(x) : int(x) + int(w)] = 0
    image = np.repeat(row[np.newaxis, :], 60, axis=0)
    found = zxingcpp.read_barcodes(image)
    assert found, "the barcode does not read"
    return str(found[0].text)


def test_the_code_reads_back_in_both_forms_and_changes_once_it_paid(
    world: World, agent: httpx.Client
) -> None:
    account, pin = world.account("Alice")
    client, csrf = wallet_client(world, account, pin)
    first = client.post("/wallet/v1/me/code", headers={"X-Wallet-CSRF": csrf}).json()
    code = parse_payment_code(first["digits"], wallet_rules=world.ctx.wallet_rules)
    assert code.kind == "wallet" and first["digits"][2:12] == account
    assert first["lifetime"] == 60 and first["expires_at"] > 0
    assert _barcode_text(first["barcode"]) == first["digits"]
    expected = segno.make_qr(first["digits"], error="M").svg_data_uri(scale=6, border=4)
    assert first["qr"] == expected and "svg" in unquote(first["qr"])
    # Two sales right after each other: the page's next code is never the used one.
    for amount in ("1.00", "2.00"):
        digits = client.post("/wallet/v1/me/code", headers={"X-Wallet-CSRF": csrf}).json()
        no = agent.post("/api/sales", json={"amount_text": amount}).json()["out_trade_no"]
        assert agent.post(f"/api/sales/{no}/scan", json={"text": digits["digits"]}).is_success
        done = agent.post(f"/api/sales/{no}/confirm", params={"wait": 10}).json()
        assert done["state"] == "APPROVED", done["result"]
    client.close()


def test_a_payment_waiting_for_the_pin_is_confirmed_from_the_session(
    world: World, agent: httpx.Client
) -> None:
    bob, pin = world.account("Bob")
    client, csrf = wallet_client(world, bob, pin)
    headers = {"X-Wallet-CSRF": csrf}
    digits = client.post("/wallet/v1/me/code", headers=headers).json()["digits"]
    sale = agent.post("/api/sales", json={"amount_text": "180.00", "note": "<b>cake</b>"}).json()
    no = sale["out_trade_no"]
    assert agent.post(f"/api/sales/{no}/scan", json={"text": digits}).status_code == 200
    assert agent.post(f"/api/sales/{no}/confirm", params={"wait": 10}).json()["state"] == (
        "USER_PAYING"
    )
    pending = client.get("/wallet/v1/me").json()["pending"]
    assert [(p["merchant_name"], p["amount_text"], p["status"]) for p in pending] == [
        ("Demo Coffee", "180.00", "USER_PAYING")
    ]
    assert pending[0]["description"] == "<b>cake</b>"  # as data; the page shows it as text
    wrong = client.post("/wallet/v1/me/confirm", json={"pin": "000000"}, headers=headers).json()
    assert (wrong["code"], wrong["tries_left"]) == ("55", 2)
    done = client.post(
        "/wallet/v1/me/confirm",
        json={"pin": pin, "payment_id": pending[0]["payment_id"]},
        headers=headers,
    ).json()
    assert (done["code"], done["status"]) == ("00", "SUCCESS")
    me = client.get("/wallet/v1/me").json()
    assert me["pending"] == []
    assert me["history"][0]["payment_id"] == pending[0]["payment_id"]
    assert me["history"][0]["status"] == "SUCCESS"
    view = agent.get(f"/api/sales/{no}", params={"wait": 10, "version": sale["version"]})
    assert world.wait_payment(no, "SUCCESS").amount == 18000
    assert view.status_code == 200
    client.close()


def test_preview_and_pay_a_merchant_qr(world: World, agent: httpx.Client) -> None:
    alice, pin = world.account("Alice")
    before = world.balance(alice)
    order = agent.post("/api/orders", json={"amount_text": "4.20", "note": "tea"}).json()
    client, csrf = wallet_client(world, alice, pin)
    headers = {"X-Wallet-CSRF": csrf}
    seen = client.post(
        "/wallet/v1/me/preview", json={"payload": order["payload"]}, headers=headers
    ).json()
    assert (seen["merchant_name"], seen["amount_text"], seen["currency"]) == (
        "Demo Coffee",
        "4.20",
        "CNY",
    )
    assert seen["payable"] is True and seen["pin_required"] is False
    paid = client.post("/wallet/v1/me/pay", json={"payload": order["payload"]}, headers=headers)
    assert paid.json()["code"] == "00"
    again = client.post("/wallet/v1/me/pay", json={"payload": order["payload"]}, headers=headers)
    assert again.json()["code"] == "12"  # already paid: nothing taken twice
    assert world.balance(alice) == before - 420
    row = world.order(order["out_trade_no"])
    assert row is not None and row.status == "PAID"
    altered = order["payload"].replace("4.20", "0.01")
    refused = client.post("/wallet/v1/me/preview", json={"payload": altered}, headers=headers)
    assert refused.status_code == 400
    client.close()


def _png(image: Any) -> bytes:
    ok, data = cv2.imencode(".png", image)
    assert ok
    return bytes(data.tobytes())


def test_scan_reads_a_merchant_qr_in_a_photo(world: World, agent: httpx.Client) -> None:
    from scanpay.vision import synth

    alice, pin = world.account("Alice")
    client, csrf = wallet_client(world, alice, pin)
    headers = {"X-Wallet-CSRF": csrf}
    payload = agent.post("/api/orders", json={"amount_text": "1.00"}).json()["payload"]

    def post(image: bytes, live: bool = False) -> dict[str, Any]:
        files = {"file": ("photo.png", image, "image/png")}
        answer = client.post(
            "/wallet/v1/me/scan", params={"live": live}, files=files, headers=headers
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    photo = synth.place(synth.render_qr(payload, module_px=4), side=300, tilt=15).frame
    assert post(_png(photo))["text"] == payload
    wallet_code = synth.place(synth.render_qr(world.code(alice)), side=250).frame
    assert post(_png(wallet_code)) == {
        "text": None,
        "guidance": None,
        "error": "not_a_merchant_code",
    }
    blank = synth.place(np.full((200, 200), 255, np.uint8), side=250).frame
    assert post(_png(blank), live=True)["guidance"]["code"] == "NO_CODE"
    assert post(b"not an image")["error"] == "not_an_image"
    client.close()


def test_the_page_and_its_assets_are_served_with_a_strict_policy(world: World) -> None:
    with httpx.Client(base_url=world.host, trust_env=False, timeout=30) as client:
        page = client.get("/wallet/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        script = client.get("/wallet/static/js/wallet.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert client.get("/wallet/static/../api.py").status_code == 404
        assert client.get("/wallet/static/%2e%2e/api.py").status_code == 404
        assert client.get("/wallet", follow_redirects=False).headers["location"] == "/wallet/"
        for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
            assert src.startswith("/wallet/static/"), src
            assert client.get(src).status_code == 200
