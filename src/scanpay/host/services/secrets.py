"""The host's master key, and sealing terminal keys and wallet secrets with it.

Where the master key comes from, in order:

1. ``SCANPAY_MASTER_KEY`` (64 hex characters);
2. ``SCANPAY_MASTER_KEY_FILE``;
3. a ``master.key`` file beside the SQLite database (PostgreSQL: in the data
   directory), created with mode 0600 on first use.

Several host processes on one PostgreSQL must share the key: give each the
same ``SCANPAY_MASTER_KEY`` or key file. The key never enters the database or
its backups, so a stolen backup does not hold a usable terminal key or wallet
secret; keep the key apart from the backups, and keep it: without it no
terminal key or wallet secret can be read (see ``docs/host.md``).
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from scanpay.host.db.models import TerminalKey, WalletAccount
from scanpay.host.domain.sealing import NONCE_SIZE, SecretBox
from scanpay.host.services.context import HostContext
from scanpay.host.settings import HostSettings

__all__ = [
    "TERMINAL_KEY",
    "WALLET_SECRET",
    "key_file_path",
    "load_master_key",
    "seal",
    "seal_legacy",
    "terminal_key",
    "wallet_secret",
]

log = logging.getLogger("scanpay.host.secrets")

#: Purposes (bound into each sealed value, so a value cannot be moved to another column).
TERMINAL_KEY = "terminal-key"
WALLET_SECRET = "wallet-secret"


def key_file_path(settings: HostSettings) -> Path:
    """Where the master key file is (whether or not it exists yet)."""
    if settings.master_key_file:
        return Path(settings.master_key_file)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return Path(url.database).resolve().parent / "master.key"
    return Path(settings.data_dir) / "master.key"


def load_master_key(settings: HostSettings) -> bytes:
    """The 32-byte master key (see the module docstring); creates the file when missing."""
    if settings.master_key:
        return bytes.fromhex(settings.master_key)
    path = key_file_path(settings)
    if not path.exists() and not settings.master_key_file:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            # O_EXCL: two processes starting at once cannot both write a different key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            log.warning("created a new master key in %s: keep it, and apart from backups", path)
    text = path.read_text().strip()
    if len(text) != 64:
        raise ValueError(f"{path} does not hold a master key (64 hex characters)")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("the master key file %s is readable by others (mode %o)", path, mode)
    return bytes.fromhex(text)


def seal(ctx: HostContext, plaintext: str, purpose: str) -> str:
    """``plaintext`` sealed for storage."""
    return ctx.secret_box.seal(plaintext, purpose, secrets.token_bytes(NONCE_SIZE))


def terminal_key(ctx: HostContext, sealed: str | None, legacy: str) -> str:
    """A terminal key in plain text, from its stored columns."""
    return ctx.secret_box.open(sealed, TERMINAL_KEY) if sealed else legacy


def wallet_secret(ctx: HostContext, sealed: str | None, legacy: str) -> bytes:
    """A wallet account's code secret, from its stored columns."""
    return bytes.fromhex(ctx.secret_box.open(sealed, WALLET_SECRET) if sealed else legacy)


def seal_legacy(ctx: HostContext) -> int:
    """Seal every terminal key and wallet secret still stored in plain text (from before
    sealing existed); returns how many. Safe to run at every start, in every process:
    each row moves only if it is still unsealed."""
    box: SecretBox = ctx.secret_box
    done = 0
    with ctx.db.write() as session:
        keys = session.execute(
            select(TerminalKey.id, TerminalKey.key_hex).where(TerminalKey.key_sealed.is_(None))
        ).all()
        for pk, value in keys:
            sealed = box.seal(value, TERMINAL_KEY, secrets.token_bytes(NONCE_SIZE))
            session.execute(
                update(TerminalKey)
                .where(TerminalKey.id == pk, TerminalKey.key_sealed.is_(None))
                .values(key_sealed=sealed, key_hex="")
            )
            done += 1
        accounts = session.execute(
            select(WalletAccount.id, WalletAccount.secret_hex).where(
                WalletAccount.secret_sealed.is_(None)
            )
        ).all()
        for pk, value in accounts:
            sealed = box.seal(value, WALLET_SECRET, secrets.token_bytes(NONCE_SIZE))
            session.execute(
                update(WalletAccount)
                .where(WalletAccount.id == pk, WalletAccount.secret_sealed.is_(None))
                .values(secret_sealed=sealed, secret_hex="")
            )
            done += 1
    if done:
        log.info("sealed %d secrets stored in plain text", done)
    return done
