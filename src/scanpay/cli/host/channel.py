"""``scanpay host channel``: each merchant's channel into a payment network, the acquirer's
own accounts at the networks (``channel account``), and the payments' legs there.

Secrets are write-only: they are read from files or stdin (never the command line) and
shown by name and fingerprint, never by value. What a person reads is in the locale's
language (:func:`~scanpay.cli.language.cli_language`); the values an operator types back
(ids, a network, a mode, a secret's name, a status) stay as they are in both.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

import typer

from scanpay.cli.host._shared import JsonOption, actor, each, emit, local_time, run
from scanpay.cli.language import cli_language
from scanpay.cli.secret_input import read_secrets
from scanpay.host.services import channels, network_accounts, network_legs
from scanpay.i18n import Language, Text
from scanpay.money import format_amount
from scanpay.networks.port import ChannelMode

__all__ = ["app"]

app = typer.Typer(
    help="Payment network channels: each merchant's way into WeChat Pay and the like "
    "(secrets are write-only: names and fingerprints are shown, never values)."
)
account_app = typer.Typer(
    help="The acquirer's own accounts at payment networks (service-provider mode)."
)
app.add_typer(account_app, name="account")

SecretOption = typer.Option(
    None,
    "--secret",
    help="NAME=@FILE (read from the file) or NAME=- (from stdin; prompted, hidden, on a "
    "terminal); repeat for each secret. NAME=VALUE is refused: the value would stay in "
    "the shell's history and show in the process list.",
)
DropSecretOption = typer.Option(None, "--drop-secret", help="Remove the secret NAME.")

# The Chinese words are WeChat Pay's own for its fields (应用ID, 商户号, 子商户号...), so
# that a line reads as the network's documents and back office name them.
ACCOUNT_LINE = Text(
    "{label}  {network}  应用ID {app_id}  商户号 {mch_id}  渠道 {channels} 个  机密 {secrets}",
    "{label}  {network}  app_id {app_id}  mch_id {mch_id}  channels {channels}  secrets {secrets}",
)
ACCOUNT_REMOVED = Text("已删除网络账户 {label}", "removed network account {label}")
CHANNEL_REMOVED = Text(
    "已删除商户 {merchant} 的 {network} 渠道", "removed the {network} channel of {merchant}"
)
LEG_LINE = Text(
    "{trade_no}  {network}  {merchant}/{out_trade_no}  {amount}  {status:<11} "
    "付款 {payment:<11} 网络返回码 {code}  撤销尝试 {tries} 次  下次 {next}",
    "{trade_no}  {network}  {merchant}/{out_trade_no}  {amount}  {status:<11} "
    "payment {payment:<11} network {code}  reverse tries {tries}  next {next}",
)
UNDER_ACCOUNT = Text("网络账户 {account}", "account {account}")
UNDER_OWN_IDS = Text("应用ID {app_id}  商户号 {mch_id}", "app_id {app_id}  mch_id {mch_id}")
SUB_MCH_ID = Text("  子商户号 {id}", "  sub_mch_id {id}")
SUB_APP_ID = Text("  子商户应用ID {id}", "  sub_app_id {id}")
ENABLED = Text("已启用", "enabled")
DISABLED = Text("已停用", "disabled")
YES = Text("是", "yes")
NO = Text("否", "no")
# The mode's value stays beside its Chinese name: it is what --mode takes.
MODES = {
    ChannelMode.SERVICE_PROVIDER: Text("服务商模式（service_provider）", "service_provider"),
    ChannelMode.DIRECT: Text("直连模式（direct）", "direct"),
}
SECRETS_OF = Text("{secrets}（{whose}）", "{secrets} ({whose})")
ACCOUNTS_SECRETS = Text("网络账户的", "the account's")
OWN_SECRETS = Text("渠道自己的", "the channel's own")
# `channel show`: one field a line, the names in a column.
FIELDS = {
    "merchant": Text("商户", "merchant"),
    "network": Text("支付网络", "network"),
    "mode": Text("模式", "mode"),
    "enabled": Text("启用", "enabled"),
    "account": Text("网络账户", "account"),
    "app_id": Text("应用ID", "app_id"),
    "mch_id": Text("商户号", "mch_id"),
    "sub_mch_id": Text("子商户号", "sub_mch_id"),
    "sub_app_id": Text("子商户应用ID", "sub_app_id"),
    "secrets": Text("机密", "secrets"),
    "updated": Text("更新时间", "updated"),
}
# The names' column: 11 wide, or as wide as the widest name in the language.
_FIELD_WIDTH = 11


def _stdin_secret(name: str) -> str:
    """A secret from stdin: typed unseen at a terminal, else all of what is piped in."""
    import sys

    if sys.stdin.isatty():
        return str(typer.prompt(name, hide_input=True))
    return sys.stdin.read()


def _secrets_line(secrets: Mapping[str, str]) -> str:
    """Secrets by name and fingerprint (never a value)."""
    return ", ".join(f"{name} {mark}" for name, mark in secrets.items()) or "-"


def _columns(text: str) -> int:
    """The terminal columns ``text`` takes: a Chinese character takes two, so ``len``
    would leave the values of ``channel show`` out of line."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _mode(mode: ChannelMode, language: Language) -> str:
    return MODES.get(mode, Text(mode.value, mode.value)).get(language)


