"""Operators (cashiers and supervisors), their PINs and their sessions.

PINs are 4-8 digits, stored only as argon2id hashes (argon2-cffi). Short PINs
are guessable, so wrong ones are throttled twice over:

- per operator: after ``max_tries`` wrong PINs in a row the operator is locked
  for ``lock_seconds``, doubling with every further wrong PIN (capped at an
  hour); the count lives in the journal, so a restart does not reset it;
- per terminal: more than ``terminal_burst`` wrong PINs within a minute lock
  every login for ``lock_seconds`` (walking through operator ids does not help).

An unknown operator id costs the same time as a known one (a dummy hash is
checked), so ids cannot be probed. A login gives a session token (random, kept
in memory only: a restart logs everybody out). PINs and tokens are never logged.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from scanpay.terminal.errors import TerminalError
from scanpay.terminal.journal import Journal

__all__ = ["Operator", "Operators", "Role", "Session"]

Role = Literal["cashier", "supervisor"]
_PIN = re.compile(r"[0-9]{4,8}")
_ID = re.compile(r"[A-Za-z0-9_\-.@]{1,32}")


@dataclass(frozen=True, slots=True)
class Operator:
    operator_id: str
    name: str
    role: Role

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    def to_dict(self) -> dict[str, Any]:
        return {"operator_id": self.operator_id, "name": self.name, "role": self.role}


@dataclass(slots=True)
class Session:
    token: str
    operator: Operator
    started_at: float
    last_seen: float


class Operators:
    """Operator records (in the journal), PIN checks and sessions."""

    def __init__(
        self,
        journal: Journal,
        *,
        clock: Callable[[], float] = time.time,
        max_tries: int = 3,
        lock_seconds: float = 30.0,
        terminal_burst: int = 10,
        idle_minutes: int = 480,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._journal = journal
        self._clock = clock
        self.max_tries = max_tries
        self.lock_seconds = lock_seconds
        self.terminal_burst = terminal_burst
        self.idle_seconds = idle_minutes * 60.0
        # OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): a login costs about
        # 60 ms on a POS box; argon2-cffi's default (64 MiB, 4 lanes) costs 0.4 s.
        self._hasher = hasher or PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
        self._dummy = self._hasher.hash("00000000")
        self._sessions: dict[str, Session] = {}
        self._failures: deque[float] = deque()
        self._terminal_locked_until = 0.0
        self._lock = threading.Lock()

    # ------------------------------------------------------------ records

    def add(self, operator_id: str, name: str, role: Role, pin: str) -> Operator:
        """Create an operator; the PIN is hashed before it is stored."""
        if not _ID.fullmatch(operator_id):
            raise TerminalError(
                "bad_request", field="operator_id", reason="1-32 of A-Z a-z 0-9 _-.@"
            )
        if role not in ("cashier", "supervisor"):
            raise TerminalError("bad_request", field="role", reason="cashier or supervisor")
        if not _PIN.fullmatch(pin):
            raise TerminalError("bad_new_pin", field="pin")
        if self._journal.operator_row(operator_id) is not None:
            raise TerminalError("operator_exists", operator=operator_id)
        now = self._clock()
        self._journal.insert_operator(operator_id, name, role, self._hasher.hash(pin), now)
        self._journal.append(
            at=now,
            kind="operator",
            ref=operator_id,
            event="operator_added",
            operator_id=operator_id,
            detail={"role": role},
        )
        return Operator(operator_id, name, role)

    def get(self, operator_id: str) -> Operator | None:
        row = self._journal.operator_row(operator_id)
        if row is None or not row["active"]:
            return None
        return Operator(str(row["operator_id"]), str(row["name"]), row["role"])

    def all(self) -> list[Operator]:
        return [
            Operator(str(r["operator_id"]), str(r["name"]), r["role"])
            for r in self._journal.operator_rows()
            if r["active"]
        ]

    # --------------------------------------------------------------- PINs

    def verify(self, operator_id: str, pin: str) -> Operator:
        """The operator if ``pin`` is theirs; ``bad_pin`` or ``pin_locked`` otherwise."""
        now = self._clock()
        with self._lock:
            if now < self._terminal_locked_until:
                raise TerminalError(
                    "pin_locked", seconds=int(self._terminal_locked_until - now) + 1
                )
        row = self._journal.operator_row(operator_id) if _ID.fullmatch(operator_id or "") else None
        if row is not None and now < float(row["locked_until"]):
            raise TerminalError("pin_locked", seconds=int(float(row["locked_until"]) - now) + 1)
        ok = self._check(row["pin_hash"] if row and row["active"] else self._dummy, pin)
        if row is None or not row["active"] or not ok:
            self._failed(row, now)
            raise TerminalError("bad_pin")
        if row["failed"]:
            self._journal.update_operator(operator_id, failed=0, locked_until=0)
        return Operator(str(row["operator_id"]), str(row["name"]), row["role"])

    def _check(self, pin_hash: str, pin: str) -> bool:
        try:
            return self._hasher.verify(pin_hash, pin or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _failed(self, row: dict[str, Any] | None, now: float) -> None:
        with self._lock:
            self._failures.append(now)
            while self._failures and self._failures[0] < now - 60.0:
                self._failures.popleft()
            if len(self._failures) > self.terminal_burst:
                self._terminal_locked_until = now + self.lock_seconds
        if row is None:
            return
        failed = int(row["failed"]) + 1
        locked_until = 0.0
        if failed >= self.max_tries:
            locked_until = now + min(3600.0, self.lock_seconds * 2 ** (failed - self.max_tries))
        self._journal.update_operator(
            str(row["operator_id"]), failed=failed, locked_until=locked_until
        )
        self._journal.append(
            at=now,
            kind="operator",
            ref=str(row["operator_id"]),
            event="wrong_pin",
            operator_id=str(row["operator_id"]),
            detail={"failed": failed, "locked_until": locked_until or None},
        )

    # ------------------------------------------------------------ sessions

    def login(self, operator_id: str, pin: str) -> Session:
        operator = self.verify(operator_id, pin)
        now = self._clock()
        session = Session(secrets.token_urlsafe(32), operator, now, now)
        with self._lock:
            self._sessions[session.token] = session
        self._journal.append(
            at=now,
            kind="operator",
            ref=operator.operator_id,
            event="login",
            operator_id=operator.operator_id,
        )
        return session

    def logout(self, token: str) -> None:
        with self._lock:
            session = self._sessions.pop(token, None)
        if session is not None:
            self._journal.append(
                at=self._clock(),
                kind="operator",
                ref=session.operator.operator_id,
                event="logout",
                operator_id=session.operator.operator_id,
            )

    def session(self, token: str | None) -> Session:
        """The live session for ``token``; ``not_logged_in`` otherwise."""
        now = self._clock()
        with self._lock:
            session = self._sessions.get(token or "")
            if session is None or now - session.last_seen > self.idle_seconds:
                if session is not None:
                    del self._sessions[session.token]
                raise TerminalError("not_logged_in")
            session.last_seen = now
            return session

    def supervisor(self, operator_id: str | None, pin: str | None, current: Operator) -> Operator:
        """The supervisor approving an action: the logged-in one, or one who types their PIN."""
        if current.is_supervisor and not operator_id:
            return current
        if not operator_id or not pin:
            raise TerminalError("supervisor_required")
        approver = self.verify(operator_id, pin)
        if not approver.is_supervisor:
            raise TerminalError("supervisor_required")
        return approver
