"""One terminal's cashier, and its customers' phones, driving sales through the agent.

A :class:`Cashier` is one thread of the run: it takes the sale plans
(:class:`~scanpay.chaos.config.SalePlan`) one by one and drives its terminal agent's
HTTP API the way the cashier screen does (open a sale, scan, confirm, cancel,
refund), while the customer's phone makes the code (:mod:`scanpay.chaos.customers`)
and types the PIN on the host's wallet page. An agent killed under it is waited for
and the sale resumed; at recovery the cashier cancels what was never sent.
"""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

import httpx

from scanpay.chaos.config import ChaosError, SalePlan, SaleRecord
from scanpay.chaos.customers import CodeBook, CodeKind, IssuedCode, NetworkBook, NetworkCodeKind
from scanpay.chaos.facts import FINAL_STATES
from scanpay.chaos.processes import ManagedProcess
from scanpay.chaos.shop import CUSTOMER_PIN

if TYPE_CHECKING:
    from scanpay.chaos.harness import ChaosRun

__all__ = ["AgentDown", "Cashier"]

CASHIER = ("c01", "1234")
SUPERVISOR = ("s01", "987654")

_PIN_KINDS = frozenset({CodeKind.PIN_CONFIRMED, CodeKind.PIN_ABANDONED})


def _error_code(response: httpx.Response) -> str | None:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


class AgentDown(Exception):
    """The agent did not answer (killed, or restarting)."""


