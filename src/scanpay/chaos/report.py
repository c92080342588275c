"""What a run found, as ``scanpay chaos`` prints it: figures, faults, invariants.

:func:`make_report` counts, once the facts are judged, what the run drove (sales and
how each kind of code ended), what it injected (each proxy's faults, the kills, the
failpoints that fired) and what the invariants said, into a :class:`ChaosReport`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from scanpay.chaos.config import TERMINAL_SETTINGS
from scanpay.chaos.facts import Facts, InvariantResult
from scanpay.chaos.faults import FAULT_KINDS
from scanpay.chaos.network import NETWORK_FAULT_KINDS

if TYPE_CHECKING:
    from scanpay.chaos.harness import ChaosRun

__all__ = ["ChaosReport", "make_report"]


@dataclass
class ChaosReport:
    """Everything a run found: figures, faults, invariants."""

    config: dict[str, Any]
    started_at: str
    wall_seconds: float
    phases: dict[str, float]
    sales_driven: int
    sales_interrupted: int
    """Sales during which the cashier's agent was killed (then resumed after its restart)."""
    outcomes: dict[str, int]
    by_code: dict[str, dict[str, int]]
    result_codes: dict[str, int]
    refunds: dict[str, int]
    faults: dict[str, int]
    failpoints: dict[str, int]
    requests: int
    invariants: list[InvariantResult]
    settlement: dict[str, Any]
    harness_notes: list[str]
    directory: str | None
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each network's figures, when the run paid through them: sales, legs, orders,
    refunds, faults, the host's reconciliation (by the host's name for the network)."""

    @property
    def ok(self) -> bool:
        return all(i.ok for i in self.invariants)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["invariants"] = [i.to_dict() for i in self.invariants]
        data["ok"] = self.ok
        return data


def make_report(
    run: ChaosRun,
    facts: Facts,
    results: list[InvariantResult],
    settlement: dict[str, Any],
    codes: dict[str, int],
    wall: float,
) -> ChaosReport:
    """The report of ``run``, judged: ``results`` of its ``facts``, the ``settlement``
    of its days, the host result ``codes`` its sales ended with, ``wall`` seconds in all."""
    faults: Counter[str] = Counter({k: 0 for k in FAULT_KINDS})
    requests = 0
    for t in run.terminals:
        for kind, n in t.proxy.stats.items():
            requests += n if kind != "refused" else 0
            if kind == "refused":
                faults["connection_refused"] += n  # proxy down: counted, not drawn
            elif kind != "none":
                faults[kind] += n
    faults.update(run.strikes)
    faults["agent_failpoint"] += sum(run.failpoints.values())
    if run.networks:
        faults.update({k: 0 for k in NETWORK_FAULT_KINDS if k not in faults})
    networks = {
        network.name: network.report(seen, facts, faults, run.records)
        for network, seen in zip(run.networks, facts.networks, strict=True)
    }
    states = {s.out_trade_no: s.state for s in facts.sales}
    by_code: dict[str, Counter[str]] = {}
    for record in run.records:
        kind = record.code or record.plan.code.value
        # OPEN_INTERRUPTED: the agent died while opening the sale, before the cashier
        # saw its number (a sale it did journal stays NEW until the next one cancels it).
        final = states.get(record.out_trade_no or "", "OPEN_INTERRUPTED")
        by_code.setdefault(kind, Counter())[final] += 1
    refund_states = Counter(r.state for r in facts.refunds)
    config = run.config
    return ChaosReport(
        config={
            "sales": config.sales,
            "fault_rate": config.fault_rate,
            "db": config.db,
            "seed": config.seed,
            "terminals": config.terminals,
            "hosts": config.host_count,
            "network_share": config.network_share,
            "networks": list(config.networks) if config.network_share > 0 else [],
            "terminal_settings": TERMINAL_SETTINGS,
        },
        started_at=run.started_at.isoformat(timespec="seconds"),
        wall_seconds=round(wall, 1),
        phases={k: round(v, 1) for k, v in run.phases.items()},
        sales_driven=len(run.records),
        sales_interrupted=sum(r.interrupted for r in run.records),
        outcomes=dict(Counter(s.state for s in facts.sales)),
        by_code={k: dict(v) for k, v in sorted(by_code.items())},
        result_codes=dict(sorted(codes.items())),
        refunds=dict(refund_states),
        faults=dict(faults),
        failpoints=dict(run.failpoints),
        requests=requests,
        invariants=results,
        settlement=settlement,
        harness_notes=list(run.notes[:50]),
        directory=str(run.directory),
        networks=networks,
    )
