"""The agent: one terminal's parts wired together (the composition root).

``Agent(directory)`` opens the configuration and the journal of the data
directory, builds the host client, the operators, the engine, the self-test
and the day close, and :meth:`Agent.start` recovers what the journal left in
flight before the API takes a new sale. :func:`activate_terminal` creates the
configuration in the first place.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from scanpay.protocol.models import SelfTestReport as SelfTestReportBody
from scanpay.terminal.client import HostClient, activate
from scanpay.terminal.config import (
    SOFTWARE_VERSION,
    TerminalConfig,
    data_dir,
    load_config,
    save_config,
)
from scanpay.terminal.dayclose import DayClose
from scanpay.terminal.engine import Engine
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.journal import JOURNAL_FILE, Journal
from scanpay.terminal.operators import Operators
from scanpay.terminal.selftest import FrameStore, SelfTest, SelfTestReport
from scanpay.terminal.tls import (
    CA_FILE,
    check_host_url,
    install_ca_file,
    normalise_pin,
    ssl_context,
)

__all__ = ["Agent", "activate_terminal"]

log = logging.getLogger("scanpay.terminal")


def activate_terminal(
    host_url: str,
    activation_code: str,
    *,
    directory: Path | None = None,
    force: bool = False,
    settings: dict[str, object] | None = None,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    ca_file: Path | None = None,
    pin_sha256: str | None = None,
    allow_plain_http: bool = False,
) -> TerminalConfig:
    """Activate with the host and store the configuration (mode 0600).

    ``settings`` overrides the defaults of the agent's settings (deadlines,
    printer, camera...). The timezone the screens and receipts show times in is
    the host's business timezone, unless ``settings`` names another. An already
    activated directory is refused unless ``force``.

    ``ca_file`` (PEM; for a self-signed host, its certificate) is what the host's
    certificate is verified with - the activation itself included - and is copied
    into the data folder (``host-ca.pem``), so the terminal does not depend on where
    the original lies; without it the system's trust store is used. ``pin_sha256``
    also pins the certificate itself. ``http://`` to a host that is not on this
    machine is refused (``plain_http_refused``) unless ``allow_plain_http``.
    """
    folder = data_dir(directory)
    if (folder / "terminal.json").exists() and not force:
        raise TerminalError("already_activated")
    check_host_url(host_url, allow_plain_http=allow_plain_http)
    pin = normalise_pin(pin_sha256) if pin_sha256 else None
    tls = ssl_context(ca_file, pin)
    answer = activate(host_url, activation_code, SOFTWARE_VERSION, transport=transport, tls=tls)
    if ca_file is not None:
        install_ca_file(ca_file, folder)
    config = TerminalConfig(
        host_url=host_url.rstrip("/"),
        terminal_id=answer.terminal_id,
        key=answer.key,
        merchant_id=answer.merchant_id,
        merchant_name=answer.merchant_name,
        merchant_city=answer.merchant_city,
        mcc=answer.mcc,
        currency=answer.currency,
        payee=answer.payee,
        min_software_version=answer.min_software_version,
        activated_at=clock(),
        ca_file=CA_FILE if ca_file is not None else None,
        pin_sha256=pin,
        allow_plain_http=allow_plain_http,
    )
    zone = _known_zone(answer.timezone)
    if zone is not None:
        config = config.with_settings(timezone=zone)
    if settings:
        config = TerminalConfig.from_dict({**config.to_dict(), **settings})
    save_config(folder, config)
    Journal(folder / JOURNAL_FILE).append(
        at=clock(),
        kind="terminal",
        ref=config.terminal_id,
        event="activated",
        operator_id="system",
        detail={
            "host": config.host_url,
            "merchant": config.merchant_id,
            "ca_file": config.ca_file,
            "pin_sha256": config.pin_sha256,
        },
    )
    return config


def _known_zone(name: str | None) -> str | None:
    """The host's business timezone when this machine knows it (else the default stays:
    a zone the terminal cannot use would stop it from starting)."""
    if not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("the host's timezone %r is unknown here; keeping the default", name)
        return None
    return name


class Agent:
    """Everything one terminal runs."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.directory = data_dir(directory)
        self.clock = clock
        self.config = load_config(self.directory)
        # An existing configuration is held to today's rule too: no plain HTTP off
        # this machine unless it was allowed explicitly.
        check_host_url(self.config.host_url, allow_plain_http=self.config.allow_plain_http)
        tls = ssl_context(self.config.ca_path(self.directory), self.config.pin_sha256)
        self.journal = Journal(self.directory / JOURNAL_FILE)
        self.client = HostClient(
            self.config.host_url,
            self.config.terminal_id,
            self.config.key,
            SOFTWARE_VERSION,
            timeout=self.config.request_timeout,
            connect_timeout=self.config.connect_timeout,
            clock=clock,
            transport=transport,
            tls=tls,
        )
        self.operators = Operators(
            self.journal, clock=clock, idle_minutes=self.config.session_idle_minutes
        )
        self.engine = Engine(
            config=self.config, journal=self.journal, client=self.client, clock=clock
        )
        self.frames = FrameStore()
        self.selftest = SelfTest(
            config=self.config,
            journal=self.journal,
            client=self.client,
            directory=self.directory,
            in_doubt=self.journal.count_in_doubt,
            reversals_waiting=lambda: len(self.journal.reversals(waiting=True)),
            frames=self.frames,
            clock=clock,
        )
        self.dayclose = DayClose(self.engine)
        self._started = False

    def start(self, *, selftest: bool = True) -> None:
        """Recover the journal's sales in doubt, start the workers, run the self-test.

        The self-test runs in the background so that an unreachable host does not
        keep the screen from coming up; it blocks sales if the software is too old.
        """
        if self._started:
            return
        self._started = True
        self.journal.append(
            at=self.clock(),
            kind="terminal",
            ref=self.config.terminal_id,
            event="agent_started",
            operator_id="system",
        )
        self.engine.start()
        if selftest:
            threading.Thread(target=self.run_selftest, name="selftest", daemon=True).start()

    def run_selftest(self) -> SelfTestReport:
        report = self.selftest.run()
        self.engine.block_reason = report.sales_blocked
        self._report_to_host(report)
        return report

    def _report_to_host(self, report: SelfTestReport) -> None:
        """Tell the host the result, so the merchant's portal shows this terminal's
        reversals waiting and sales in doubt. Best effort: the host may be the
        very thing the self-test found unreachable (the client answers NoReply then)."""
        waiting = self.journal.reversals(waiting=True)
        body = SelfTestReportBody(
            status=report.status,
            pending_reversals=len(waiting),
            in_doubt=self.journal.count_in_doubt(),
            checks={c.name: c.status for c in report.checks},
            pending=[r.out_trade_no for r in waiting[:100]],
        )
        self.client.report_self_test(body)

    def stop(self) -> None:
        if not self._started:
            return
        self.engine.stop()
        self.client.close()
        self._started = False

    def close(self) -> None:
        self.stop()
        self.journal.close()
