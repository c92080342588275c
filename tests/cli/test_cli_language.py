"""Command-line refusals in the person's language: ``--lang`` where a command has it,
otherwise the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``), English without one.

Each command runs in-process; a refused amount must change nothing.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scanpay.cli import app
from scanpay.i18n import Text
from scanpay.money import MoneyError, read_amount

runner = CliRunner()


def refusal(amount: str) -> tuple[str, Text]:
    """The code and words scanpay has for ``amount`` typed by a person."""
    with pytest.raises(MoneyError) as refused:
        read_amount(amount, "CNY")
    return refused.value.code, refused.value.text


# The variables are set or removed outright, so the machine's own locale cannot leak in.
NO_LOCALE: dict[str, str | None] = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": None}
CHINESE: dict[str, str | None] = {**NO_LOCALE, "LANG": "zh_CN.UTF-8"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh-CN"),
        ({"LANG": "zh_TW.UTF-8"}, "zh-CN"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh-CN"),
        ({"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_CN.GB18030"}, "zh-CN"),
        # An empty variable counts as unset, as for every Unix tool.
        ({"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}, "zh-CN"),
    ],
)
def test_the_locale_chooses_the_language(env: dict[str, str], expected: str) -> None:
    from scanpay.cli.language import cli_language

    assert cli_language(env) == expected


def test_an_explicit_choice_beats_the_locale() -> None:
    from scanpay.cli.language import choose_language

    assert choose_language("en", {"LANG": "zh_CN.UTF-8"}) == "en"
    assert choose_language("zh-CN", {"LANG": "C"}) == "zh-CN"
    assert choose_language(None, {"LANG": "zh_CN.UTF-8"}) == "zh-CN"
    assert choose_language(None, {}) == "en"


# --------------------------------------------------------------------------- scanpay demo


@pytest.mark.parametrize("amount", ["1,00", "abc"])
def test_demo_refuses_an_amount_in_the_chosen_language(tmp_path: Path, amount: str) -> None:
    folder = tmp_path / "demo"
    args = ["demo", "--headless", "--dir", str(folder), "--amount", amount]
    _, text = refusal(amount)
    chinese = runner.invoke(app, [*args, "--lang", "zh-CN"], env=NO_LOCALE)
    assert chinese.exit_code == 2, chinese.output
    assert text.zh_cn in chinese.stderr
    assert text.en not in chinese.output
    assert not folder.exists()  # refused before anything started
    english = runner.invoke(app, args, env=NO_LOCALE)
    assert english.exit_code == 2, english.output
    assert text.en in english.stderr
    assert not folder.exists()


def test_demo_without_lang_follows_the_locale(tmp_path: Path) -> None:
    args = ["demo", "--headless", "--dir", str(tmp_path / "demo"), "--amount", "1,00"]
    result = runner.invoke(app, args, env=CHINESE)
    assert result.exit_code == 2, result.output
    assert refusal("1,00")[1].zh_cn in result.stderr
    assert not (tmp_path / "demo").exists()


# --------------------------------------------------------------------------- scanpay host


def _host(tmp_path: Path) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        "SCANPAY_DATABASE_URL": f"sqlite:///{tmp_path / 'host.db'}",
        "SCANPAY_DATA_DIR": str(tmp_path / "data"),
    }
    done = runner.invoke(app, ["host", "init", "--json"], env={**env, **NO_LOCALE})
    assert done.exit_code == 0, done.output
    return env


def _rows(tmp_path: Path) -> tuple[int, int]:
    """(wallet accounts, audit records) in the host's database."""
    with sqlite3.connect(tmp_path / "host.db") as db:
        wallets = db.execute("SELECT count(*) FROM wallet_accounts").fetchone()[0]
        records = db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    return int(wallets), int(records)


OPEN = ["host", "wallet", "open", "--name", "Alice", "--pin", "135790"]


