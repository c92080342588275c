"""``scanpay demo``: one complete sale through the real parts, each step printed.

The host is started on a temporary SQLite database and served on a loopback
port; a merchant, a terminal and a wallet are set up through the host's own
services; the terminal is activated over HTTP and its agent served on another
loopback port; the wallet's one-time code is rendered as a camera-like photo
(``scanpay.vision.synth``: perspective, noise, uneven light) and read back
with ``scanpay.vision``; the photo is uploaded to the agent, the cashier
confirms, the host authorises, the receipt is printed to a file; finally the
host's ledger is checked and the journal's hash chain verified. Any failed
step stops the demo with a non-zero exit.

With ``tls`` the host speaks HTTPS only, with a self-signed certificate made
as ``scanpay host certs`` makes it, and the terminal is activated with that
certificate as its CA file and its SHA-256 pinned: every call to the host -
activation, the self-test, the payment - is verified.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from scanpay.i18n import Text

__all__ = ["DEMO_BALANCE", "DemoFailed", "DemoResult", "run_demo"]

DEMO_BALANCE = 50_000
"""What the demo wallet holds, in CNY fen (500.00 CNY): a larger sale is declined."""


class DemoFailed(Exception):
    """A step of the demo did not do what it should; :attr:`text` says what, in both
    languages (a step that can fail on what the person asked for, such as the
    amount, says it in words; the others, which mean the demo itself is broken,
    carry their technical detail in both)."""

    def __init__(self, text: Text | str) -> None:
        self.text = text if isinstance(text, Text) else Text(text, text)
        super().__init__(self.text.en)

    def message(self, language: str) -> str:
        """What went wrong, in ``language``."""
        return self.text.get(language)


def _text(data: Any) -> Text | None:
    """A ``{"zh-CN": ..., "en": ...}`` message from the agent's JSON, if that is what it is."""
    if (
        isinstance(data, dict)
        and isinstance(data.get("zh-CN"), str)
        and isinstance(data.get("en"), str)
    ):
        return Text(data["zh-CN"], data["en"])
    return None


