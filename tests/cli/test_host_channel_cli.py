"""``scanpay host channel`` speaks the locale's language: in zh-CN no line a person reads
is English (the values typed back, ids, a network, a secret's name, stay as they are);
in English every line is what it was; ``--json`` is the same in both.

Each command runs in-process on a fresh SQLite database.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from host.kit import LICENCE
from scanpay.cli import app
from scanpay.host.services import network_legs
from scanpay.host.settings import HostSettings

runner = CliRunner()

NO_LOCALE: dict[str, str | None] = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": None}
CHINESE: dict[str, str | None] = {**NO_LOCALE, "LANG": "zh_CN.UTF-8"}
WECHAT = "wechat_pay"
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# A Chinese term may end in Latin letters (应用ID, WeChat's own word): not English.
_TERM_TAIL = re.compile(r"(?<=[\u4e00-\u9fff])[A-Z]+")
_ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")


@dataclass
class Host:
    """An initialised host database and the merchant, account and secrets in it."""

    env: dict[str, str | None]
    merchant: str
    folder: Path

    def run(self, *args: str, locale: dict[str, str | None], code: int = 0) -> Any:
        result = runner.invoke(app, ["host", *args], env={**self.env, **locale})
        assert result.exit_code == code, result.output
        return result

    def secret(self, name: str, value: str) -> str:
        path = self.folder / f"{name}.txt"
        path.write_text(value + "\n")
        return f"{name}=@{path}"

    def zone(self) -> str:
        """The timezone the commands show times in (as they read the environment)."""
        env = {**os.environ, **{k: v for k, v in self.env.items() if v is not None}}
        for name in (k for k, v in self.env.items() if v is None):
            env.pop(name, None)
        return HostSettings.from_env(env).zone.key


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    env: dict[str, str | None] = {
        "SCANPAY_DATABASE_URL": f"sqlite:///{tmp_path / 'host.db'}",
        "SCANPAY_DATA_DIR": str(tmp_path / "data"),
        "SCANPAY_MASTER_KEY": None,
        "SCANPAY_MASTER_KEY_FILE": None,
    }
    made = Host(env, "", tmp_path)
    made.run("init", locale=NO_LOCALE)
    added = made.run(
        "merchant", "add", "--name", "Tea House", "--city", "Xiamen", "--mcc", "5814",
        "--license", LICENCE, "--json", locale=NO_LOCALE,
    )  # fmt: skip
    made.merchant = json.loads(added.stdout)["merchant_id"]
    yield made


def _values(data: Any) -> set[str]:
    """Every value in a ``--json`` answer, and every secret's name: what a line may show
    as it is in any language."""
    if isinstance(data, dict):
        return {str(k) for k in data.get("secrets", {})} | {
            v for item in data.values() for v in _values(item)
        }
    if isinstance(data, list):
        return {v for item in data for v in _values(item)}
    return {str(data)} if data not in (None, "") else set()


def _english_left(line: str, values: set[str]) -> list[str]:
    """The English words of ``line`` once the values shown as they are are taken out."""
    for value in sorted(values, key=len, reverse=True):
        line = line.replace(value, " ")
    return _ENGLISH_WORD.findall(_TERM_TAIL.sub(" ", line))


def _assert_chinese(output: str, values: set[str]) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines, "nothing was printed"
    for line in lines:
        assert _CJK.search(line), f"an English-only line in zh-CN: {line!r}"
        assert not _english_left(line, values), (line, _english_left(line, values))


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_the_check_finds_an_english_line() -> None:
    """The detector itself: an untranslated line, or a half-translated one, fails it."""
    with pytest.raises(AssertionError):
        _assert_chinese("removed network account sp", {"sp"})
    with pytest.raises(AssertionError):
        _assert_chinese("sp  wechat_pay  应用ID wx1  channels 0", {"sp", WECHAT, "wx1", "0"})
    _assert_chinese("sp  wechat_pay  应用ID wx1  渠道 0 个", {"sp", WECHAT, "wx1", "0"})


def test_channel_commands_speak_chinese_in_a_chinese_locale(host: Host) -> None:
    zone = f"({host.zone()})"
    said: list[tuple[str, set[str]]] = []

    def chinese(*args: str) -> str:
        """The command's text in zh-CN, and the values it may show (from its JSON)."""
        shown = host.run(*args, locale=CHINESE).stdout
        data = json.loads(host.run(*args, "--json", locale=CHINESE).stdout)
        said.append((shown, _values(data) | {zone, "-"}))
        return str(shown)

    account = host.run(
        "channel", "account", "add", "--network", WECHAT, "--label", "sp-main",
        "--app-id", "wx8888888888888888", "--mch-id", "1900000109",
        "--secret", host.secret("api_v3_key", "k" * 32), locale=CHINESE,
    ).stdout  # fmt: skip
    assert "应用ID wx8888888888888888  商户号 1900000109" in account
    host.run(
        "channel", "account", "update", "sp-main",
        "--secret", host.secret("private_key", "p" * 40), locale=CHINESE,
    )  # fmt: skip
    host.run(
        "channel", "add", "--merchant", host.merchant, "--network", WECHAT,
        "--mode", "service_provider", "--account", "sp-main", "--sub-mch-id", "1900000110",
        "--sub-app-id", "wx1234", locale=CHINESE,
    )  # fmt: skip
    chinese("channel", "account", "list")
    listed = chinese("channel", "list")
    assert "服务商模式" in listed and "已启用" in listed and "子商户号 1900000110" in listed
    shown = chinese("channel", "show", "--merchant", host.merchant, "--network", WECHAT)
    assert "（网络账户的）" in shown
    # The values stand in one column, however wide the names are on a terminal.
    value_columns = set()
    for line in shown.splitlines():
        label = line.split(" ", 1)[0]
        gap = len(line) - len(label) - len(line[len(label) :].lstrip(" "))
        value_columns.add(_columns(label) + gap)
    assert len(value_columns) == 1, shown
    host.run(
        "channel", "update", "--merchant", host.merchant, "--network", WECHAT, "--disable",
        locale=CHINESE,
    )  # fmt: skip
    assert "已停用" in chinese("channel", "list")
    gone = host.run(
        "channel", "remove", "--merchant", host.merchant, "--network", WECHAT, locale=CHINESE
    ).stdout
    said.append((gone, {host.merchant, WECHAT}))
    host.run(
        "channel", "add", "--merchant", host.merchant, "--network", WECHAT, "--mode", "direct",
        "--app-id", "wx5555", "--mch-id", "1230000109",
        "--secret", host.secret("api_key", "a" * 32), locale=CHINESE,
    )  # fmt: skip
    direct = chinese("channel", "show", "--merchant", host.merchant, "--network", WECHAT)
    assert "直连模式" in direct and "（渠道自己的）" in direct
    chinese("channel", "list")
    host.run("channel", "remove", "--merchant", host.merchant, "--network", WECHAT, locale=CHINESE)
    removed = host.run("channel", "account", "remove", "sp-main", locale=CHINESE).stdout
    said.append((removed, {"sp-main"}))
    assert removed.strip() == "已删除网络账户 sp-main"
    assert gone.strip() == f"已删除商户 {host.merchant} 的 {WECHAT} 渠道"
    for output, values in said:
        _assert_chinese(output, values)


