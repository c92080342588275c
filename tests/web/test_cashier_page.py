"""The cashier screen as files and as the agent serves them: a strict
Content-Security-Policy, nothing from another origin, every module import and
every screen word resolvable, in both languages."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import httpx
import pytest

from scanpay.host.wallet_page.api import STATIC_DIR as WALLET_STATIC
from scanpay.protocol.models import CodeVerifyResponse
from scanpay.terminal.order import OrderState
from scanpay.terminal.refund import RefundState
from scanpay.terminal.selftest import Status
from scanpay.terminal.web import CSP, STATIC_DIR
from web.world import World

JS = sorted(STATIC_DIR.rglob("*.js"))
ALL = sorted(p for p in [*STATIC_DIR.rglob("*"), *WALLET_STATIC.rglob("*")] if p.is_file())


def _words(i18n: Path) -> set[str]:
    return set(re.findall(r"^  (\w+): \[", i18n.read_text(), re.M))


def test_the_page_is_served_with_a_strict_policy(world: World) -> None:
    with httpx.Client(base_url=world.agent, trust_env=False, timeout=30) as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == CSP
        assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
        assert page.headers["x-content-type-options"] == "nosniff"
        for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
            asset = client.get(src)
            assert asset.status_code == 200, src
            assert asset.headers["content-security-policy"] == CSP
        for path in JS:
            url = "/ui/" + path.relative_to(STATIC_DIR).as_posix()
            served = client.get(url)
            assert served.status_code == 200 and "javascript" in served.headers["content-type"]
        # The JSON API keeps its own rules (no page headers needed there).
        assert client.get("/api/texts").status_code == 200
        assert client.get("/ui/../terminal.json").status_code == 404


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_no_file_loads_anything_from_another_origin(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for url in re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s\"')]*", text, re.I):
        # Only the SVG namespace is a URL, and it is never fetched.
        assert url.endswith("www.w3.org/2000/svg"), f"{path.name}: {url}"
    assert "innerHTML" not in text and "insertAdjacentHTML" not in text, path.name
    assert "eval(" not in text and "new Function" not in text, path.name


@pytest.mark.parametrize("path", JS, ids=lambda p: p.name)
def test_every_import_resolves_and_exports_what_is_imported(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for names, target in re.findall(r'import \{([^}]*)\} from "([^"]+)"', text):
        module = (path.parent / target).resolve()
        assert module.is_file(), f"{path.name} imports {target}"
        exported = set(
            re.findall(
                r"^export (?:async )?(?:function|class|const|let) (\w+)", module.read_text(), re.M
            )
        )
        wanted = {n.strip() for n in names.split(",") if n.strip()}
        assert wanted <= exported, f"{path.name}: {wanted - exported} not in {target}"


def test_every_word_the_screens_use_exists_in_both_languages() -> None:
    i18n = STATIC_DIR / "js" / "i18n.js"
    words = _words(i18n)
    pairs = re.findall(r"^  (\w+): \[(\"[^\"]*\"), (\"[^\"]*\")\],?$", i18n.read_text(), re.M)
    multi = re.findall(r"^  (\w+): \[$", i18n.read_text(), re.M)
    assert len(pairs) + len(multi) == len(words)
    used: set[str] = set()
    for path in JS:
        used |= set(re.findall(r'\bt\("(\w+)"', path.read_text(encoding="utf-8")))
    assert used - words == set()
    # Words looked up by a state or status the agent sends.
    families = {
        "order_": [s.value for s in OrderState],
        "refund_state_": [s.value for s in RefundState],
        "status_": list(typing.get_args(Status)),
        "role_": ["cashier", "supervisor"],
        # the sticker check's verdict when the host sent no words (issue 14)
        "sticker_": [
            *typing.get_args(CodeVerifyResponse.model_fields["verdict"].annotation),
            "unavailable",
        ],
    }
    for prefix, values in families.items():
        missing = {f"{prefix}{v}" for v in values} - words
        assert not missing, missing


def test_every_wallet_page_word_exists_in_both_languages() -> None:
    script = (WALLET_STATIC / "js" / "wallet.js").read_text(encoding="utf-8")
    words = set(re.findall(r"^  (\w+): \[\"[^\"]*\", \"[^\"]*\"\],$", script, re.M))
    used = set(re.findall(r'\bt\("(\w+)"', script)) | set(re.findall(r"t\(`tab_\$\{", script))
    used.discard("t(`tab_${")
    assert used - words == set()
    assert {"tab_pay", "tab_scan", "tab_history"} <= words


def test_the_order_qr_is_a_standalone_svg(world: World) -> None:
    """The screen shows the order QR with <img>, which needs a whole SVG document with
    its namespace (the browser test reads the drawn QR back from a screenshot)."""
    with httpx.Client(base_url=world.agent, trust_env=False, timeout=30) as client:
        client.post("/api/session", json={"operator_id": "c01", "pin": "1234"})
        order = client.post("/api/orders", json={"amount_text": "2.00"}).json()
        svg = client.get(order["qr_svg_url"])
        client.post(f"/api/orders/{order['out_trade_no']}/cancel")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<?xml") and 'xmlns="http://www.w3.org/2000/svg"' in svg.text
