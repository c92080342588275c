"""``scanpay chaos``: many sales under faults, then the exactly-once invariants.

Drives ``--sales`` sales from ``--terminals`` real terminal agents against a
real host (SQLite, or a private PostgreSQL cluster), with network faults on
every terminal's link, SIGKILLs of host and agent processes and PostgreSQL
crash-restarts; with ``--network-share``, that share of the sales paid through the
payment networks of ``--networks`` (WeChat Pay and Alipay, each at its simulator, the
sales split evenly), with faults between the hosts and each network and host kills
during network calls, and refunds of those sales back through their network; lets
every terminal recover; settles the run's business days; checks the invariants of
DESIGN.md (each network's too). Prints the faults injected by kind and the invariant
results (``--json``: the whole report); the host's reconciliation of each network's
days in the locale's language.
Exit 0 when every invariant holds, 1 when one does not, 2 when the run could not be
carried out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from scanpay.cli.language import cli_language
from scanpay.i18n import Text

__all__ = ["RECONCILED", "app", "render"]

app = typer.Typer(help="Prove exactly-once under faults: sales, kills, restarts, invariants.")

EXIT_VIOLATION = 1
EXIT_ERROR = 2

#: The host's reconciliation of the run's network days, in all (the JSON's
#: ``network.reconciliation``).
RECONCILED = Text(
    "本机构对账：{done}/{runs} 个对账日已完成，对账单 {lines} 笔中对上 {matched} 笔，"
    "差异 {breaks} 笔{kinds}",
    "the host's reconciliation: {done}/{runs} day runs done, {matched} matched of "
    "{lines} statement lines, {breaks} breaks{kinds}",
)


@app.callback(invoke_without_command=True)
def chaos(
    sales: int = typer.Option(300, "--sales", min=1, help="Sales to drive in all."),
    fault_rate: float = typer.Option(
        0.2, "--fault-rate", min=0.0, max=1.0, help="Share of host requests given a fault."
    ),
    db: str = typer.Option("sqlite", "--db", help="sqlite, or postgresql (a private cluster)."),
    seed: int = typer.Option(1, "--seed", help="Fixes sale plans, fault draws, kill schedule."),
    terminals: int = typer.Option(4, "--terminals", min=1, max=32, help="Terminal agents."),
    hosts: int | None = typer.Option(
        None, "--hosts", min=1, help="Host processes (default 1 on SQLite, 2 on PostgreSQL)."
    ),
    host_kills: int | None = typer.Option(None, "--host-kills", min=0, help="SIGKILLs of hosts."),
    agent_kills: int | None = typer.Option(
        None, "--agent-kills", min=0, help="SIGKILLs of agents."
    ),
    db_restarts: int | None = typer.Option(
        None, "--db-restarts", min=0, help="PostgreSQL crash-restarts."
    ),
    directory: Path | None = typer.Option(
        None, "--dir", help="Keep the run's files here (default: a temporary folder)."
    ),
    keep: bool = typer.Option(False, "--keep", help="Keep the temporary folder of a clean run."),
    network_share: float = typer.Option(
        0.0,
        "--network-share",
        min=0.0,
        max=1.0,
        help="Share of sales paid through the payment networks (at their simulators).",
    ),
    networks: str = typer.Option(
        "wechat_pay,alipay",
        "--networks",
        help="The networks those sales are split between: wechat_pay, alipay (comma-separated).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Drive sales under faults, recover, settle, and check every invariant."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from scanpay.chaos.config import NETWORKS, ChaosConfig, ChaosError
    from scanpay.chaos.harness import run_chaos

    if db not in ("sqlite", "postgresql"):
        typer.echo("--db is sqlite or postgresql", err=True)
        raise typer.Exit(EXIT_ERROR)
    names = tuple(n.strip() for n in networks.split(",") if n.strip())
    if not names or not set(names) <= set(NETWORKS) or len(set(names)) != len(names):
        typer.echo(f"--networks is some of {', '.join(NETWORKS)}, each once", err=True)
        raise typer.Exit(EXIT_ERROR)
    config = ChaosConfig(
        sales=sales,
        fault_rate=fault_rate,
        db=db,  # type: ignore[arg-type]
        seed=seed,
        terminals=terminals,
        hosts=hosts,
        host_kills=host_kills,
        agent_kills=agent_kills,
        db_restarts=db_restarts,
        directory=directory,
        keep=keep,
        network_share=network_share,
        networks=names,
    )
    # With --json the progress bar goes to stderr, so stdout is the report alone.
    console = Console(stderr=as_json)
    with Progress(
        TextColumn("[bold]chaos[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("sales  {task.fields[faults]} faults"),
        TimeElapsedColumn(),
        console=console,
        transient=as_json,
    ) as bar:
        task = bar.add_task(f"{db} x{terminals}", total=sales, faults=0)

        def progress(done: int, total: int, faults: int) -> None:
            bar.update(task, completed=done, total=total, faults=faults)

        try:
            report = run_chaos(config, progress)
        except ChaosError as exc:
            console.print(f"[red]chaos run failed:[/] {exc}")
            raise typer.Exit(EXIT_ERROR) from None
    data = report.to_dict()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
    else:
        render(data, console, cli_language())
    if not report.ok:
        raise typer.Exit(EXIT_VIOLATION)


def render(data: dict[str, Any], console: Any, language: str = "en") -> None:
    """The report as rich tables: outcomes, faults by kind, invariants, settlement; the
    reconciliation line in ``language``."""
    from rich.table import Table

    from scanpay.money import format_amount

    cfg = data["config"]
    console.print(
        f"\n[bold]scanpay chaos[/]  {data['sales_driven']} sales "
        f"({data['sales_interrupted']} with the agent killed under the cashier), "
        f"fault rate {cfg['fault_rate']}, {cfg['db']} ({cfg['hosts']} host process(es)), "
        f"{cfg['terminals']} terminals, seed {cfg['seed']}, {data['wall_seconds']} s "
        f"{data['phases']}"
    )
    outcomes = Table(title="Sales by outcome (terminal journals)")
    outcomes.add_column("code kind")
    states = sorted({s for row in data["by_code"].values() for s in row})
    for s in states:
        outcomes.add_column(s, justify="right")
    outcomes.add_column("all", justify="right")
    for kind, row in data["by_code"].items():
        outcomes.add_row(kind, *(str(row.get(s, 0)) for s in states), str(sum(row.values())))
    totals = {s: sum(row.get(s, 0) for row in data["by_code"].values()) for s in states}
    outcomes.add_row(
        "[bold]all", *(str(totals[s]) for s in states), str(sum(totals.values())), end_section=True
    )
    console.print(outcomes)
    if data["refunds"]:
        console.print(
            "refunds: " + ", ".join(f"{k} {v}" for k, v in sorted(data["refunds"].items()))
        )
    console.print(
        "host result codes: " + ", ".join(f"{k}: {v}" for k, v in data["result_codes"].items())
    )

    faults = Table(
        title="Faults injected", caption=f"{data['requests']} requests through the fault proxies"
    )
    faults.add_column("kind")
    faults.add_column("count", justify="right")
    for kind, n in data["faults"].items():
        faults.add_row(kind, str(n))
    if data["failpoints"]:
        fired = ", ".join(f"{k} {v}" for k, v in sorted(data["failpoints"].items()))
        faults.add_row("  failpoints fired after", fired)
    console.print(faults)

    checks = Table(title="Invariants")
    checks.add_column("invariant")
    checks.add_column("result")
    checks.add_column("checked", justify="right")
    checks.add_column("what it means")
    for inv in data["invariants"]:
        verdict = "[green]holds" if inv["ok"] else f"[red]VIOLATED x{inv['violations']}"
        checks.add_row(inv["name"], verdict, str(inv["checked"]), inv["description"])
    console.print(checks)
    for inv in data["invariants"]:
        for example in inv["examples"][:10]:
            console.print(f"  [red]{inv['name']}[/]: {example}")

    for network in data.get("networks", {}).values():
        name = network["network"]
        console.print(
            f"network {name}: {network['sales']} sales "
            f"({network['share']:.0%} of the run), {network['requests']} requests through "
            f"the hosts' fault proxies (faults {network['faults']}); outcomes "
            f"{network['outcomes']}; legs {network['legs']}; orders at the network "
            f"{network['orders']}; {network['statement_lines']} statement lines; the "
            f"network's books {network['books']}"
        )
        refunds = network["refunds"]
        console.print(
            f"{name} refunds: the host's {refunds['host']}; {refunds['at_network']} taken "
            f"at the network ({format_amount(refunds['amount'], 'CNY')} CNY), "
            f"{refunds['reverses']} made by reverses"
        )
        reconciled = network["reconciliation"]
        kinds = ", ".join(f"{k} {n}" for k, n in reconciled["break_kinds"].items())
        line = RECONCILED.format(**reconciled, kinds=f" ({kinds})" if kinds else "")
        console.print(f"{name}: {line.get(language)}", markup=False)

    s = data["settlement"]
    console.print(
        f"settlement over {len(s['days'])} day(s): {s['payment_count']} payments, "
        f"{s['refund_count']} refunds, {s['reversal_count']} reversals; gross "
        f"{format_amount(s['gross'], 'CNY')}, fee {format_amount(s['fee'], 'CNY')}, net "
        f"{format_amount(s['net'], 'CNY')} CNY"
    )
    for note in data["harness_notes"][:10]:
        console.print(f"  note: {note}")
    if data["directory"]:
        console.print(f"run files: {data['directory']}")
    ok = all(i["ok"] for i in data["invariants"])
    console.print("[bold green]every invariant holds" if ok else "[bold red]INVARIANTS VIOLATED")
