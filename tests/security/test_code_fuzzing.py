"""Fuzzed payment codes, where an attacker meets the parsers: through the host.

``tests/codes`` proves the library on its own (properties, 120 000 seeded mutations);
here the mangled codes go where an attacker sends them, over HTTP into the real host
on SQLite and PostgreSQL: the terminal's payment (``auth_code``), the sticker check
and the wallet's order preview and payment (``payload``). Every answer is a decline or
a 400/30 ``ErrorBody``, never a 5xx, and no money moves. Then a coverage-guided run of
the parsers under atheris (libFuzzer), when it is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host.kit import RunningHost, World, make_world, remember
from scanpay.host.services import audit, risk
from security.attack_kit import ROOT
from support import require

#: Per backend and entry point (each example is one to three loopback round trips).
EXAMPLES = 20


@dataclass
class Scene:
    world: World
    digits: str
    cpm: str
    order_payload: str


@pytest.fixture(scope="module")
def scene(host: RunningHost) -> Iterator[Scene]:
    world = make_world(host, balance=100_000)
    # The brute-force lockout would stop every payment after five bad codes: off for this
    # terminal only, so each mangled code reaches the parsers and the wallet checks.
    for rule in ("failed_codes", "velocity"):
        risk.set_limit(
            host.ctx,
            audit.Actor.operator("fuzz-setup"),
            rule,
            1_000_000,
            scope="terminal",
            key=world.terminal.terminal_id,
            action="approve",
            window_seconds=60,
            lock_seconds=60,
        )
    order = world.order("FZ-ORDER", 500)
    yield Scene(world, world.code(), world.code(form="cpm"), order["payload"])


def _mutations(seed: str) -> st.SearchStrategy[str]:
    """``seed`` with a run replaced, deleted, duplicated or cut: near misses of a real code
    reach deeper into a parser than random text does."""
    n = len(seed)
    index = st.integers(0, n)
    junk = st.text(max_size=12)
    return st.one_of(
        st.builds(lambda i, j, t: seed[:i] + t + seed[max(i, j) :], index, index, junk),
        st.builds(lambda i: seed[:i], index),
        st.builds(lambda i, k: seed[:i] + seed[i : i + k] + seed[i:], index, st.integers(1, 40)),
        st.builds(lambda i: seed[:i] + seed[i:].swapcase(), index),
    ).filter(lambda text: text != seed)


def _fuzz_settings() -> settings:
    return settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def _clean(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code in (200, 400), (answer.status_code, answer.text)
    body: dict[str, Any] = answer.json()
    if answer.status_code == 400:
        assert body["code"] == "30" and set(body["message"]) == {"zh-CN", "en"}, body
    return body


def test_mangled_codes_at_the_terminal_are_declined(scene: Scene) -> None:
    world = scene.world
    balance = world.balance()
    counter = iter(range(10**6))

    @_fuzz_settings()
    @given(code=st.one_of(_mutations(scene.digits), _mutations(scene.cpm)))
    def pay(code: str) -> None:
        if len(code) >= 16:  # a near copy of a real code: the log scan looks for it too
            remember(code)
        body = _clean(world.terminal.pay(f"FZ-{next(counter)}", 100, code))
        if "status" in body:
            assert body["status"] == "FAILED", body

    pay()
    assert world.balance() == balance


def test_mangled_merchant_codes_are_refused_by_the_sticker_check_and_the_wallet(
    scene: Scene,
) -> None:
    world = scene.world
    balance = world.balance()

    @_fuzz_settings()
    @given(payload=_mutations(scene.order_payload))
    def check(payload: str) -> None:
        verdict = _clean(world.terminal.request("POST", "/v1/codes/verify", {"payload": payload}))
        if "verdict" in verdict:
            assert verdict["verdict"] in ("this_merchant", "other_merchant", "unknown_payee")
        preview = httpx.post(
            world.host.url + "/wallet/v1/preview", json={"payload": payload}, timeout=30
        )
        # An altered order QR is not this host's order: 400, or 404 for an unknown one.
        assert preview.status_code in (200, 400, 404), preview.text
        paid = httpx.post(
            world.host.url + "/wallet/v1/pay",
            json={"payload": payload, "auth_code": "1" * 18},
            timeout=30,
        )
        assert paid.status_code in (200, 400, 404), paid.text
        if paid.status_code == 200:
            assert paid.json()["code"] != "00", paid.json()

    check()
    assert world.balance() == balance


def test_atheris_finds_no_parser_crash() -> None:
    """libFuzzer, coverage-guided, seeded and bounded (``-seed``, ``-runs``): a crash is
    an exception other than CodeError, reported with the input that caused it."""
    try:
        import atheris  # noqa: F401
    except ImportError:  # a dev extra; a machine without its wheel skips, CI fails
        require(False, "atheris is not installed (pip install atheris)")
    harness = ROOT / "tests" / "security" / "atheris_codes.py"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT / 'tests'}"}
    done = subprocess.run(
        [sys.executable, str(harness), "-runs=5000", "-seed=20261127"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Done 5000 runs" in done.stderr, done.stderr[-1000:]