def test_channel_commands_say_in_english_what_they_said(host: Host) -> None:
    """Without a locale each line is the one the commands printed before they spoke
    Chinese too."""
    m = host.merchant
    account = host.run(
        "channel", "account", "add", "--network", WECHAT, "--label", "sp",
        "--app-id", "wx8888", "--mch-id", "1900000109",
        "--secret", host.secret("api_v3_key", "k" * 32), locale=NO_LOCALE,
    ).stdout  # fmt: skip
    mark = json.loads(host.run("channel", "account", "list", "--json", locale=NO_LOCALE).stdout)[0][
        "secrets"
    ]["api_v3_key"]
    assert account == (
        f"sp  wechat_pay  app_id wx8888  mch_id 1900000109  channels 0  secrets api_v3_key {mark}\n"
    )
    added = host.run(
        "channel", "add", "--merchant", m, "--network", WECHAT, "--mode", "service_provider",
        "--account", "sp", "--sub-mch-id", "1900000110", "--sub-app-id", "wx1", locale=NO_LOCALE,
    ).stdout  # fmt: skip
    assert added == (
        f"{m}  wechat_pay  service_provider  enabled  account sp  sub_mch_id 1900000110"
        "  sub_app_id wx1\n"
    )
    shown = host.run("channel", "show", "--merchant", m, "--network", WECHAT, locale=NO_LOCALE)
    lines = shown.stdout.splitlines()
    assert lines[:-1] == [
        f"merchant    {m}",
        "network     wechat_pay",
        "mode        service_provider",
        "enabled     yes",
        "account     sp",
        "app_id      wx8888",
        "mch_id      1900000109",
        "sub_mch_id  1900000110",
        "sub_app_id  wx1",
        f"secrets     api_v3_key {mark} (the account's)",
    ]
    assert re.fullmatch(r"updated     \d{4}-\d\d-\d\d \d\d:\d\d \(.+\)", lines[-1]), lines[-1]
    gone = host.run("channel", "remove", "--merchant", m, "--network", WECHAT, locale=NO_LOCALE)
    assert gone.stdout == f"removed the wechat_pay channel of {m}\n"
    removed = host.run("channel", "account", "remove", "sp", locale=NO_LOCALE)
    assert removed.stdout == "removed network account sp\n"


