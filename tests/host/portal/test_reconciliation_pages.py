"""The operator's reconciliation pages (issue 17: "a reconciliation page (per day and
network: matched, breaks, resolved), all in both languages"), over HTTP on SQLite and
PostgreSQL.

Real runs: a merchant of the host with a direct WeChat Pay channel to the simulator
sells through the host; breaks are planted as the reconciliation tests plant them (the
host's amount changed in its database, a sale made at the simulator under a number the
host never sent); the operator reconciles the day with the page's *Run now* form. The
list shows each run's counts, newest day first; a day's page shows every break in
words with its amounts; a resolution is recorded and audited with the operator as its
actor, once only; bad input comes back beside its field in the operator's language and
changes nothing; a merchant's users get 404 and every POST needs the CSRF token.

Both clocks move a day per test (each test's trades are its own day's); a portal
session ends with a day's move, so each test logs its operator in after it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from host.network_kit import AMOUNT, BEIJING, Shop, Stack, run_audits, stack_fixture
from host.portal.portal_kit import PortalClient, add_user, logged_in
from scanpay.host.db.models import AuditLog, ReconciliationBreak, ReconciliationRun
from scanpay.host.domain.reconciliation import KIND_TEXTS, BreakKind
from scanpay.host.domain.reconciliation_detail import DETAIL_TEXTS, DetailCode
from scanpay.host.portal.render import TEMPLATE_DIR
from scanpay.host.portal.texts import TEXTS
from scanpay.host.services import audit
from scanpay.host.services.reconciliation_records import BreakInfo, list_breaks, list_runs

START = datetime(2026, 4, 6, 12, 0, tzinfo=BEIJING)
HOME = "/portal/operator/reconciliation"
DAY_PAGE = HOME + "/day"
NOT_FOUND = "No such page or record"
BAD_FORM = "The form expired or did not come from this site"
TEMPLATES = ("op_reconciliation.html", "op_reconciliation_day.html", "_reconciliation.html")

stack = stack_fixture("reconciliation-pages", START, Stack)


@dataclass
class Day:
    """A day with a shop's three sales, one with the host's amount changed, and a sale at
    the network the host never made: two breaks once reconciled."""

    day: date
    shop: Shop
    changed: str
    foreign: str
    operator: PortalClient
    email: str


def _new_day(stack: Stack) -> Day:
    day = stack.new_day()
    shop = Shop.open(stack)
    changed, _, _ = (shop.pay() for _ in range(3))
    shop.change(changed, amount=AMOUNT + 1)
    foreign = shop.pay_at_the_network(777)
    email = add_user(stack.host, "operator")
    return Day(day, shop, changed, foreign, logged_in(stack.host, email), email)


def _run_now(scene: Day, day: str, network: str = "", **headers: str) -> httpx.Response:
    return scene.operator.post(
        HOME + "/run", {"day": day, "network": network}, token_from=HOME, headers=headers or None
    )


def _reconciled(stack: Stack) -> Day:
    """A new day with its breaks, reconciled through the page's form."""
    scene = _new_day(stack)
    answer = _run_now(scene, scene.day.isoformat(), "wechat_pay")
    assert answer.status_code == 200, answer.text[:2000]
    return scene


def _breaks(scene: Day) -> dict[BreakKind, BreakInfo]:
    found = list_breaks(scene.shop.stack.ctx, day=scene.day, merchant=scene.shop.merchant_id)
    return {b.kind: b for b in found}


def _state(stack: Stack) -> tuple[Any, ...]:
    """What a refused request must not change: the runs, the breaks, their audit records."""
    with stack.ctx.db.read() as session:
        return (
            sorted(
                session.execute(
                    select(
                        ReconciliationRun.id,
                        ReconciliationRun.ran_at,
                        ReconciliationRun.matched,
                        ReconciliationRun.status,
                    )
                ).all()
            ),
            sorted(
                session.execute(
                    select(
                        ReconciliationBreak.id,
                        ReconciliationBreak.resolved_at,
                        ReconciliationBreak.resolved_by,
                        ReconciliationBreak.resolution,
                    )
                ).all()
            ),
            session.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.subject_kind.in_(("reconciliation", "recon_break")))
            ),
        )


def _row(page: str, marker: str) -> str:
    """The table row holding ``marker`` (an attribute of its ``<tr>``)."""
    start = page.index(marker)
    start = page.rindex("<tr", 0, start)
    return page[start : page.index("</tr>", start)]