@pytest.mark.parametrize("amount", ["1,00", "abc"])
def test_host_refuses_an_amount_in_the_locale_language(tmp_path: Path, amount: str) -> None:
    env = _host(tmp_path)
    before = _rows(tmp_path)
    result = runner.invoke(app, [*OPEN, "--balance", amount], env={**env, **CHINESE})
    assert result.exit_code == 1, result.output
    line = result.stderr.strip().splitlines()[-1]
    # The stable code, its name and the field stay; the sentence is Chinese.
    assert line.startswith("已拒绝：13 ") and "(balance)" in line, line
    _, text = refusal(amount)
    assert line.endswith(text.zh_cn), line
    assert text.en not in result.output
    assert _rows(tmp_path) == before


def test_host_refusal_is_english_without_a_locale(tmp_path: Path) -> None:
    env = _host(tmp_path)
    before = _rows(tmp_path)
    result = runner.invoke(app, [*OPEN, "--balance", "1,00"], env={**env, **NO_LOCALE})
    assert result.exit_code == 1, result.output
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("refused: 13 ") and "(balance)" in line, line
    assert line.endswith(refusal("1,00")[1].en), line
    assert _rows(tmp_path) == before


def test_host_json_refusal_is_unchanged_by_the_locale(tmp_path: Path) -> None:
    env = _host(tmp_path)
    args = [*OPEN, "--balance", "abc", "--json"]
    chinese = runner.invoke(app, args, env={**env, **CHINESE})
    english = runner.invoke(app, args, env={**env, **NO_LOCALE})
    assert chinese.exit_code == english.exit_code == 1
    assert chinese.stdout == english.stdout
    error = json.loads(chinese.stdout)["error"]
    assert (error["code"], error["field"]) == ("13", "balance")
    assert set(error["message"]) == {"zh-CN", "en"}


def test_host_not_migrated_follows_the_locale(tmp_path: Path) -> None:
    env: dict[str, str | None] = {
        "SCANPAY_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "SCANPAY_DATA_DIR": str(tmp_path / "data"),
    }
    result = runner.invoke(app, ["host", "wallet", "balance", "0000000001"], env={**env, **CHINESE})
    assert result.exit_code == 1, result.output
    assert "scanpay host init" in result.stderr and "数据库" in result.stderr


@pytest.mark.parametrize(
    ("args", "zh", "en"),
    [
        (["host", "restore", "backup.db"], "确认请加 --yes", "pass --yes"),
        (["host", "settle", "--date", "7/12/2026"], "YYYY-MM-DD", "--date is YYYY-MM-DD"),
        (["host", "serve", "--certfile", "cert.pem"], "--keyfile", "or neither"),
    ],
)
def test_host_usage_errors_follow_the_locale(
    tmp_path: Path, args: list[str], zh: str, en: str
) -> None:
    env = _host(tmp_path)
    before = _rows(tmp_path)
    chinese = runner.invoke(app, args, env={**env, **CHINESE})
    english = runner.invoke(app, args, env={**env, **NO_LOCALE})
    assert chinese.exit_code == english.exit_code == 2, (chinese.output, english.output)
    assert zh in chinese.stderr and en not in chinese.stderr, chinese.stderr
    assert en in english.stderr, english.stderr
    assert _rows(tmp_path) == before


# --------------------------------------------------------------------------- scanpay code


MPM = ["code", "make", "mpm", "--name", "Tea House", "--city", "Fuzhou", "--mcc", "5814"]


@pytest.mark.parametrize("amount", ["1,00", "abc"])
def test_code_refuses_an_amount_in_the_locale_language(tmp_path: Path, amount: str) -> None:
    png = tmp_path / "code.png"
    result = runner.invoke(app, [*MPM, "--amount", amount, "--png", str(png)], env=CHINESE)
    assert result.exit_code == 2, result.output
    code, text = refusal(amount)
    # One line (a pipe or a log keeps it whole), the stable code and field kept.
    assert result.stderr.strip() == f"错误：{text.zh_cn} ({code}, amount)"
    assert text.en not in result.output
    assert result.stdout == "" and not png.exists()


def test_code_refusal_is_english_without_a_locale(tmp_path: Path) -> None:
    result = runner.invoke(app, [*MPM, "--amount", "1,00"], env=NO_LOCALE)
    assert result.exit_code == 2, result.output
    code, text = refusal("1,00")
    assert result.stderr.strip() == f"error: {text.en} ({code}, amount)"
    assert result.stdout == ""
