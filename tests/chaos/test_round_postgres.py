"""CI's short chaos rounds on PostgreSQL: a private cluster, two host processes, restarts;
the second with the payment network."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos.rounds import (
    check_network_round,
    check_round,
    network_round_args,
    round_args,
    run_chaos_cli,
)
from scanpay.chaos.postgres import unavailable_because
from support import require


@pytest.mark.slow
@pytest.mark.postgres
def test_chaos_round_on_postgresql_keeps_every_invariant(tmp_path: Path) -> None:
    problem = unavailable_because()
    require(problem is None, f"a private PostgreSQL cluster is needed: {problem}")
    code, report, stderr = run_chaos_cli(*round_args("postgresql", tmp_path / "run", seed=11))
    check_round(code, report, stderr, db="postgresql")
    assert report["config"]["hosts"] == 2
    assert report["faults"]["postgres_restart"] >= 1


@pytest.mark.slow
@pytest.mark.postgres
def test_chaos_round_with_the_network_on_postgresql_keeps_every_invariant(
    tmp_path: Path,
) -> None:
    problem = unavailable_because()
    require(problem is None, f"a private PostgreSQL cluster is needed: {problem}")
    code, report, stderr = run_chaos_cli(*network_round_args("postgresql", tmp_path / "run"))
    check_network_round(code, report, stderr)
    assert report["config"]["hosts"] == 2