def test_channel_json_is_the_same_in_every_language(host: Host) -> None:
    host.run(
        "channel", "add", "--merchant", host.merchant, "--network", WECHAT, "--mode", "direct",
        "--app-id", "wx5555", "--mch-id", "1230000109",
        "--secret", host.secret("api_key", "a" * 32), locale=NO_LOCALE,
    )  # fmt: skip
    for args in (
        ["channel", "list", "--json"],
        ["channel", "show", "--merchant", host.merchant, "--network", WECHAT, "--json"],
        ["channel", "legs", "--all", "--json"],
        ["channel", "show", "--merchant", "M999999", "--network", WECHAT, "--json"],
    ):
        code = 1 if "M999999" in args else 0
        chinese = host.run(*args, locale=CHINESE, code=code).stdout
        assert chinese and chinese == host.run(*args, locale=NO_LOCALE, code=code).stdout


def _leg(merchant: str) -> network_legs.LegInfo:
    return network_legs.LegInfo(
        trade_no="SP0000000001",
        network=WECHAT,
        merchant_id=merchant,
        out_trade_no="T-1",
        payment_status="USER_PAYING",
        status="REVERSING",
        amount=1234,
        currency="CNY",
        network_code=None,
        reverse_tries=2,
        next_at=datetime(2026, 7, 1, 4, 5, 6, tzinfo=UTC),
        created_at=datetime(2026, 7, 1, 4, 0, tzinfo=UTC),
    )


def test_channel_legs_in_both_languages(host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    leg = _leg(host.merchant)
    monkeypatch.setattr(network_legs, "list_legs", lambda ctx, **_: [leg])
    english = host.run("channel", "legs", locale=NO_LOCALE).stdout
    assert english == (
        f"SP0000000001  wechat_pay  {host.merchant}/T-1  12.34  REVERSING   payment USER_PAYING "
        "network -  reverse tries 2  next 2026-07-01T04:05:06+00:00\n"
    )
    chinese = host.run("channel", "legs", locale=CHINESE).stdout
    assert "撤销尝试 2 次" in chinese and "付款 USER_PAYING" in chinese
    values = _values(leg.to_dict()) | {"12.34", "-"}
    _assert_chinese(chinese, values)