def _print_account(a: network_accounts.AccountInfo) -> None:
    line = ACCOUNT_LINE.format(
        label=a.label,
        network=a.network,
        app_id=a.app_id,
        mch_id=a.mch_id,
        channels=a.channels,
        secrets=_secrets_line(a.secrets),
    )
    typer.echo(line.get(cli_language()))


def _print_leg(leg: network_legs.LegInfo) -> None:
    line = LEG_LINE.format(
        trade_no=leg.trade_no,
        network=leg.network,
        merchant=leg.merchant_id,
        out_trade_no=leg.out_trade_no,
        amount=format_amount(leg.amount, leg.currency),
        status=leg.status,
        payment=leg.payment_status,
        code=leg.network_code or "-",
        tries=leg.reverse_tries,
        next=leg.next_at.isoformat(timespec="seconds") if leg.next_at else "-",
    )
    typer.echo(line.get(cli_language()))


def _print_channel(c: channels.ChannelInfo) -> None:
    language = cli_language()
    if c.account:
        under = UNDER_ACCOUNT.format(account=c.account)
    else:
        under = UNDER_OWN_IDS.format(app_id=c.app_id, mch_id=c.mch_id)
    subs = SUB_MCH_ID.format(id=c.sub_mch_id).get(language) if c.sub_mch_id else ""
    subs += SUB_APP_ID.format(id=c.sub_app_id).get(language) if c.sub_app_id else ""
    state = (ENABLED if c.enabled else DISABLED).get(language)
    typer.echo(
        f"{c.merchant_id}  {c.network}  {_mode(c.mode, language)}  {state}  "
        f"{under.get(language)}{subs}"
    )


def _show_channel(c: channels.ChannelInfo) -> None:
    language = cli_language()
    whose = ACCOUNTS_SECRETS if c.secrets_from == "account" else OWN_SECRETS
    secrets = SECRETS_OF.format(secrets=_secrets_line(c.secrets), whose=whose.get(language))
    labels = {field: text.get(language) for field, text in FIELDS.items()}
    width = max(_FIELD_WIDTH, *(_columns(label) for label in labels.values()))
    for field, value in (
        ("merchant", c.merchant_id),
        ("network", c.network),
        ("mode", _mode(c.mode, language)),
        ("enabled", (YES if c.enabled else NO).get(language)),
        ("account", c.account or "-"),
        ("app_id", c.app_id),
        ("mch_id", c.mch_id),
        ("sub_mch_id", c.sub_mch_id or "-"),
        ("sub_app_id", c.sub_app_id or "-"),
        ("secrets", secrets.get(language)),
        ("updated", local_time(c.updated_at, "%Y-%m-%d %H:%M")),
    ):
        label = labels[field]
        typer.echo(f"{label}{' ' * (width - _columns(label))} {value}")