def _cell(row: str, name: str) -> str:
    found = re.search(rf'<td class="[^"]*\b{name}\b[^"]*">(.*?)</td>', row, re.S)
    assert found is not None, (name, row)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def _resolve(scene: Day, found: BreakInfo, text: str, **headers: str) -> httpx.Response:
    form = {
        "break": str(found.id),
        "resolution": text,
        "day": scene.day.isoformat(),
        "network": "wechat_pay",
    }
    return scene.operator.post(
        HOME + "/resolve",
        form,
        token_from=f"{DAY_PAGE}?day={scene.day.isoformat()}",
        headers=headers or None,
    )


# ------------------------------------------------------------------------------ tests


def test_run_now_and_the_list_shows_each_runs_counts_newest_day_first(stack: Stack) -> None:
    scene = _new_day(stack)
    empty = scene.operator.get(f"{HOME}?day={scene.day.isoformat()}")
    assert empty.status_code == 200 and 'id="no-runs"' in empty.text
    # The menu has the page; it is the one marked.
    assert f'<a href="{HOME}" class="on">Reconciliation</a>' in empty.text

    ran = _run_now(scene, scene.day.isoformat(), "wechat_pay")
    assert ran.status_code == 200, ran.text[:2000]
    runs = list_runs(stack.ctx, day=scene.day)
    assert runs and f"Reconciled {scene.day.isoformat()}: {len(runs)} channels" in ran.text
    row = _row(ran.text, f'data-channel="{scene.shop.merchant_id}"')
    # Three sales and one at the network alone: four lines, two matched, two breaks.
    assert (_cell(row, "matched"), _cell(row, "lines")) == ("2", "4")
    assert (_cell(row, "open-breaks"), _cell(row, "resolved-breaks")) == ("2", "0")
    assert "reconciled" in row and "WeChat Pay" in row
    [mine] = [r for r in runs if r.channel_key == scene.shop.merchant_id]
    assert (mine.matched, mine.lines, mine.open_breaks) == (2, 4, 2)
    [record] = run_audits(stack.ctx, mine.channel_key, scene.day)
    assert record.actor == f"operator:{scene.email}"

    # The day before too: newest day first.
    before = scene.day - timedelta(days=1)
    assert _run_now(scene, before.isoformat()).status_code == 200
    listed = scene.operator.get(HOME).text
    days = re.findall(r'<tr data-run="\d+" data-day="([0-9-]+)"', listed)
    assert scene.day.isoformat() in days and before.isoformat() in days
    assert days == sorted(days, reverse=True)
    # Filtered by day, and by network.
    only = scene.operator.get(f"{HOME}?day={before.isoformat()}&network=wechat_pay").text
    assert set(re.findall(r'data-day="([0-9-]+)"', only)) == {before.isoformat()}
    bad = scene.operator.get(f"{HOME}?day=2026-02-30")
    assert bad.status_code == 400 and 'id="error-day"' in bad.text
    assert "the day is YYYY-MM-DD" in bad.text
    scene.operator.close()


def test_a_days_breaks_in_words_with_their_amounts_in_both_languages(stack: Stack) -> None:
    scene = _reconciled(stack)
    breaks = _breaks(scene)
    assert set(breaks) == {BreakKind.AMOUNT_MISMATCH, BreakKind.NETWORK_ONLY}
    path = f"{DAY_PAGE}?day={scene.day.isoformat()}"
    pages = {
        lang: scene.operator.get(path, headers={"Accept-Language": lang})
        for lang in ("en", "zh-CN")
    }
    assert all(p.status_code == 200 for p in pages.values())
    en, zh = pages["en"].text, pages["zh-CN"].text
    mismatch = _row(en, f'data-trade="{scene.changed}"')
    assert KIND_TEXTS[BreakKind.AMOUNT_MISMATCH].en in mismatch
    assert (_cell(mismatch, "host-amount"), _cell(mismatch, "network-amount")) == (
        "12.35 CNY",
        "12.34 CNY",
    )
    stray = _row(en, f'data-trade="{scene.foreign}"')
    assert KIND_TEXTS[BreakKind.NETWORK_ONLY].en in stray
    assert (_cell(stray, "host-amount"), _cell(stray, "network-amount")) == ("-", "7.77 CNY")
    # The matcher's detail, in the reader's language: English here, Chinese below.
    no_payment = DETAIL_TEXTS[DetailCode.NO_SUCH_PAYMENT]
    assert (_cell(stray, "detail"), _cell(mismatch, "detail")) == (no_payment.en, "-")
    zh_stray = _row(zh, f'data-trade="{scene.foreign}"')
    assert _cell(zh_stray, "detail") == no_payment.zh_cn == "本机构没有该笔支付"
    assert scene.shop.merchant_id in stray
    for found in breaks.values():
        assert f'id="resolve-{found.id}"' in en and f'id="resolve-{found.id}"' in zh
    row = _row(en, f'data-channel="{scene.shop.merchant_id}"')
    assert (_cell(row, "matched"), _cell(row, "open-breaks")) == ("2", "2")

    # Chinese: the kinds, the labels and the menu in Chinese; no English label anywhere.
    for kind in breaks:
        assert KIND_TEXTS[kind].zh_cn in zh and KIND_TEXTS[kind].en not in zh
    assert "对账" in zh and "本机构金额" in zh and "标记为已处理" in zh
    shown = _visible(zh)
    for key in _label_keys():
        english = TEXTS[key][1]
        if "{" in english:
            continue
        assert not re.search(rf"(?<![\w-]){re.escape(english)}(?![\w-])", shown), (key, english)
    # And the list page too.
    listed = scene.operator.get(HOME, headers={"Accept-Language": "zh-CN"}).text
    shown = _visible(listed)
    assert "立即对账" in shown and "未处理差异" in shown
    for key in _label_keys():
        english = TEXTS[key][1]
        if "{" not in english:
            assert not re.search(rf"(?<![\w-]){re.escape(english)}(?![\w-])", shown), key
    scene.operator.close()


