"""``scanpay host reconcile``: each network's statement of a day against the host's books.

``run`` fetches the statements and records what does not match (a *break*); ``runs``
and ``breaks`` read them back; ``resolve`` records an operator's decision on one. Lines
are in the operator's language (:func:`~scanpay.cli.language.cli_language`); the values
an operator types back (ids, trade numbers, kinds) stay as they are.
"""

from __future__ import annotations

from datetime import date

import typer

from scanpay.cli.host._shared import EXIT_REFUSED, JsonOption, actor, each, emit, run, usage
from scanpay.cli.language import cli_language
from scanpay.host.domain.break_policy import RESOLUTIONS, PolicyAction
from scanpay.host.domain.reconciliation import KIND_TEXTS, BreakKind
from scanpay.host.services import break_policy, reconciliation, reconciliation_records
from scanpay.host.services.reconciliation_records import BreakInfo, RunInfo, RunStatus
from scanpay.i18n import Text
from scanpay.money import MoneyError, format_amount

__all__ = ["app"]

app = typer.Typer(help="Daily reconciliation with each payment network's statement.")

RUN_LINE = Text(
    "{day} {network} {channel}：{status}，对上 {matched} 笔，"
    "差异 {open} 笔未处理、{resolved} 笔已处理",
    "{day} {network} {channel}: {status}, {matched} matched, {open} open breaks,"
    " {resolved} resolved",
)
STATUS = {
    RunStatus.DONE: Text("已对账", "reconciled"),
    RunStatus.STATEMENT_NOT_READY: Text("对账单未就绪", "statement not ready"),
}
BREAK_LINE = Text(
    "  #{id} {kind}（{words}）{trade}  本机构 {host}  网络 {network}",
    "  #{id} {kind} ({words}) {trade}  host {host}  network {network}",
)
DETAIL = Text("    说明：{detail}", "    detail: {detail}")
FEES = Text("    网络手续费：{fees}（已记账）", "    network fees: {fees} (booked)")
RESOLVED = Text(
    "    已处理：{resolution}（{who}，{when}）", "    resolved: {resolution} ({who}, {when})"
)
NOTHING = Text("没有对账记录", "no reconciliation runs")
NO_BREAKS = Text("没有对账差异", "no breaks")
BAD_DAY = ("日期格式为 YYYY-MM-DD", "the day is YYYY-MM-DD")


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        usage(*BAD_DAY)


def _money(amount: int | None, currency: str | None) -> str:
    if amount is None:
        return "-"
    try:
        return f"{format_amount(amount, currency)} {currency}" if currency else str(amount)
    except MoneyError:  # a statement's currency we do not know: its minor units as given
        return f"{amount} {currency}"


def _show_break(item: BreakInfo, language: str) -> None:
    trade = item.trade_no + (f"/{item.refund_no}" if item.refund_no else "")
    words = KIND_TEXTS[item.kind].get(language)
    typer.echo(
        BREAK_LINE.format(
            id=item.id,
            kind=item.kind.value,
            words=words,
            trade=trade,
            host=_money(item.host_amount, item.currency),
            network=_money(item.network_amount, item.currency),
        ).get(language)
    )
    detail = item.detail_text
    if detail is not None:
        typer.echo(DETAIL.format(detail=detail.get(language)).get(language))
    if item.resolved_at is not None:
        line = RESOLVED.format(
            resolution=item.resolution,
            who=item.resolved_by,
            when=f"{item.resolved_at:%Y-%m-%d %H:%M}",
        )
        typer.echo(line.get(language))


def _show_run(item: RunInfo, language: str) -> None:
    line = RUN_LINE.format(
        day=item.day.isoformat(),
        network=item.network,
        channel=item.channel_key,
        status=STATUS[item.status].get(language),
        matched=item.matched,
        open=item.open_breaks,
        resolved=item.resolved_breaks,
    )
    typer.echo(line.get(language))
    if item.fees:
        shown = ", ".join(
            f"{format_amount(amount, currency)} {currency}"
            for currency, amount in sorted(item.fees.items())
        )
        typer.echo(FEES.format(fees=shown).get(language))
    for found in item.breaks:
        _show_break(found, language)


@app.command("run")
def run_command(
    day: str = typer.Option(..., "--day", help="The network's day, YYYY-MM-DD."),
    network: str | None = typer.Option(None, "--network", help="One network (default: all)."),
    as_json: bool = JsonOption,
) -> None:
    """Fetch each channel's statement of DAY, match it with the host's records and
    record the breaks; exit 1 when a break is open or a statement was not ready."""
    wanted = _day(day)
    assert wanted is not None
    runs = run(
        as_json,
        lambda ctx: reconciliation.reconcile(ctx, wanted, network, actor=actor()),
    )
    language = cli_language()
    emit(as_json, [r.to_dict() for r in runs], lambda: _show_runs(runs, language))
    if any(r.open_breaks or r.status is not RunStatus.DONE for r in runs):
        raise typer.Exit(EXIT_REFUSED)