@app.command("legs")
def channel_legs(
    every: bool = typer.Option(
        False, "--all", help="Settled legs too (default: only those still in doubt or reversing)."
    ),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
    as_json: bool = JsonOption,
) -> None:
    """Payments at the networks, newest first: what each leg waits for. A leg listed
    long after its deadline is a reverse the network keeps refusing: look at it."""
    items = run(as_json, lambda ctx: network_legs.list_legs(ctx, unsettled=not every, limit=limit))
    emit(as_json, [leg.to_dict() for leg in items], lambda: each(items, _print_leg))


@account_app.command("add")
def channel_account_add(
    network: str = typer.Option(..., "--network", help="The network (wechat_pay)."),
    label: str = typer.Option(..., "--label", help="Your name for it (what --account names)."),
    app_id: str = typer.Option(..., "--app-id", help="The account's app id (sp_appid)."),
    mch_id: str = typer.Option(..., "--mch-id", help="The account's merchant id (sp_mchid)."),
    secret: list[str] | None = SecretOption,
    as_json: bool = JsonOption,
) -> None:
    """Add the acquirer's account at a network; merchants' service-provider channels
    hang under it as sub-merchants."""
    info = run(
        as_json,
        lambda ctx: network_accounts.add_account(
            ctx,
            network=network,
            label=label,
            app_id=app_id,
            mch_id=mch_id,
            secrets=read_secrets(secret or [], _stdin_secret),
            actor=actor(),
        ),
    )
    emit(as_json, info.to_dict(), lambda: _print_account(info))


@account_app.command("update")
def channel_account_update(
    label: str,
    app_id: str | None = typer.Option(None, "--app-id"),
    mch_id: str | None = typer.Option(None, "--mch-id"),
    secret: list[str] | None = SecretOption,
    drop_secret: list[str] | None = DropSecretOption,
    as_json: bool = JsonOption,
) -> None:
    """Change an account's ids or secrets (a secret given replaces the one of its name);
    every channel under it pays with the change from its next payment."""
    info = run(
        as_json,
        lambda ctx: network_accounts.update_account(
            ctx,
            label,
            app_id=app_id,
            mch_id=mch_id,
            secrets=read_secrets(secret or [], _stdin_secret),
            drop=drop_secret or [],
            actor=actor(),
        ),
    )
    emit(as_json, info.to_dict(), lambda: _print_account(info))


@account_app.command("list")
def channel_account_list(
    network: str | None = typer.Option(None, "--network"), as_json: bool = JsonOption
) -> None:
    """The network accounts, their secrets by name and fingerprint."""
    items = run(as_json, lambda ctx: network_accounts.list_accounts(ctx, network))
    emit(as_json, [a.to_dict() for a in items], lambda: each(items, _print_account))


@account_app.command("remove")
def channel_account_remove(label: str, as_json: bool = JsonOption) -> None:
    """Remove an account no channel uses any more (with its secrets)."""
    info = run(as_json, lambda ctx: network_accounts.remove_account(ctx, label, actor=actor()))
    emit(
        as_json,
        info.to_dict(),
        lambda: typer.echo(ACCOUNT_REMOVED.format(label=info.label).get(cli_language())),
    )