def _label_keys() -> set[str]:
    """Every text key the reconciliation templates use, and the menu's entry."""
    keys = {"nav.reconciliation"}
    for name in TEMPLATES:
        source = (TEMPLATE_DIR / name).read_text(encoding="utf-8")
        keys.update(re.findall(r"""\bt\(\s*["']([a-z_.0-9]*[a-z0-9])["']""", source))
    assert len(keys) > 30
    return keys


def _visible(page: str) -> str:
    """A page's words (the matcher's details among them): no tags, no values (codes), no
    attributes."""
    page = re.sub(r"<code\b.*?</code>", " ", page, flags=re.S)
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'<a [^>]*lang="en"[^>]*>English</a>', " ", page)  # the language switch
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_resolving_a_break_is_recorded_audited_and_once_only(stack: Stack) -> None:
    scene = _reconciled(stack)
    stray = _breaks(scene)[BreakKind.NETWORK_ONLY]
    done = _resolve(scene, stray, "  a sale of the shop's web store  ")
    assert done.status_code == 200, done.text[:2000]
    assert f"Break #{stray.id} ({scene.foreign}) resolved" in done.text
    row = _row(done.text, f'data-break="{stray.id}"')
    assert "a sale of the shop&#39;s web store" in row and f'id="resolve-{stray.id}"' not in row
    assert "acquirer operator" in row and scene.email in row  # who, in words

    after = _breaks(scene)[BreakKind.NETWORK_ONLY]
    assert after.resolution == "a sale of the shop's web store"
    assert after.resolved_by == f"operator:{scene.email}"
    assert after.resolved_at == stack.ctx.now()
    [record] = audit.history(stack.ctx, subject=("recon_break", str(stray.id)))
    assert (record.action, record.actor) == (
        "reconciliation.resolve",
        f"operator:{scene.email}",
    )
    assert record.data["resolution"] == after.resolution
    # The counts follow.
    listed = scene.operator.get(f"{HOME}?day={scene.day.isoformat()}").text
    counts = _row(listed, f'data-channel="{scene.shop.merchant_id}"')
    assert (_cell(counts, "open-breaks"), _cell(counts, "resolved-breaks")) == ("1", "1")

    # Twice: the typed refusal beside the break, in the viewer's language; nothing changes.
    before = _state(stack)
    again = _resolve(scene, stray, "again")
    assert again.status_code == 409
    assert 'id="error-break"' in again.text
    assert "this break is resolved already: it cannot be again" in again.text
    chinese = _resolve(scene, stray, "again", **{"Accept-Language": "zh-CN"})
    assert chinese.status_code == 409 and "该差异已处理，不能再次处理" in chinese.text
    for number in ("999999999", "99999999999999999999", "-1", "x"):
        gone = scene.operator.post(
            HOME + "/resolve",
            {"break": number, "resolution": "x", "day": scene.day.isoformat()},
            token_from=HOME,
        )
        assert gone.status_code == 404 and "no such reconciliation break" in gone.text, number
    assert _state(stack) == before
    scene.operator.close()


