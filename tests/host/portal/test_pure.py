"""The portal's pure rules: roles, throttle, licence check, forms, filters and cursors,
the Today figures, charts, export rows and the texts of every template."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scanpay.host.domain.uscc import USCC_ALPHABET, check_character, is_valid_uscc
from scanpay.host.portal.charts import ChartPoint, combo_chart, nice_scale
from scanpay.host.portal.filters import (
    Cursor,
    TxnFilter,
    day_range_utc,
    decode_cursor,
    encode_cursor,
    parse_filters,
)
from scanpay.host.portal.forms import check_password, normalize_email, parse_application
from scanpay.host.portal.licence import check_licence
from scanpay.host.portal.render import TEMPLATE_DIR, group_digits
from scanpay.host.portal.roles import MERCHANT_ROLES, Permission, Role, can, parse_role
from scanpay.host.portal.rows import ExportRecord, csv_line, csv_safe, export_values
from scanpay.host.portal.stats import (
    GroupRow,
    Tally,
    daily_series,
    hourly_series,
    percent,
    summarize,
)
from scanpay.host.portal.texts import TEXTS, translate
from scanpay.host.portal.throttle import ThrottlePolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")
KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30: buckets must be quarter hours, not hours


# ------------------------------------------------------------------------------ roles


def test_roles_grant_exactly_what_the_issue_says() -> None:
    table = {
        Role.OWNER: {
            Permission.VIEW,
            Permission.EXPORT,
            Permission.REFUND,
            Permission.MANAGE_TERMINALS,
        },
        Role.ACCOUNTANT: {Permission.VIEW, Permission.EXPORT},
        Role.READ_ONLY: {Permission.VIEW},
        Role.OPERATOR: {Permission.OPERATE},
    }
    for role, granted in table.items():
        assert {p for p in Permission if can(role, p)} == granted
    assert not can("intruder", Permission.VIEW)
    assert {Role.OWNER, Role.ACCOUNTANT, Role.READ_ONLY} == MERCHANT_ROLES


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("owner", Role.OWNER),
        ("Read-Only", Role.READ_ONLY),
        ("readonly", Role.READ_ONLY),
        (" accountant ", Role.ACCOUNTANT),
        ("OPERATOR", Role.OPERATOR),
    ],
)
def test_parse_role(text: str, role: Role) -> None:
    assert parse_role(text) is role


def test_parse_role_refuses_others() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        parse_role("admin")


# ------------------------------------------------------------------------------ throttle


def test_throttle_locks_at_the_limit_and_unlocks_when_the_oldest_leaves() -> None:
    policy = ThrottlePolicy(max_failures=3, max_per_address=5, window=timedelta(minutes=10))
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    fails = [t0 + timedelta(minutes=m) for m in (0, 2, 4)]
    assert policy.locked_until(fails[:2], t0 + timedelta(minutes=5), per_address=False) is None
    until = policy.locked_until(fails, t0 + timedelta(minutes=5), per_address=False)
    assert until == t0 + timedelta(minutes=10)
    assert policy.locked_until(fails, until, per_address=False) is None
    # the per-address limit is higher
    assert policy.locked_until(fails, t0 + timedelta(minutes=5), per_address=True) is None
    # failures in the future (clock skew between processes) and long ago do not count
    odd = [t0 - timedelta(hours=1), t0 + timedelta(hours=1), t0]
    assert policy.locked_until(odd, t0, per_address=False) is None


def test_throttle_lock_lasts_until_the_limit_th_newest_leaves() -> None:
    policy = ThrottlePolicy(max_failures=2, window=timedelta(minutes=10))
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    fails = [t0, t0 + timedelta(minutes=8), t0 + timedelta(minutes=9)]
    # the two newest are 8 and 9: locked until 8 + 10
    until = policy.locked_until(fails, t0 + timedelta(minutes=9), per_address=False)
    assert until == t0 + timedelta(minutes=18)


def test_throttle_policy_is_checked() -> None:
    with pytest.raises(ValueError):
        ThrottlePolicy(max_failures=0)
    with pytest.raises(ValueError):
        ThrottlePolicy(window=timedelta(0))


# ------------------------------------------------------------------------------ licence


def _uscc(rng: random.Random) -> str:
    body = rng.choice("159Y") + rng.choice("123") + f"{rng.randrange(10**6):06d}"
    body += "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + check_character(body)


def test_licence_report_agrees_with_the_domain_rule() -> None:
    rng = random.Random(3)
    for _ in range(300):
        code = _uscc(rng)
        assert check_licence(code).valid and is_valid_uscc(code)
        wrong = code[:17] + rng.choice([c for c in USCC_ALPHABET if c != code[17]])
        report = check_licence(wrong)
        assert not report.valid and report.expected_check == code[17]
        assert any("check character" in p.en for p in report.problems)


def test_licence_report_explains() -> None:
    report = check_licence(" 91350100m000100y43 ")
    assert report.valid and report.code == "91350100M000100Y43"
    assert report.authority is not None and report.kind is not None
    assert report.region == "350100"
    short = check_licence("9135")
    assert not short.valid and "4 characters, not 18" in short.problems[0].en
    bad = check_licence("91350100I000100Y43")
    assert not bad.valid and any("I" in p.en for p in bad.problems)
    unknown = check_licence("Z1350100M000100Y4" + "3")
    assert not unknown.valid


# ------------------------------------------------------------------------------ forms

_GOOD = {
    "company_name": "上海好味餐饮管理有限公司",
    "shop_name": "好味小馆",
    "license": "91350100M000100Y43",
    "legal_representative": "张三",
    "phone": "+86 138-0013-8000",
    "email": "Owner@Shop.CN",
    "city": "上海",
    "address": "南京东路 100 号",
    "mcc": "5812",
    "monthly_volume": "200000.00",
    "terminal_count": "2",
}


def test_application_form_parses() -> None:
    parsed, errors = parse_application(_GOOD)
    assert errors == {} and parsed is not None
    assert parsed.email == "owner@shop.cn" and parsed.monthly_volume == 20_000_000
    assert parsed.terminal_count == 2 and parsed.license == "91350100M000100Y43"
    again, _ = parse_application({**_GOOD, "shop_name": ""})
    assert again is not None and again.shop_name == _GOOD["company_name"][:25]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("license", "91350100M000100Y42"),
        ("license", "9135"),
        ("email", "not-an-address"),
        ("phone", "12"),
        ("mcc", "58A2"),
        ("monthly_volume", "-5"),
        ("monthly_volume", "1.234"),
        ("terminal_count", "0"),
        ("terminal_count", "21"),
        ("company_name", "x"),
        ("city", "a very long city name"),
        ("shop_name", "x" * 26),
    ],
)
def test_application_form_refuses(field: str, value: str) -> None:
    parsed, errors = parse_application({**_GOOD, field: value})
    assert parsed is None and set(errors) == {field}
    assert errors[field].zh_cn and errors[field].en


def test_control_characters_are_removed() -> None:
    parsed, _ = parse_application({**_GOOD, "company_name": "Best\x00 Shop\u202e\n  Ltd"})
    assert parsed is not None and parsed.company_name == "Best Shop Ltd"


def test_passwords_and_emails() -> None:
    assert check_password("long enough pass") is None
    assert check_password("short") is not None
    assert check_password("long enough pass", "another one!!") is not None
    assert check_password("aaaaaaaaaaaa") is not None
    assert check_password("me@shop.example", email="ME@shop.example") is not None
    assert normalize_email(" A@B.CN ") == "a@b.cn"
    assert normalize_email("a@b") is None and normalize_email("a b@c.cn") is None


# ------------------------------------------------------------------------------ filters


def test_filters_round_trip_through_the_query_string() -> None:
    params = {
        "from": "2026-03-01",
        "to": "2026-03-02",
        "status": "refunded",
        "terminal": "t000002",
        "wallet": "Alipay",
        "amount_min": "1.5",
        "amount_max": "20",
        "trade_no": "T1-0001",
        "sort": "amount",
        "dir": "asc",
        "size": "20",
    }
    f, errors = parse_filters(params, currency="CNY")
    assert errors == {}
    assert (f.status, f.terminal, f.wallet, f.amount_min, f.amount_max) == (
        "REFUNDED",
        "T000002",
        "alipay",
        150,
        2000,
    )
    assert (f.sort, f.descending, f.page_size) == ("amount", False, 20)
    again, _ = parse_filters(f.to_params("CNY"), currency="CNY")
    assert again == f
    assert TxnFilter().to_params("CNY") == {} and TxnFilter().is_empty


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"status": "PAID'; --"}, "status"),
        ({"terminal": "T1 OR 1=1"}, "terminal"),
        ({"wallet": "x" * 40}, "wallet"),
        ({"trade_no": "a' OR '1'='1"}, "trade_no"),
        ({"amount_min": "1e3"}, "amount_min"),
        ({"amount_min": "5", "amount_max": "1"}, "amount_max"),
    ],
)
def test_bad_filters_are_dropped_with_a_message(params: dict[str, str], field: str) -> None:
    f, errors = parse_filters(params, currency="CNY")
    assert field in errors and errors[field].en
    assert getattr(f, {"from": "date_from", "to": "date_to"}.get(field, field)) is None


def test_unknown_sort_and_size_fall_back() -> None:
    f, errors = parse_filters({"sort": "payer", "size": "1000000"}, currency="CNY")
    assert (f.sort, f.page_size, errors) == ("created_at", 50, {})


def test_day_range_is_the_local_day() -> None:
    start, end = day_range_utc(date(2026, 3, 2), SHANGHAI)
    assert start == datetime(2026, 3, 1, 16, tzinfo=UTC)
    assert end - start == timedelta(days=1)
    f = TxnFilter(date_from=date(2026, 3, 2), date_to=date(2026, 3, 3))
    assert f.utc_bounds(SHANGHAI) == (start, datetime(2026, 3, 3, 16, tzinfo=UTC))


def test_cursors_round_trip_and_refuse_garbage() -> None:
    stamp = datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=UTC).isoformat()
    for cursor in (Cursor("created_at", True, stamp, 7), Cursor("amount", False, 1234, 9, True)):
        assert decode_cursor(encode_cursor(cursor)) == cursor
    assert (
        decode_cursor(encode_cursor(Cursor("created_at", True, stamp, 7))).key_time().year == 2026
    )  # type: ignore[union-attr]
    for garbage in (
        "",
        "x",
        "!!!",
        "a" * 300,
        encode_cursor(Cursor("amount", True, "12", 1)),
        encode_cursor(Cursor("created_at", True, "2026-03-02T01:00:00", 1)),
        encode_cursor(Cursor("created_at", True, "not a time", 1)),
    ):
        assert decode_cursor(garbage) is None


# ------------------------------------------------------------------------------ stats


def test_summary_counts_success_rate_and_breakdowns() -> None:
    rows = [
        GroupRow("SUCCESS", "scanpay", "T000001", 8, 8000),
        GroupRow("PARTIALLY_REFUNDED", "scanpay", "T000002", 1, 5000),
        GroupRow("FAILED", "wechat_pay", "T000002", 2, 300),
        GroupRow("USER_PAYING", "scanpay", "T000001", 1, 100),
        GroupRow("REVERSED", "scanpay", "T000001", 1, 50),
    ]
    s = summarize(rows, Tally(1, 700))
    assert s.payments == Tally(9, 13000) and s.refunds == Tally(1, 700) and s.net == 12300
    assert (s.attempts, s.failed, s.pending) == (12, 2, 1)
    assert s.success_rate == "75.0 %"
    assert [b.key for b in s.by_wallet] == ["scanpay", "wechat_pay"]
    wechat = s.by_wallet[1]
    assert wechat.payments == Tally() and wechat.success_rate == "0.0 %"
    assert {b.key: b.payments.amount for b in s.by_terminal} == {"T000002": 5000, "T000001": 8000}
    assert percent(0, 0) == "-" and percent(2, 3) == "66.7 %" and percent(1, 8) == "12.5 %"


def _bucket(when: datetime) -> int:
    return int(when.timestamp()) // 900


def test_buckets_land_in_local_days_and_hours_at_any_offset() -> None:
    day = date(2026, 3, 2)
    local_start = datetime(2026, 3, 2, 0, 0, tzinfo=KOLKATA)
    just_before = local_start - timedelta(minutes=15)  # 23:45 the day before, local
    at_0930 = local_start + timedelta(hours=9, minutes=30)
    buckets = [
        (_bucket(just_before), 1, 100),
        (_bucket(local_start), 2, 200),
        (_bucket(at_0930), 3, 300),
        (_bucket(at_0930), 1, 50),
    ]
    days = daily_series(buckets, KOLKATA, [day - timedelta(days=1), day])
    assert days == [(day - timedelta(days=1), Tally(1, 100)), (day, Tally(6, 550))]
    hours = dict(hourly_series(buckets, KOLKATA, day))
    assert hours[0] == Tally(2, 200) and hours[9] == Tally(4, 350) and len(hours) == 24


# ------------------------------------------------------------------------------ charts


def test_nice_scale_is_the_smallest_round_step_that_covers() -> None:
    steps = [f * 10**e for e in range(12) for f in (1, 2, 5)]
    rng = random.Random(1)
    for value in [0, 1, 4, 5, 9, 10, 99, 100, 12345] + [rng.randrange(10**9) for _ in range(200)]:
        top, step = nice_scale(value)
        assert top == 4 * step >= value
        assert step == next(s for s in steps if 4 * s >= max(value, 1))


def test_chart_is_svg_with_escaped_text_and_no_style_attribute() -> None:
    points = [ChartPoint(f"<{i}>", i * 100, i, f"day & {i}") for i in range(10)]
    svg = combo_chart(points, title='a "title"', bar_name="<b>", line_name="n")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<0>" not in svg and "&lt;0&gt;" in svg and "day &amp; 3" in svg
    assert "style=" not in svg and "<script" not in svg
    assert svg.count('<rect class="bar"') == 11  # ten points and the legend
    assert combo_chart([], title="empty").startswith("<svg")


# ------------------------------------------------------------------------------ rows

_RECORD = ExportRecord(
    "P1",
    "=cmd|' /C calc'!A0",
    datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
    None,
    "T000001",
    "SUCCESS",
    "00",
    123456,
    0,
    "CNY",
    "scanpay",
    "880000********1234",
    '@SUM(1+1), "quoted"',
)


def test_export_row_is_local_safe_and_parses_back() -> None:
    values = export_values(_RECORD, SHANGHAI)
    assert values[1].startswith("'=") and values[12].startswith("'@")
    assert values[2] == "2026-03-02T09:00:00+08:00" and values[3] == ""
    assert values[7] == "1234.56" and values[8] == "0.00"
    parsed = next(csv.reader(io.StringIO(csv_line(values))))
    assert parsed == values
    raw = export_values(_RECORD, SHANGHAI, guard=False)
    assert raw[1] == _RECORD.out_trade_no


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@x", "\t=x", "\r=x"])
def test_csv_safe_disarms_formulas(text: str) -> None:
    assert csv_safe(text) == "'" + text
    assert csv_safe("T1-0001") == "T1-0001"


def test_group_digits() -> None:
    assert group_digits("1234567.89") == "1,234,567.89"
    assert group_digits("-1000") == "-1,000" and group_digits("999.00") == "999.00"


# ------------------------------------------------------------------------------ texts


def test_every_text_in_both_languages_and_placeholders_agree() -> None:
    for key, (zh, en) in TEXTS.items():
        assert zh.strip() and en.strip(), key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key
    assert translate("nav.today", "zh-CN") == "今日概览"
    assert translate("nav.today", "en-US") == "Today"
    with pytest.raises(KeyError):
        translate("no.such.key", "en")


def test_every_key_a_template_uses_exists() -> None:
    used: set[str] = set()
    prefixes: set[str] = set()
    for path in TEMPLATE_DIR.glob("*.html"):
        source = path.read_text()
        used.update(re.findall(r"""\bt\(\s*["']([a-z_.0-9]*[a-z0-9])["']""", source))
        prefixes.update(re.findall(r"""\bt(?:_or)?\(\s*["']([a-z_]+\.[a-z_]*)["']\s*~""", source))
    assert used, "no keys found"
    missing = sorted(k for k in used if k not in TEXTS)
    assert not missing, missing
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in TEXTS), prefix
    for status in (
        "SUCCESS",
        "USER_PAYING",
        "FAILED",
        "REVERSED",
        "REFUNDED",
        "PARTIALLY_REFUNDED",
    ):
        assert f"status.{status}" in TEXTS
    for role in Role:
        assert f"role.{role}" in TEXTS