def _refused(response: Any) -> Text:
    """The agent's refusal to start the sale (an amount over the till's maximum...)."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        error = {}
    reason = _text(error.get("message") if isinstance(error, dict) else None)
    if reason is None:
        reason = Text(f"HTTP {response.status_code}", f"HTTP {response.status_code}")
    return Text(
        f"终端没有接受这笔交易：{reason.zh_cn}", f"The terminal did not take the sale: {reason.en}"
    )


def _not_approved(done: dict[str, Any], amount: int) -> Text:
    """Why the sale was not approved, from the screen the cashier would see."""
    from scanpay.money import format_amount

    money = format_amount(amount, "CNY")
    screen = done.get("screen") or {}
    message = _text(screen.get("message")) or Text("原因不明", "no reason given")
    if done.get("state") == "DECLINED":
        said = Text(
            f"这笔 {money} 元的交易被拒绝：{message.zh_cn}。",
            f"The sale of {money} CNY was declined: {message.en}.",
        )
    else:
        title = _text(screen.get("title")) or Text(str(done.get("state")), str(done.get("state")))
        said = Text(
            f"这笔 {money} 元的交易没有成功（{title.zh_cn}）：{message.zh_cn}。",
            f"The sale of {money} CNY did not go through ({title.en}): {message.en}.",
        )
    if screen.get("code") == "51":  # insufficient funds: say what the demo wallet holds
        held = format_amount(DEMO_BALANCE, "CNY")
        said = Text(
            f"{said.zh_cn}演示钱包里有 {held} 元，请用不超过这个数的金额再试。",
            f"{said.en} The demo wallet holds {held} CNY: try an amount up to that.",
        )
    return said


@dataclass
class DemoResult:
    directory: Path
    out_trade_no: str = ""
    receipt: Path | None = None
    receipt_html: Path | None = None
    photo: Path | None = None
    host_url: str = ""
    agent_url: str = ""
    steps: list[str] = field(default_factory=list)


@contextmanager
def _workdir(directory: Path | None) -> Iterator[Path]:
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        yield directory
        return
    with tempfile.TemporaryDirectory(prefix="scanpay-demo-") as tmp:
        yield Path(tmp)


def _photo(text: str, path: Path) -> None:
    """The code as a phone screen photographed by a till camera."""
    import cv2
    import numpy as np

    from scanpay.vision import synth

    code = synth.render_qr(text, module_px=5)
    scene = synth.place(code, side=250.0, angle=9.0, tilt=22.0, background=95, seed=7)
    height, width = scene.frame.shape[:2]
    # Uneven light: brighter on one side of the counter than the other.
    ramp = np.linspace(0.75, 1.15, width, dtype=np.float32)[np.newaxis, :]
    lit = np.clip(scene.frame.astype(np.float32) * ramp, 0, 255).astype(np.uint8)
    lit = synth.add_glare(lit, (width * 0.85, height * 0.2), radius=60.0, strength=0.5)
    frame = synth.add_noise(lit, sigma=5.0, seed=7)
    ok, encoded = cv2.imencode(".png", frame)
    if not ok:
        raise DemoFailed("the photo could not be encoded")
    path.write_bytes(encoded.tobytes())


def run_demo(
    directory: Path | None = None,
    *,
    amount: int = 1234,
    out: TextIO | None = None,
    keep_running: Callable[[DemoResult], None] | None = None,
    tls: bool = False,
) -> DemoResult:
    """Run the scripted sale; raises :class:`DemoFailed` at the first step that fails.

    ``keep_running`` is called with the servers still up (the interactive demo
    waits there for Ctrl-C). ``tls``: the host over HTTPS, the terminal trusting it
    through a CA file and a pin.
    """
    import sys

    stream = out or sys.stdout
    with _workdir(directory) as work:
        result = DemoResult(work)
        number = [0]

        def step(text: str) -> None:
            number[0] += 1
            line = f"[{number[0]:2}] {text}"
            result.steps.append(line)
            print(line, file=stream, flush=True)

        _run(work, amount, result, step, keep_running, tls)
        return result


def _run(
    work: Path,
    amount: int,
    result: DemoResult,
    step: Callable[[str], None],
    keep_running: Callable[[DemoResult], None] | None,
    tls: bool = False,
) -> None:
    import httpx

    from scanpay.host.api.app import create_app as create_host
    from scanpay.host.db.migrate import upgrade
    from scanpay.host.services import ledger, wallets
    from scanpay.host.services.context import HostContext
    from scanpay.host.settings import HostSettings
    from scanpay.money import format_amount
    from scanpay.stack import (
        DemoWallet,
        LoopbackServer,
        StackError,
        TlsPair,
        add_demo_operators,
        make_tls_pair,
        seed_host,
    )
    from scanpay.terminal.agent import Agent, activate_terminal
    from scanpay.terminal.api import create_app as create_agent
    from scanpay.vision import scan

    settings = HostSettings(database_url=f"sqlite:///{work / 'host.db'}")
    pair: TlsPair | None = None
    try:
        if tls:
            pair = make_tls_pair(work / "tls")
        host = LoopbackServer(create_host(settings), tls=pair).start()
    except StackError as exc:
        raise DemoFailed(str(exc)) from None
    result.host_url = host.url
    ctx = HostContext.open(settings)
    agent_server: LoopbackServer | None = None
    agent: Agent | None = None
    try:
        upgrade(ctx.db)
        step(f"host: serving on {host.url} (SQLite {work / 'host.db'})")
        if pair is not None:
            step(
                f"host: HTTPS only, certificate {pair.certfile} (sha256 {pair.fingerprint_sha256})"
            )

        seeded = seed_host(ctx, wallets=(DemoWallet("Demo customer", "123456", DEMO_BALANCE),))
        account = seeded.wallets[0].account
        step(
            f"host: merchant {seeded.merchant_id} approved, terminal {seeded.terminal_id} "
            f"added, wallet {account} opened with {format_amount(DEMO_BALANCE, 'CNY')} CNY"
        )

        term_dir = work / "terminal"
        receipt = work / "receipt.bin"
        activate_terminal(
            host.url,
            seeded.activation_code,
            directory=term_dir,
            force=True,
            ca_file=pair.certfile if pair else None,
            pin_sha256=pair.fingerprint_sha256 if pair else None,
            settings={
                "camera": "none",
                "language": "en",
                "printer": {
                    "kind": "file",
                    "path": str(receipt),
                    "width": 58,
                    "encoding": "gb18030",
                    "language": "zh-CN",
                    "html_dir": str(work),
                },
            },
        )
        mode = oct((term_dir / "terminal.json").stat().st_mode & 0o777)
        over = (
            "HTTPS, the host verified with its CA file and pinned fingerprint" if pair else "HTTP"
        )
        step(
            f"terminal: activated over {over}; configuration {term_dir / 'terminal.json'} ({mode})"
        )

        add_demo_operators(term_dir)

        agent = Agent(term_dir)
        try:
            agent_server = LoopbackServer(create_agent(agent)).start()
        except StackError as exc:
            raise DemoFailed(str(exc)) from None
        result.agent_url = agent_server.url
        http = httpx.Client(base_url=agent_server.url, timeout=30, trust_env=False)
        report = http.get("/api/selftest", params={"refresh": True}).json()
        checks = {c["name"]: c["status"] for c in report["checks"]}
        for name in ("host", "clock", "version", "journal"):
            if checks.get(name) != "ok":
                raise DemoFailed(f"self-test: {name} is {checks.get(name)}")
        step(f"terminal: agent on {agent_server.url}; self-test host/clock/version/journal ok")

        login = http.post("/api/session", json={"operator_id": "c01", "pin": "1234"})
        if login.status_code != 200:
            raise DemoFailed(f"login refused: {login.text}")
        http.headers["Authorization"] = f"Bearer {login.json()['token']}"
        started = http.post("/api/sales", json={"amount": amount, "note": "demo"})
        if started.status_code >= 400:
            raise DemoFailed(_refused(started))
        sale = started.json()
        no = sale["out_trade_no"]
        result.out_trade_no = no
        step(f"cashier: logged in as c01; sale {no} for {sale['amount_text']} CNY started")

        code = wallets.issue_code(ctx, account).digits
        photo = work / "wallet-code-photo.png"
        _photo(code, photo)
        result.photo = photo
        step(f"customer: one-time wallet code shown; photographed by the till: {photo}")

        read = scan(photo.read_bytes())
        if not read.ok or read.texts[0] != code:
            raise DemoFailed("scanpay.vision could not read the photo")
        symbol = read.symbols[0]
        step(
            f"vision: read {symbol.format} {symbol.display_text()} "
            f"({read.ms:.0f} ms, strategy {symbol.strategy})"
        )

        with photo.open("rb") as f:
            scanned = http.post(
                f"/api/sales/{no}/scan-image", files={"file": ("photo.png", f, "image/png")}
            )
        if scanned.status_code != 200 or scanned.json()["sale"]["state"] != "CODE_READ":
            raise DemoFailed(f"the agent refused the photo: {scanned.text}")
        step(f"agent: photo decoded and parsed: {scanned.json()['code']['masked']} -> CODE_READ")

        done = http.post(f"/api/sales/{no}/confirm", params={"wait": 20}).json()
        if done["state"] != "APPROVED":
            raise DemoFailed(_not_approved(done, amount))
        step(
            f"cashier: confirmed -> {done['state']} ({done['result']['code']} "
            f"{done['screen']['message']['en']})"
        )

        agent.engine.wait_idle(10)
        if not receipt.exists() or no.encode() not in receipt.read_bytes():
            raise DemoFailed("no receipt was printed")
        result.receipt = receipt
        html = work / f"{no}.html"
        result.receipt_html = html if html.exists() else None
        step(f"receipt: {receipt.stat().st_size} bytes of ESC/POS in {receipt}; HTML {html}")

        balance = wallets.wallet_info(ctx, account).balance
        if balance != DEMO_BALANCE - amount:
            raise DemoFailed(f"the wallet holds {balance}, expected {DEMO_BALANCE - amount}")
        report_ledger = ledger.check(ctx)
        if not report_ledger.ok:
            raise DemoFailed(f"ledger check failed: {report_ledger}")
        step(
            f"host: wallet balance {format_amount(balance, 'CNY')} CNY; "
            "ledger check: postings sum to zero, balances match"
        )

        info = http.get("/api/terminal").json()
        broken = agent.journal.verify_chain()
        rows = len(agent.journal.events(ref=no))
        if broken is not None or info["in_doubt"] or info["reversals_waiting"]:
            raise DemoFailed(f"journal not clean: broken={broken}, terminal={info}")
        step(f"journal: {rows} rows for the sale, hash chain intact, nothing in doubt")
        if keep_running is not None:
            keep_running(result)
        http.close()
    finally:
        if agent_server is not None:
            agent_server.stop()
        if agent is not None:
            agent.close()
        ctx.close()
        host.stop()