class Cashier:
    """One terminal's cashier (and its customers): drives sales through the agent's API."""

    def __init__(
        self,
        run: ChaosRun,
        index: int,
        terminal_id: str,
        agent: ManagedProcess,
        codes: CodeBook,
        networks: dict[str, NetworkBook] | None = None,
    ) -> None:
        self.run = run
        self.index = index
        self.terminal_id = terminal_id
        self.agent = agent
        self.codes = codes
        self.networks = networks or {}
        """The customers' phones at each network, by its name."""
        self.rng = random.Random(f"{run.config.seed}/cashier/{index}")
        self.http = httpx.Client(
            base_url=agent.url, timeout=httpx.Timeout(40.0, connect=2.0), trust_env=False
        )
        self.token: str | None = None

    # -- plumbing ------------------------------------------------------------------------

    def _wait_up(self) -> None:
        if not self.agent.up.wait(timeout=180):
            raise ChaosError(f"terminal {self.terminal_id}'s agent stayed down for 3 minutes")

    def _login(self) -> None:
        try:
            r = self.http.post("/api/session", json={"operator_id": CASHIER[0], "pin": CASHIER[1]})
        except httpx.TransportError as exc:
            raise AgentDown(str(exc)) from None
        if r.status_code != 200:
            raise ChaosError(f"cashier login refused: {r.status_code} {r.text[:200]}")
        self.token = str(r.json()["token"])

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """One call to the agent; logs in again after a restart (sessions live in memory)."""
        response: httpx.Response | None = None
        for _ in range(3):
            self._wait_up()
            if self.token is None:
                self._login()
            extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
            try:
                response = self.http.request(
                    method,
                    path,
                    json=body,
                    params=params,
                    headers={"Authorization": f"Bearer {self.token}"},
                    **extra,
                )
            except httpx.TransportError as exc:
                raise AgentDown(f"{type(exc).__name__}") from None
            if response.status_code == 401 and _error_code(response) == "not_logged_in":
                self.token = None
                continue
            if response.status_code >= 500:
                self.run.note(
                    f"{self.terminal_id}: {method} {path} -> {response.status_code} "
                    f"{response.text[:200]}",
                    server_error=True,
                )
            return response
        assert response is not None
        return response

    def get_sale(self, no: str, **params: Any) -> dict[str, Any]:
        r = self.request("GET", f"/api/sales/{no}", params=params or None, timeout=40)
        if r.status_code != 200:
            raise ChaosError(f"GET sale {no}: {r.status_code} {r.text[:200]}")
        data: dict[str, Any] = r.json()
        return data

    # -- a sale --------------------------------------------------------------------------

    def work(self) -> None:
        """Take sale plans until every sale of the run is claimed."""
        try:
            while (index := self.run.claim()) is not None:
                config = self.run.config
                plan = SalePlan.make(config.seed, index, config.network_share, config.networks)
                record = SaleRecord(index, self.terminal_id, plan)
                try:
                    self.sale(plan, record)
                except AgentDown:
                    record.interrupted = True
                    self.resume(record)
                except ChaosError:
                    raise
                except Exception as exc:  # a surprise answer: note it, keep the run going
                    record.error = f"{type(exc).__name__}: {exc}"
                    self.run.note(f"{self.terminal_id} sale {index}: {record.error}")
                    self.resume(record)
                self.run.finished(record)
        except ChaosError as exc:
            self.run.fail(exc)
        finally:
            self.http.close()

    def sale(self, plan: SalePlan, record: SaleRecord) -> None:
        no = self.open(plan.amount)
        record.out_trade_no = no
        code: IssuedCode
        if plan.network is not None:
            book = self.networks.get(plan.via)
            if book is None:
                raise ChaosError(f"a {plan.via} sale planned, but the run has no {plan.via}")
            code = book.issue(plan.network)
            assert isinstance(code.kind, NetworkCodeKind)
            record.code = book.label(code.kind)
        else:
            code = self.codes.issue(plan.code)
            record.code = code.kind.value
        r = self.request("POST", f"/api/sales/{no}/scan", body={"text": code.text})
        if r.status_code != 200:
            # Every code made here parses; a refusal is worth a look, not the run's end.
            self.run.note(f"{no}: scan refused {r.status_code} {_error_code(r)}")
            self.request("POST", f"/api/sales/{no}/cancel")
            record.state = self.wait_final(no)["state"]
            return
        if plan.cancel == "before":
            self.request("POST", f"/api/sales/{no}/cancel")
            record.state = self.wait_final(no)["state"]
            return
        wait = 0 if plan.cancel == "after" or code.kind in _PIN_KINDS else 15
        r = self.request("POST", f"/api/sales/{no}/confirm", params={"wait": wait}, timeout=40)
        if r.status_code != 200:
            # The agent restarted between scan and confirm: the code lived in the dead
            # process's memory, the sale is NEW again and cannot be confirmed. The cashier
            # cancels it (the customer would show a fresh code on the next sale).
            self.run.note(f"{no}: confirm -> {r.status_code} {_error_code(r)}")
            if self.get_sale(no)["state"] in ("NEW", "CODE_READ"):
                self.request("POST", f"/api/sales/{no}/cancel")
                record.state = self.wait_final(no)["state"]
                return
        if plan.cancel == "after":
            time.sleep(self.rng.uniform(0.0, 0.4))
            # Refused when the sale is already settled (approved before the cancel): fine.
            self.request("POST", f"/api/sales/{no}/cancel")
        if code.kind in _PIN_KINDS:
            self.customer(no, code.account, plan, record)
        view = self.wait_final(no)
        record.state = view["state"]
        if view["state"] == "APPROVED" and plan.refund != "none":
            self.refund(no, view, plan, record)

    def open(self, amount: int) -> str:
        """Open a sale; while the terminal still resolves one in doubt it refuses: wait."""
        end = time.monotonic() + self.run.config.recover_timeout
        while True:
            try:
                r = self.request("POST", "/api/sales", body={"amount": amount})
            except AgentDown:
                # The agent died under the press, before or after journaling the sale: the
                # cashier presses again once it is back (a sale journaled but never
                # answered stays NEW and is superseded by this one). Without this, a kill
                # landing in that window left a driven sale with no sale at all.
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)
                continue
            if r.status_code == 201:
                return str(r.json()["out_trade_no"])
            if _error_code(r) in ("sales_in_doubt", "sale_in_progress"):
                if time.monotonic() > end:
                    raise ChaosError(f"{self.terminal_id}: a sale stayed in doubt: {r.text[:200]}")
                time.sleep(0.2)
                continue
            raise ChaosError(f"open sale refused: {r.status_code} {r.text[:200]}")

    def customer(self, no: str, account: str, plan: SalePlan, record: SaleRecord) -> None:
        """The customer's phone: waits for the PIN request, then types it (or walks away)."""
        view = self.get_sale(no)
        end = time.monotonic() + 30
        while view["state"] in ("CONFIRMED", "SUBMITTED", "UNKNOWN") and time.monotonic() < end:
            view = self.get_sale(no, wait=2, version=view["version"])
        if view["state"] != "USER_PAYING" or plan.code is not CodeKind.PIN_CONFIRMED:
            return
        time.sleep(plan.pin_delay)
        body = {"account": account, "pin": CUSTOMER_PIN, "payment_id": view.get("payment_id")}
        end = time.monotonic() + 5
        while time.monotonic() < end:
            host = self.run.hosts[self.rng.randrange(len(self.run.hosts))]
            try:
                r = _confirm_pin(host.url, body)
            except httpx.TransportError:
                time.sleep(0.2)  # the host is being restarted: the customer tries again
                continue
            if r.status_code < 500:
                record.pin_answer = str(r.json().get("code") or r.status_code)
                return
            time.sleep(0.2)

    def wait_final(self, no: str, timeout: float = 120.0) -> dict[str, Any]:
        """Follow the sale (long-poll) until it is settled, or ``timeout``."""
        view = self.get_sale(no)
        end = time.monotonic() + timeout
        while view["state"] not in FINAL_STATES and time.monotonic() < end:
            view = self.get_sale(no, wait=5, version=view["version"])
        return view

    def refund(self, no: str, view: dict[str, Any], plan: SalePlan, record: SaleRecord) -> None:
        """Supervisor-approved refunds: part, all, or part and then the rest."""
        amount = int(view["amount"])
        steps: list[int | None]
        if plan.refund == "full" or amount < 2:
            steps = [None]
        elif plan.refund == "partial":
            steps = [self.rng.randint(1, amount - 1)]
        else:
            steps = [self.rng.randint(1, amount - 1), None]
        for n, part in enumerate(steps, 1):
            body: dict[str, Any] = {
                "reason": "chaos",
                "supervisor": {"operator_id": SUPERVISOR[0], "pin": SUPERVISOR[1]},
            }
            if part is not None:
                body["amount"] = part
            r = self.request("POST", f"/api/sales/{no}/refunds", body=body, timeout=40)
            if r.status_code != 200:
                # refund_pending: the first one's answer is still unknown - rightly refused.
                record.refunds.append(f"refused:{_error_code(r)}")
                return
            refund = r.json()["refund"]
            if plan.network is not None and n < len(steps):
                # A network's refund is often not final at once (PROCESSING there): the
                # cashier waits for its word before refunding the rest, as at the till.
                refund = self.wait_refund(str(refund["out_refund_no"]), refund)
            record.refunds.append(str(refund["state"]))

    def wait_refund(
        self, out_refund_no: str, view: dict[str, Any], timeout: float = 60.0
    ) -> dict[str, Any]:
        """Ask the agent about a refund until it is SUCCESS or FAILED, or ``timeout``."""
        end = time.monotonic() + timeout
        while view["state"] not in ("SUCCESS", "FAILED") and time.monotonic() < end:
            time.sleep(0.5)
            r = self.request("GET", f"/api/refunds/{out_refund_no}")
            if r.status_code == 200:
                view = r.json()
        return view

    def resume(self, record: SaleRecord) -> None:
        """After the agent died mid-sale: cancel a sale never sent, follow one that was."""
        for _ in range(30):
            try:
                if record.out_trade_no is None:
                    return
                view = self.get_sale(record.out_trade_no)
                if view["state"] in ("NEW", "CODE_READ"):
                    self.request("POST", f"/api/sales/{record.out_trade_no}/cancel")
                record.state = self.wait_final(record.out_trade_no)["state"]
                return
            except AgentDown:
                time.sleep(0.2)
            except ChaosError as exc:
                if "404" in str(exc):
                    return  # the agent died before the sale was journaled
                raise

    def close_open_sales(self) -> int:
        """The cashier cancels what was opened but never sent (recovery phase)."""
        closed = 0
        for state in ("NEW", "CODE_READ"):
            r = self.request("GET", "/api/sales", params={"state": state, "limit": 500})
            for sale in r.json() if r.status_code == 200 else []:
                self.request("POST", f"/api/sales/{sale['out_trade_no']}/cancel")
                closed += 1
        return closed


def _confirm_pin(url: str, body: dict[str, Any]) -> httpx.Response:
    """The customer's wallet page: log in with the PIN, then confirm from that session
    (the host answers a confirmation only to the account's own session)."""
    with httpx.Client(base_url=url, timeout=5) as http:
        login = http.post(
            "/wallet/v1/session", json={"account": body["account"], "pin": body["pin"]}
        )
        if login.status_code != 200:
            return login
        csrf = {"X-Wallet-CSRF": login.json()["csrf"]}
        return http.post("/wallet/v1/confirm", json=body, headers=csrf)