@app.command("add")
def channel_add(
    merchant: str = typer.Option(..., "--merchant", help="Merchant id (M...)."),
    network: str = typer.Option(..., "--network", help="The network (wechat_pay)."),
    mode: str = typer.Option(
        ...,
        "--mode",
        help="service_provider (a sub-merchant under a network account) or direct "
        "(the merchant's own account).",
    ),
    account: str | None = typer.Option(
        None, "--account", help="service_provider: the network account's label."
    ),
    sub_mch_id: str | None = typer.Option(None, "--sub-mch-id", help="service_provider."),
    sub_app_id: str | None = typer.Option(None, "--sub-app-id", help="service_provider."),
    app_id: str | None = typer.Option(None, "--app-id", help="direct: the merchant's app id."),
    mch_id: str | None = typer.Option(None, "--mch-id", help="direct: its merchant id."),
    secret: list[str] | None = SecretOption,
    disabled: bool = typer.Option(False, "--disabled", help="Add it switched off."),
    as_json: bool = JsonOption,
) -> None:
    """Give a merchant its channel to a network (one per network)."""
    info = run(
        as_json,
        lambda ctx: channels.add_channel(
            ctx,
            merchant,
            network=network,
            mode=mode,
            account=account,
            sub_mch_id=sub_mch_id,
            sub_app_id=sub_app_id,
            app_id=app_id,
            mch_id=mch_id,
            secrets=read_secrets(secret or [], _stdin_secret),
            enabled=not disabled,
            actor=actor(),
        ),
    )
    emit(as_json, info.to_dict(), lambda: _print_channel(info))


@app.command("update")
def channel_update(
    merchant: str = typer.Option(..., "--merchant", help="Merchant id (M...)."),
    network: str = typer.Option(..., "--network"),
    account: str | None = typer.Option(None, "--account", help="service_provider."),
    sub_mch_id: str | None = typer.Option(None, "--sub-mch-id", help="service_provider."),
    sub_app_id: str | None = typer.Option(
        None, "--sub-app-id", help='service_provider ("" removes it).'
    ),
    app_id: str | None = typer.Option(None, "--app-id", help="direct."),
    mch_id: str | None = typer.Option(None, "--mch-id", help="direct."),
    secret: list[str] | None = SecretOption,
    drop_secret: list[str] | None = DropSecretOption,
    enabled: bool | None = typer.Option(None, "--enable/--disable"),
    as_json: bool = JsonOption,
) -> None:
    """Change a merchant's channel within its mode, or switch it on or off (to change
    the mode, remove it and add it again)."""
    info = run(
        as_json,
        lambda ctx: channels.update_channel(
            ctx,
            merchant,
            network,
            account=account,
            sub_mch_id=sub_mch_id,
            sub_app_id=sub_app_id,
            app_id=app_id,
            mch_id=mch_id,
            secrets=read_secrets(secret or [], _stdin_secret),
            drop=drop_secret or [],
            enabled=enabled,
            actor=actor(),
        ),
    )
    emit(as_json, info.to_dict(), lambda: _print_channel(info))


@app.command("list")
def channel_list(
    merchant: str | None = typer.Option(None, "--merchant"),
    network: str | None = typer.Option(None, "--network"),
    as_json: bool = JsonOption,
) -> None:
    """Merchants' channels (of one merchant, to one network, when given)."""
    items = run(as_json, lambda ctx: channels.list_channels(ctx, merchant, network))
    emit(as_json, [c.to_dict() for c in items], lambda: each(items, _print_channel))


@app.command("show")
def channel_show(
    merchant: str = typer.Option(..., "--merchant", help="Merchant id (M...)."),
    network: str = typer.Option(..., "--network"),
    as_json: bool = JsonOption,
) -> None:
    """One merchant's channel, with the ids and secrets (names, fingerprints) it pays with."""
    info = run(as_json, lambda ctx: channels.get_channel(ctx, merchant, network))
    emit(as_json, info.to_dict(), lambda: _show_channel(info))


@app.command("remove")
def channel_remove(
    merchant: str = typer.Option(..., "--merchant", help="Merchant id (M...)."),
    network: str = typer.Option(..., "--network"),
    as_json: bool = JsonOption,
) -> None:
    """Remove a merchant's channel (with its secrets): its codes of that network are then
    declined as not served."""
    info = run(as_json, lambda ctx: channels.remove_channel(ctx, merchant, network, actor=actor()))
    emit(
        as_json,
        info.to_dict(),
        lambda: typer.echo(
            CHANNEL_REMOVED.format(network=info.network, merchant=info.merchant_id).get(
                cli_language()
            )
        ),
    )