def test_a_bad_resolution_is_refused_beside_its_field_and_changes_nothing(stack: Stack) -> None:
    scene = _reconciled(stack)
    mismatch = _breaks(scene)[BreakKind.AMOUNT_MISMATCH]
    before = _state(stack)
    for text in ("", "   ", "x" * 1001):
        bad = _resolve(scene, mismatch, text)
        assert bad.status_code == 400, text
        form = bad.text[bad.text.index(f'id="resolve-{mismatch.id}"') :]
        form = form[: form.index("</form>")]
        assert 'id="error-resolution"' in form
        assert "say how the break was resolved (1 to 1000 characters)" in form
        assert "Not done (Resolution)" in bad.text
        if text.strip():  # what was typed is there to correct
            assert f'value="{text}"' in form
    chinese = _resolve(scene, mismatch, "", **{"Accept-Language": "zh-CN"})
    assert chinese.status_code == 400 and "请写明处理结果（1 至 1000 个字符）" in chinese.text
    assert "未处理（处理结果）" in chinese.text
    assert _state(stack) == before
    assert not _breaks(scene)[BreakKind.AMOUNT_MISMATCH].resolved
    scene.operator.close()


def test_run_now_refuses_a_day_to_come_and_bad_input_beside_the_field(stack: Stack) -> None:
    scene = _new_day(stack)
    before = _state(stack)
    tomorrow = (scene.day + timedelta(days=1)).isoformat()
    future = _run_now(scene, tomorrow)
    assert future.status_code == 400
    assert 'id="error-day"' in future.text
    assert "the day is after today in the network&#39;s time zone" in future.text
    assert f'name="day" value="{tomorrow}"' in future.text  # kept, to correct
    chinese = _run_now(scene, tomorrow, **{"Accept-Language": "zh-CN"})
    assert chinese.status_code == 400 and "对账日期不能晚于该网络所在时区的今天" in chinese.text
    for day, network, field, message in [
        ("2026-13-01", "", "day", "the day is YYYY-MM-DD"),
        ("", "", "day", "choose the day to reconcile"),
        (scene.day.isoformat(), "paypal", "network", "that payment network is not reconciled"),
    ]:
        bad = _run_now(scene, day, network)
        assert bad.status_code == 400 and f'id="error-{field}"' in bad.text, (day, network)
        assert message in bad.text
    assert _state(stack) == before
    assert list_runs(stack.ctx, day=scene.day + timedelta(days=1)) == []
    scene.operator.close()


def test_merchant_users_get_404_and_change_nothing(stack: Stack) -> None:
    scene = _reconciled(stack)
    found = _breaks(scene)[BreakKind.NETWORK_ONLY]
    before = _state(stack)
    for role in ("owner", "accountant", "read_only"):
        user = logged_in(stack.host, add_user(stack.host, role, scene.shop.merchant_id))
        try:
            home = user.get("/portal/today")
            assert home.status_code == 200 and HOME not in home.text
            for path in (HOME, f"{DAY_PAGE}?day={scene.day.isoformat()}"):
                answer = user.get(path)
                assert answer.status_code == 404 and NOT_FOUND in answer.text, (role, path)
                assert scene.foreign not in answer.text
            attempts = {
                HOME + "/run": {"day": scene.day.isoformat(), "network": ""},
                HOME + "/resolve": {"break": str(found.id), "resolution": "mine"},
            }
            for path, form in attempts.items():
                answer = user.post(path, form, token_from="/portal/today")
                assert answer.status_code == 404, (role, path, answer.status_code)
        finally:
            user.close()
    assert _state(stack) == before
    scene.operator.close()


def test_every_post_needs_the_csrf_token(stack: Stack) -> None:
    scene = _reconciled(stack)
    found = _breaks(scene)[BreakKind.NETWORK_ONLY]
    before = _state(stack)
    forms = {
        HOME + "/run": {"day": scene.day.isoformat(), "network": ""},
        HOME + "/resolve": {"break": str(found.id), "resolution": "forged"},
    }
    real = scene.operator.csrf(HOME)
    for path, form in forms.items():
        attempts = [
            scene.operator.post(path, form),
            scene.operator.post(path, form, csrf="x" * 32),
            scene.operator.post(path, form, csrf=real, headers={"Origin": "https://evil.example"}),
        ]
        for answer in attempts:
            assert answer.status_code == 403 and BAD_FORM in answer.text, path
    assert _state(stack) == before
    # The day page's own form, with its token, is what works.
    assert _resolve(scene, found, "checked at the platform").status_code == 200
    assert _state(stack) != before
    scene.operator.close()
