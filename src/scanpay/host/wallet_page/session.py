"""The wallet page's sessions: signed cookies, so the host stays stateless.

A session is ``account.epoch.login.expires.nonce`` signed with HMAC-SHA256
under a key derived from the host's master key: any host process can check it,
none has to remember it. It travels in an HttpOnly, SameSite=Strict cookie scoped
to ``/wallet``; it lives :data:`IDLE_SECONDS` after the last request (each
request renews it) and never longer than :data:`MAX_SECONDS` after the login.

``epoch`` is the account's session generation when the session was issued
(``wallet_accounts.session_epoch``): the routes accept a session only while the
account is still at that generation, so a logout, a PIN lock or a PIN change,
which move it on, end every session issued before, on every host process.

Requests that change something must also carry the CSRF token
(``X-Wallet-CSRF``), a second MAC over the session's nonce that the page gets
from the login answer and ``GET /wallet/v1/session``: another site can make
the browser send the cookie, never read the token. The ``Origin`` of such a
request, when given, must be the host itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "IDLE_SECONDS",
    "MAX_SECONDS",
    "SessionCodec",
    "WalletSession",
]

COOKIE = "scanpay_wallet"
CSRF_HEADER = "X-Wallet-CSRF"
IDLE_SECONDS = 15 * 60
MAX_SECONDS = 8 * 3600


@dataclass(frozen=True, slots=True)
class WalletSession:
    """A logged-in wallet: the account and its session generation at login, when it
    logged in, when the session ends."""

    account: str
    epoch: int
    login_at: int
    expires_at: int
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class SessionCodec:
    """Makes and checks session tokens and CSRF tokens (pure: the time is passed in)."""

    def __init__(self, master_key: bytes) -> None:
        self._key = hmac.new(master_key, b"scanpay wallet page session v1", hashlib.sha256).digest()

    def _mac(self, purpose: str, text: str) -> str:
        return _b64(hmac.new(self._key, f"{purpose}|{text}".encode(), hashlib.sha256).digest())

    def issue(self, account: str, epoch: int, now: int) -> tuple[str, WalletSession]:
        """A new session for ``account`` (at session generation ``epoch``) logged in at
        ``now`` (unix seconds)."""
        session = WalletSession(account, epoch, now, now + IDLE_SECONDS, secrets.token_hex(12))
        return self.token(session), session

    def renew(self, session: WalletSession, now: int) -> tuple[str, WalletSession]:
        """The same session (same nonce, same CSRF token) with its idle time restarted."""
        end = min(now + IDLE_SECONDS, session.login_at + MAX_SECONDS)
        renewed = WalletSession(
            session.account, session.epoch, session.login_at, end, session.nonce
        )
        return self.token(renewed), renewed

    def token(self, session: WalletSession) -> str:
        """The signed cookie value of ``session``."""
        s = session
        body = f"{s.account}.{s.epoch}.{s.login_at}.{s.expires_at}.{s.nonce}"
        return f"{body}.{self._mac('session', body)}"

    def read(self, token: str | None, now: int) -> WalletSession | None:
        """The session in ``token``, or None when it is missing, forged or over."""
        if not token or len(token) > 256:
            return None
        body, _, mac = token.rpartition(".")
        if not body or not hmac.compare_digest(mac, self._mac("session", body)):
            return None
        parts = body.split(".")
        if len(parts) != 5 or not all(p.isdigit() for p in parts[1:4]):
            return None
        session = WalletSession(parts[0], int(parts[1]), int(parts[2]), int(parts[3]), parts[4])
        if now >= session.expires_at or now >= session.login_at + MAX_SECONDS:
            return None
        return session

    def csrf(self, session: WalletSession) -> str:
        """The CSRF token of a session (stable across renewals)."""
        return self._mac("csrf", f"{session.account}.{session.nonce}")

    def csrf_ok(self, session: WalletSession, given: str | None) -> bool:
        """Whether ``given`` is the session's CSRF token."""
        return bool(given) and hmac.compare_digest(str(given), self.csrf(session))
