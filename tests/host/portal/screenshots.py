"""Screenshots of the merchant portal's main pages, in English and Chinese.

    .venv/bin/python tests/host/portal/screenshots.py [--out docs/screenshots] [--rows 20000]

A throw-away SQLite host with generated history (``scanpay host fixtures``),
a submitted application, an owner and an operator, served on a loopback port;
headless Chromium (Debian's, see ``tests/browser_support.py``) logs in and
saves ``portal-<page>-<en|zh>.png``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime, time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2]))  # tests/, for browser_support and host.kit

from browser_support import chromium  # noqa: E402
from host.kit import RunningHost, migrate, serve_in_thread  # noqa: E402
from scanpay.host import HostSettings, ManualClock  # noqa: E402
from scanpay.host.domain.uscc import check_character  # noqa: E402
from scanpay.host.portal import accounts, fixtures, onboarding  # noqa: E402
from scanpay.host.portal.forms import parse_application  # noqa: E402

PASSWORD = "screenshot-pass-1"
OWNER, OPERATOR = "owner@lakeside.example", "ops@acquirer.example"


def _prepare(host: RunningHost, rows: int) -> str:
    """History for an owner's merchant, an owner and an operator, and an application."""
    ctx = host.ctx
    report = fixtures.generate(ctx, transactions=rows, days=45, settle_days=10)
    accounts.add_user(
        ctx, email=OWNER, password=PASSWORD, role="owner", merchant_id=report.merchant_id
    )
    accounts.add_user(ctx, email=OPERATOR, password=PASSWORD, role="operator")
    body = "91330100MA2H3K4L5"
    form, errors = parse_application(
        {
            "company_name": "杭州湖畔茶馆有限公司",
            "shop_name": "Lakeside Tea",
            "license": body + check_character(body),
            "legal_representative": "陈六",
            "phone": "0571 8888 1234",
            "email": "apply@lakeside.example",
            "city": "Hangzhou",
            "address": "Beishan Road 9",
            "mcc": "5812",
            "monthly_volume": "80000",
            "terminal_count": "2",
        }
    )
    assert form is not None, errors
    view, _ = onboarding.submit(ctx, form, PASSWORD)
    return view.reference


def _shots(url: str, out: Path, reference: str) -> list[Path]:
    saved: list[Path] = []
    with chromium() as browser:
        for lang, locale in (("en", "en-US"), ("zh", "zh-CN")):
            visitor = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
            page = visitor.new_page()
            page.goto(url + "/portal/apply")
            page.fill("#license", "91350100M000100Y42")
            path = out / f"portal-apply-{lang}.png"
            page.screenshot(path=str(path))
            saved.append(path)
            visitor.close()
            owner = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
            page = owner.new_page()
            page.goto(url + "/portal/login")
            page.fill("input[name=email]", OWNER)
            page.fill("input[name=password]", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_selector("#who")
            for name, target, full in (
                ("today", "/portal/today", True),
                ("transactions", "/portal/transactions?size=20", False),
                ("settlements", "/portal/settlements", False),
                ("terminals", "/portal/terminals", False),
            ):
                page.goto(url + target)
                path = out / f"portal-{name}-{lang}.png"
                page.screenshot(path=str(path), full_page=full)
                saved.append(path)
            page.goto(url + "/portal/transactions?status=PARTIALLY_REFUNDED&size=20")
            page.click("#transactions a.trade >> nth=0")
            page.wait_for_selector("#history")
            path = out / f"portal-transaction-{lang}.png"
            page.screenshot(path=str(path), full_page=True)
            saved.append(path)
            owner.close()
            operator = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
            page = operator.new_page()
            page.goto(url + "/portal/login")
            page.fill("input[name=email]", OPERATOR)
            page.fill("input[name=password]", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_selector("#who")
            for name, target in (
                ("review", f"/portal/operator/applications/{reference}"),
                ("merchants", "/portal/operator/merchants"),
            ):
                page.goto(url + target)
                path = out / f"portal-{name}-{lang}.png"
                page.screenshot(path=str(path))
                saved.append(path)
            operator.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE.parents[3] / "docs" / "screenshots")
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="portal-shots-") as tmp:
        url = f"sqlite:///{tmp}/host.db"
        migrate(url)
        settings = HostSettings(database_url=url, data_dir=tmp)
        # Early evening of today, business time: the day's lunch and dinner rushes are in.
        zone = settings.zone
        evening = datetime.combine(datetime.now(zone).date(), time(18, 30), zone)
        clock = ManualClock(evening.astimezone(UTC))
        with serve_in_thread(settings, clock, "sqlite") as host:
            reference = _prepare(host, args.rows)
            for path in _shots(host.url, args.out, reference):
                print(path)


if __name__ == "__main__":
    main()
