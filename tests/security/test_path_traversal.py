"""Path traversal into every route that serves a file: the wallet page's assets, the
portal's static files and settlement downloads, the terminal API's settlement file, and
the cashier screen's assets on the terminal agent.

Every target is sent byte for byte over a raw socket (a client library would resolve
``..`` before sending, and hide the attack), in plain, percent-encoded, double-encoded,
backslash, absolute and NUL forms. The answer is a refusal (404, or 400 from the HTTP
layer or the envelope) and never a byte of the file aimed at: Python source of the
package, ``/etc/passwd``, the terminal's key file.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from host.kit import SECRETS, VERSION, RunningHost, World, harvest, remember
from host.portal.portal_kit import add_user, logged_in
from scanpay.protocol import SignedHeaders
from scanpay.terminal.config import load_config
from security.attack_kit import RawAnswer, raw_request
from web.world import World as Stack
from web.world import running_world

#: What a leak would look like: Python source, a passwd file, a key file, a database.
LEAK_MARKERS = ("def ", "import ", "root:", '"key"', "SQLite format")


def _variants(prefix: str, target: str, depth: int) -> list[str]:
    """``prefix`` + every spelling of ``../`` x ``depth`` + ``target``."""
    up = {
        "plain": "../",
        "encoded": "%2e%2e%2f",
        "encoded dots": "%2e%2e/",
        "encoded slash": "..%2f",
        "upper": "%2E%2E%2F",
        "double": "%252e%252e%252f",
        "backslash": "..%5c",
        "dot dot dot": "....//",
        "overlong utf-8": "%c0%ae%c0%ae/",
    }
    found = [prefix + step * depth + target for step in up.values()]
    found += [
        prefix + "/etc/passwd",  # an absolute path joined to the folder
        prefix + "%2fetc%2fpasswd",
        prefix + "js/" + "../" * (depth + 1) + target,
        prefix + target + "%00.css",
        prefix + "wallet.css%00/../../" + target,
    ]
    return found


def _refused(answer: RawAnswer, target: str) -> None:
    assert answer.status in (400, 404), (target, answer.status, answer.text[:200])
    for marker in LEAK_MARKERS:
        assert marker not in answer.text, (target, marker)


# ------------------------------------------------------------------ the host


def test_wallet_page_assets_stay_in_their_folder(host: RunningHost) -> None:
    assert raw_request(host.url, "/wallet/static/wallet.css").status == 200  # the control
    # static/ is in wallet_page/, beside api.py; two levels up is scanpay/host/.
    for target in _variants("/wallet/static/", "api.py", 1) + _variants(
        "/wallet/static/", "settings.py", 2
    ):
        _refused(raw_request(host.url, target), target)


def test_portal_static_files_are_served_by_name_only(host: RunningHost) -> None:
    assert raw_request(host.url, "/portal/static/portal.css").status == 200
    for target in _variants("/portal/static/", "deps.py", 1) + _variants(
        "/portal/static/", "settings.py", 2
    ):
        _refused(raw_request(host.url, target), target)


def test_portal_settlement_downloads_parse_the_date_never_a_path(
    host: RunningHost, world: World
) -> None:
    owner = logged_in(host, add_user(host, "owner", world.merchant_id))
    try:
        cookie = "; ".join(f"{k}={v}" for k, v in owner.http.cookies.items())
        for day in [*_variants("", "etc/passwd", 4), "2026-01-01/../../../etc/passwd"]:
            target = f"/portal/settlements/{day}/file"
            answer = raw_request(host.url, target, headers={"Cookie": cookie})
            _refused(answer, target)
        for target in ("/portal/transactions/..%2fexport.csv", "/portal/transactions/../../"):
            answer = raw_request(host.url, target, headers={"Cookie": cookie})
            assert answer.status in (303, 400, 404), (target, answer.status)
            assert "payment_id" not in answer.text  # no export under another name
    finally:
        owner.close()


def test_the_terminal_apis_settlement_file_takes_a_date_only(world: World) -> None:
    """Signed over exactly the target sent, so the envelope lets it through to the route:
    the date parameter refuses anything but a date (400/30) and no file is read."""
    for day in _variants("", "etc/passwd", 4):
        target = f"/v1/settlements/{day}/file"
        headers = SignedHeaders.for_request(
            terminal_id=world.terminal.terminal_id,
            key_hex=world.terminal.key,
            method="GET",
            path=target,
            body=b"",
            timestamp=int(world.host.clock.now().timestamp()),
            nonce=secrets.token_hex(16),
        ).as_dict()
        headers["X-Scanpay-Software-Version"] = VERSION
        answer = raw_request(world.host.url, target, headers=headers)
        _refused(answer, target)
        if answer.status == 400 and answer.body.startswith(b"{"):
            assert json.loads(answer.body)["code"] in ("30", "63"), answer.text


# ------------------------------------------------------------------ the terminal agent


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """``scanpay run``'s own stack: the host and a terminal agent with its key on disk."""
    with running_world(tmp_path_factory.mktemp("agent")) as running:
        # Its key, PINs and passwords join the session's log scan (host/conftest.py).
        demo = running.stack.demo
        assert demo is not None
        remember(load_config(running.stack.terminal_dir).key)
        # A 4-digit cashier PIN ("1234") is also an amount other tests log (12.34 is
        # 1234 minor units): only PINs of 6 digits or more can be told apart in a line.
        pins = [o.pin for o in demo.operators] + [w.pin for w in demo.wallets]
        remember(*(pin for pin in pins if len(pin) >= 6))
        remember(*(u.password for u in demo.portal_users))
        yield running
        SECRETS.update(harvest(running.ctx))


def test_cashier_screen_assets_stay_in_their_folder(stack: Stack) -> None:
    agent = stack.agent
    assert raw_request(agent, "/ui/app.css").status == 200
    key_file = stack.stack.terminal_dir / "terminal.json"
    assert key_file.exists()
    web = Path("scanpay/terminal/web")  # static/ is in web/, beside __init__.py
    targets = _variants("/ui/", "__init__.py", 1) + _variants("/ui/", "config.py", 2)
    targets += [f"/ui/{key_file}", f"/ui/{key_file}".replace("/", "%2f"), f"/ui//{web}"]
    key = load_config(stack.stack.terminal_dir).key
    for target in targets:
        answer = raw_request(agent, target)
        _refused(answer, target)
        assert key not in answer.text
    # The agent's JSON API is not a file server either (no session: 401 at best).
    for target in ("/api/../terminal.json", "/api/day/..%2f..%2fterminal.json/zreport"):
        answer = raw_request(agent, target)
        assert answer.status in (400, 401, 404, 422), (target, answer.status)
        assert key not in answer.text
