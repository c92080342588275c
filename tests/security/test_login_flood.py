"""Sixty machines log in at once, over and over, on SQLite and PostgreSQL (issue 13):
each login costs an argon2 hash (64 MiB, a good part of a second of CPU), and nobody
needs an account to ask for one.

The host hashes a few at a time per process and refuses what it cannot queue with
503 and ``Retry-After``, so the attack costs it a bounded amount of memory and CPU,
and payments go on at about their idle speed. The attackers are a process of their
own (``login_attacker.py``: sixty clients, each from its own address, each doing as
``Retry-After`` says). Idle and attacked payments are timed side by side, in blocks
one after the other, with an absolute floor under the comparison (a busy CI machine
slows both); the invariants that cannot be noisy are asserted exactly: argon2 runs
at most the host's limit at once (counted at the library), every refusal is typed
and carries a retry hint, and the process's peak memory grows by a few hashes' worth
at most. Without the bound, the same attack ran 40 hashes at once, took 2.3 GiB and
made the payments' p99 over 7 s.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from host.kit import World
from scanpay.host.services.hashing import GATE
from security.login_kit import watch_argon2
from support import require

ATTACKER = Path(__file__).with_name("login_attacker.py")
ATTACKERS = 60
SAMPLES = 100
#: Idle and attacked payments are timed in this many blocks, one after the other.
BLOCKS = 4
#: Seconds the sixty take to start (the attacker's ``SPREAD``).
RAMP = 1.0
#: Seconds of slack over the idle p99 that a busy machine's noise may add.
NOISE = 0.25
MIB = 1024 * 1024
#: argon2's memory per hash (``PasswordHasher``'s default, 64 MiB).
HASH_MEMORY = 64 * MIB


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


def _reset_peak_memory() -> None:
    # Writing 5 to clear_refs resets the peak resident set (VmHWM) to the current one.
    Path("/proc/self/clear_refs").write_text("5")


def _payment_times(world: World, prefix: str, count: int) -> list[float]:
    times = []
    for i in range(count):
        code = world.code()
        started = time.perf_counter()
        answer = world.terminal.pay(f"{prefix}-{i}", 100, code)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200 and answer.json()["code"] == "00", answer.text
    return times


def _p99(times: list[float]) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[98]


def test_sixty_parallel_logins_leave_payments_fast_and_memory_bounded(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Skips elsewhere than Linux locally; in CI a missing /proc fails, as every requirement.
    require(Path("/proc/self/clear_refs").exists(), "reads peak memory from Linux's /proc")
    world.wallet = world.open_wallet(balance=1_000_000)
    _payment_times(world, "WARM", 5)
    watch = watch_argon2(monkeypatch)
    attackers = subprocess.Popen(
        [sys.executable, str(ATTACKER), world.host.url, str(ATTACKERS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def command(word: str, answer: str) -> None:
        assert attackers.stdin is not None and attackers.stdout is not None
        attackers.stdin.write(word + "\n")
        attackers.stdin.flush()
        assert attackers.stdout.readline().strip() == answer

    idle: list[float] = []
    attacked: list[float] = []
    rises: list[int] = []
    try:
        assert attackers.stdout is not None
        assert attackers.stdout.readline().strip() == "ready"
        # Idle and attacked side by side, block after block, so both meet the same
        # machine (a CI machine's other work comes and goes).
        for block in range(BLOCKS):
            idle += _payment_times(world, f"IDLE{block}", SAMPLES // BLOCKS)
            _reset_peak_memory()
            resident = _status_kib("VmRSS") * 1024
            command("go", "going")
            deadline = time.monotonic() + 30
            while watch.running == 0 and time.monotonic() < deadline:  # hashing began
                time.sleep(0.005)
            time.sleep(RAMP)  # every attacker runs: timed from there on
            attacked += _payment_times(world, f"ATTACKED{block}", SAMPLES // BLOCKS)
            command("pause", "paused")
            while GATE.admitted and time.monotonic() < deadline:  # the queue drained
                time.sleep(0.01)
            rises.append(_status_kib("VmHWM") * 1024 - resident)
        out, _ = attackers.communicate("", timeout=180)
    finally:
        if attackers.poll() is None:
            attackers.kill()
    answers: list[tuple[int, Any, str | None]] = json.loads(out.strip().splitlines()[-1])

    idle_p99, attacked_p99 = _p99(idle), _p99(attacked)
    print(
        f"\n{world.host.backend}: payment p99 idle {idle_p99 * 1000:.1f} ms (median "
        f"{statistics.median(idle) * 1000:.1f}), attacked {attacked_p99 * 1000:.1f} ms "
        f"(median {statistics.median(attacked) * 1000:.1f}); {len(answers)} logins, "
        f"argon2 peak {watch.peak} at once, memory +{max(rises) / MIB:.0f} MiB"
    )
    # Never more hashes at once than the host's limit, counted at the library.
    assert 1 <= watch.peak <= GATE.budget.limit, watch.peak
    # Every login was answered: checked (401), or refused, typed, with a retry hint.
    statuses = {status for status, _, _ in answers}
    assert statuses <= {401, 429, 503}, statuses
    assert 503 in statuses, "sixty at once never filled the queue"
    for status, body, retry in answers:
        if status == 401:
            continue
        assert body["code"] == ("91" if status == 503 else "57"), body
        assert body["message"]["en"] and body["message"]["zh-CN"]
        assert retry is not None and int(retry) >= 1, (status, body)
    # Memory: a few hashes' worth at most, not one per attacker.
    assert max(rises) <= (GATE.budget.limit + 2) * HASH_MEMORY, max(rises) / MIB
    # Payments: the typical one within twice its idle time, or NOISE over it; the
    # slowest within a second of the idle slowest. Without the bound they take
    # seconds. The median, not p99, carries the tight bound: a shared machine stalls
    # a commit now and then by a few hundred ms, idle or not, and p99 of a hundred is
    # its two slowest (0.25 s idle against 0.52 s attacked, at a load average of 10).
    idle_mid, attacked_mid = statistics.median(idle), statistics.median(attacked)
    assert attacked_mid <= max(2 * idle_mid, idle_mid + NOISE), (idle_mid, attacked_mid)
    assert attacked_p99 <= idle_p99 + 4 * NOISE, (idle_p99, attacked_p99)