def _show_runs(runs: list[RunInfo], language: str) -> None:
    if not runs:
        typer.echo(NOTHING.get(language))
    each(runs, lambda r: _show_run(r, language))


@app.command("runs")
def runs_command(
    day: str | None = typer.Option(None, "--day", help="YYYY-MM-DD"),
    network: str | None = typer.Option(None, "--network"),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
    as_json: bool = JsonOption,
) -> None:
    """The recorded runs, newest day first."""
    wanted = _day(day)
    runs = run(
        as_json,
        lambda ctx: reconciliation_records.list_runs(ctx, day=wanted, network=network, limit=limit),
    )
    language = cli_language()
    emit(as_json, [r.to_dict() for r in runs], lambda: _show_runs(runs, language))


@app.command("breaks")
def breaks_command(
    day: str | None = typer.Option(None, "--day", help="YYYY-MM-DD"),
    network: str | None = typer.Option(None, "--network"),
    merchant: str | None = typer.Option(None, "--merchant", help="M... (one merchant's)"),
    kind: BreakKind | None = typer.Option(None, "--kind"),
    open_only: bool = typer.Option(False, "--open", help="Only those not resolved yet."),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
    as_json: bool = JsonOption,
) -> None:
    """The breaks found, newest day first."""
    wanted = _day(day)
    items = run(
        as_json,
        lambda ctx: reconciliation_records.list_breaks(
            ctx,
            day=wanted,
            network=network,
            merchant=merchant,
            kind=kind,
            resolved=False if open_only else None,
            limit=limit,
        ),
    )
    language = cli_language()

    def human() -> None:
        if not items:
            typer.echo(NO_BREAKS.get(language))
        for item in items:
            typer.echo(f"{item.day.isoformat()} {item.network} {item.channel_key}")
            _show_break(item, language)

    emit(as_json, [i.to_dict() for i in items], human)


POLICY_LINE = Text(
    "  #{id} {kind} {trade}：{action}{outcome}", "  #{id} {kind} {trade}: {action}{outcome}"
)
POLICY_ACTIONS = {
    PolicyAction.REVERSE: Text("在网络撤销", "reverse at the network"),
    PolicyAction.QUERY: Text("向网络查询", "query the network"),
    PolicyAction.QUERY_REFUND: Text("向网络查询退款", "query the refund"),
    PolicyAction.WAIT: Text("等待支付流程完成", "wait for the payment's leg"),
    PolicyAction.OPERATOR: Text("留待操作员处理", "left to an operator"),
}
POLICY_RESOLVED = Text("，已处理：{text}", " - resolved: {text}")
POLICY_OPEN = Text("，仍未处理（{code}）", " - still open ({code})")
POLICY_NOTHING = Text("没有未处理的差异", "no open breaks")


@app.command("policy")
def policy_command(
    day: str | None = typer.Option(None, "--day", help="YYYY-MM-DD (default: every day)"),
    network: str | None = typer.Option(None, "--network"),
    as_json: bool = JsonOption,
) -> None:
    """Resolve what the host can by itself: reverse at the network a charge for a sale
    the host failed; query a capture or refund the statement lacks. The rest stays open
    for an operator (audited as host:policy)."""
    wanted = _day(day)
    results = run(as_json, lambda ctx: break_policy.apply_policy(ctx, day=wanted, network=network))
    language = cli_language()

    def human() -> None:
        if not results:
            typer.echo(POLICY_NOTHING.get(language))
        for item in results:
            outcome = Text("", "")
            if item.resolution is not None:
                outcome = POLICY_RESOLVED.format(text=RESOLUTIONS[item.resolution].get(language))
            elif item.action in (
                PolicyAction.REVERSE,
                PolicyAction.QUERY,
                PolicyAction.QUERY_REFUND,
            ):
                outcome = POLICY_OPEN.format(code=item.network_code or "-")
            line = POLICY_LINE.format(
                id=item.break_id,
                kind=item.kind,
                trade=item.trade_no,
                action=POLICY_ACTIONS[item.action].get(language),
                outcome=outcome.get(language),
            )
            typer.echo(line.get(language))

    emit(as_json, [r.to_dict() for r in results], human)


@app.command("resolve")
def resolve_command(
    break_id: int = typer.Argument(..., help="The break's number (#N in `breaks`)."),
    resolution: str = typer.Option(..., "--resolution", help="What was decided, in words."),
    as_json: bool = JsonOption,
) -> None:
    """Record the operator's decision on a break (audited; once only)."""
    item = run(
        as_json,
        lambda ctx: reconciliation_records.resolve_break(ctx, break_id, resolution, actor()),
    )
    language = cli_language()
    emit(as_json, item.to_dict(), lambda: _show_break(item, language))
