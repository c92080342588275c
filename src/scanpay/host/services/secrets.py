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
terminal key or wallet secret can be read (see ``docs/host.md``, "Keys").

The database holds the key's fingerprint (table ``host_keys``, migration 0006),
recorded the first time a key is used with it, so a key cannot be mixed up:

- :func:`open_box` (behind ``HostContext.secret_box``, so behind every command and
  request that seals or opens) refuses a key whose fingerprint is not the
  database's, with a :class:`MasterKeyError` naming both and where the key was read;
- a database from before fingerprints gets one only once the key has opened a
  value already sealed in it (if there is any);
- no key file is ever created for a database that has a fingerprint or sealed data.

:func:`seal_legacy` converts every older form (plain text, ``enc1``) to ``enc2``;
:func:`rotate_master_key` re-seals everything under a new key in one transaction.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, or_, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import InstrumentedAttribute, Session

from scanpay.host.db.engine import insert_if_new
from scanpay.host.db.models import (
    Application,
    HostKey,
    MerchantChannel,
    NetworkAccount,
    TerminalKey,
    WalletAccount,
)
from scanpay.host.domain.sealing import (
    NONCE_SIZE,
    SealError,
    SecretBox,
    is_current,
    is_sealed,
    short_fingerprint,
)
from scanpay.host.errors import HostError
from scanpay.host.services.context import HostContext
from scanpay.host.settings import HostSettings
from scanpay.i18n import Text

__all__ = [
    "APPLICATION_CODES",
    "CHANNEL_SECRETS",
    "NETWORK_ACCOUNT_SECRETS",
    "TERMINAL_KEY",
    "WALLET_SECRET",
    "MasterKeyError",
    "Rotation",
    "key_file_path",
    "key_problem",
    "key_source",
    "load_master_key",
    "open_box",
    "record_fingerprint",
    "rotate_master_key",
    "seal",
    "seal_legacy",
    "stored_fingerprint",
    "terminal_key",
    "wallet_secret",
    "write_key_file",
]

log = logging.getLogger("scanpay.host.secrets")

#: Purposes (bound into each sealed value, so a value cannot be moved to another column).
TERMINAL_KEY = "terminal-key"
WALLET_SECRET = "wallet-secret"
#: The portal's sealed activation codes (``scanpay.host.portal.onboarding.CODES_PURPOSE``).
APPLICATION_CODES = "portal-activation-codes"
#: A network account's and a direct channel's secrets, each row's one sealed JSON object
#: (``scanpay.host.services.channel_secrets``).
NETWORK_ACCOUNT_SECRETS = "network-account-secrets"
CHANNEL_SECRETS = "channel-secrets"
_MASTER = "master"

# Every sealed column: (model, primary key, sealed column, plain-text column, purpose).
# A rotation and the conversion of old formats go through all of them.
_SEALED: tuple[
    tuple[
        type[Any],
        InstrumentedAttribute[int],
        InstrumentedAttribute[str | None],
        InstrumentedAttribute[str] | None,
        str,
    ],
    ...,
] = (
    (TerminalKey, TerminalKey.id, TerminalKey.key_sealed, TerminalKey.key_hex, TERMINAL_KEY),
    (
        WalletAccount,
        WalletAccount.id,
        WalletAccount.secret_sealed,
        WalletAccount.secret_hex,
        WALLET_SECRET,
    ),
    (Application, Application.id, Application.codes_sealed, None, APPLICATION_CODES),
    (
        NetworkAccount,
        NetworkAccount.id,
        NetworkAccount.secrets_sealed,
        None,
        NETWORK_ACCOUNT_SECRETS,
    ),
    (MerchantChannel, MerchantChannel.id, MerchantChannel.secrets_sealed, None, CHANNEL_SECRETS),
)


class MasterKeyError(HostError, SealError):
    """The master key is not the database's (or is missing): nothing is sealed or opened.

    ``expected`` is the database's fingerprint (None: the database has sealed data but
    no fingerprint yet), ``found`` the key's (None: no key), ``source`` where it was read.
    """

    def __init__(self, text: Text, *, expected: str | None, found: str | None, source: str):
        super().__init__("96", text, field="master_key")
        self.expected = expected
        self.found = found
        self.source = source


def _mismatch(expected: str | None, found: str, source: str) -> MasterKeyError:
    want = short_fingerprint(expected) if expected else None
    have = short_fingerprint(found)
    if want is None:
        text = Text(
            f"主密钥打不开数据库中已封存的密钥：从 {source} 读到的主密钥（指纹 {have}）"
            "不是封存它们的那一把；请找回原来的主密钥",
            f"the master key read from {source} (fingerprint {have}) does not open the "
            "secrets sealed in the database: they were sealed under another key; "
            "find the original master key",
        )
    else:
        text = Text(
            f"主密钥与数据库不符：数据库的主密钥指纹为 {want}，从 {source} 读到的为 {have}；"
            "请使用数据库的主密钥（见 docs/host.md 的 Keys 一节）",
            f"the master key does not match the database: the database's key has "
            f"fingerprint {want}, the key read from {source} has {have}; use the "
            "database's key (docs/host.md, Keys)",
        )
    return MasterKeyError(text, expected=expected, found=found, source=source)


def _missing(expected: str | None, source: str) -> MasterKeyError:
    which = f"指纹 {short_fingerprint(expected)}" if expected else "未记录指纹"
    which_en = f"fingerprint {short_fingerprint(expected)}" if expected else "no fingerprint yet"
    return MasterKeyError(
        Text(
            f"找不到主密钥 {source}，而数据库已有用主密钥（{which}）封存的数据："
            "未创建新密钥（新密钥打不开它们）；请恢复原来的密钥文件，或设置 "
            "SCANPAY_MASTER_KEY_FILE / SCANPAY_DATA_DIR 指向它",
            f"no master key at {source}, but the database holds data sealed under its "
            f"master key ({which_en}): no new key was made (it could not open them); "
            "put the key file back, or point SCANPAY_MASTER_KEY_FILE or "
            "SCANPAY_DATA_DIR at it",
        ),
        expected=expected,
        found=None,
        source=source,
    )


def key_file_path(settings: HostSettings) -> Path:
    """Where the master key file is (whether or not it exists yet), as an absolute path."""
    if settings.master_key_file:
        return Path(settings.master_key_file).absolute()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return Path(url.database).resolve().parent / "master.key"
    return Path(settings.data_dir).absolute() / "master.key"


def key_source(settings: HostSettings) -> str:
    """Where the master key is read from, for people: the variable or the file's path."""
    if settings.master_key:
        return "SCANPAY_MASTER_KEY"
    return str(key_file_path(settings))


def load_master_key(settings: HostSettings, *, create: bool = True) -> bytes:
    """The 32-byte master key (see the module docstring); creates the default file when
    missing and ``create`` (:func:`open_box` decides that: never for a database with
    sealed data)."""
    if settings.master_key:
        return bytes.fromhex(settings.master_key)
    path = key_file_path(settings)
    if create and not path.exists() and not settings.master_key_file:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            # O_EXCL: two processes starting at once cannot both write a different key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            log.warning("created a new master key in %s: keep it, and apart from backups", path)
    text_ = path.read_text().strip()
    if len(text_) != 64:
        raise ValueError(f"{path} does not hold a master key (64 hex characters)")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("the master key file %s is readable by others (mode %o)", path, mode)
    return bytes.fromhex(text_)


def _tables(ctx: HostContext) -> dict[str, set[str]]:
    """The tables the database has, with their columns (an old schema lacks some)."""
    inspector = inspect(ctx.db.engine)
    return {
        name: {c["name"] for c in inspector.get_columns(name)}
        for name in inspector.get_table_names()
    }


def stored_fingerprint(ctx: HostContext) -> str | None:
    """The database's master key fingerprint (None: none recorded, or no table yet)."""
    if not inspect(ctx.db.engine).has_table("host_keys"):
        return None
    with ctx.db.read() as session:
        found: str | None = session.scalar(
            select(HostKey.fingerprint).where(HostKey.name == _MASTER)
        )
        return found


def _a_sealed_value(ctx: HostContext) -> tuple[str, str] | None:
    """One sealed value in the database and its purpose (None: nothing sealed)."""
    tables = _tables(ctx)
    with ctx.db.engine.connect() as conn:
        for model, _, column, _, purpose in _SEALED:
            table = model.__tablename__
            if column.key not in tables.get(table, set()):
                continue
            # Our own table and column names, no input: nothing to inject.
            query = f"SELECT {column.key} FROM {table} WHERE {column.key} LIKE 'enc%' LIMIT 1"
            value = conn.execute(text(query)).scalar()
            if isinstance(value, str) and is_sealed(value):
                return value, purpose
    return None


def open_box(ctx: HostContext) -> SecretBox:
    """The secret box of this database's master key, checked against its fingerprint
    (see the module docstring). Writes nothing: :func:`record_fingerprint` does that.

    Raises :class:`MasterKeyError` for another key or a missing one.
    """
    settings = ctx.settings
    source = key_source(settings)
    stored = stored_fingerprint(ctx)
    missing = not settings.master_key and not key_file_path(settings).exists()
    if missing and (stored is not None or _a_sealed_value(ctx) is not None):
        raise _missing(stored, source)
    box = SecretBox(load_master_key(settings))
    if stored is not None:
        if stored != box.fingerprint:
            raise _mismatch(stored, box.fingerprint, source)
        return box
    sample = _a_sealed_value(ctx)
    if sample is not None:
        try:
            box.open(*sample)
        except SealError:
            raise _mismatch(None, box.fingerprint, source) from None
    return box


def record_fingerprint(ctx: HostContext) -> None:
    """Record the fingerprint of this process's (checked) master key in a database that
    has none yet. Called where a host starts (``init``, ``serve``, each worker), outside
    any transaction: :func:`open_box` itself never writes, because it runs inside
    whatever transaction first needs the key, and a second write transaction from the
    same process would wait on the first one (SQLite's single writer)."""
    box = ctx.secret_box
    if not inspect(ctx.db.engine).has_table("host_keys"):
        return
    if stored_fingerprint(ctx) is None:
        table: Any = HostKey.__table__
        statement = insert_if_new(table, table.c.name)[ctx.db.dialect]
        with ctx.db.write() as session:
            session.execute(
                statement,
                {"name": _MASTER, "fingerprint": box.fingerprint, "recorded_at": ctx.now()},
            )
    # Another process may have recorded its key first: the one recorded is the rule.
    stored = stored_fingerprint(ctx)
    if stored != box.fingerprint:
        raise _mismatch(stored, box.fingerprint, key_source(ctx.settings))
    log.info("master key %s in use", short_fingerprint(box.fingerprint))


def key_problem(ctx: HostContext) -> str | None:
    """Why this process's master key does not open the database (None: it does), for
    ``/readyz``: checked on every call, so a rotation made elsewhere shows at once."""
    try:
        box = ctx.secret_box
        stored = stored_fingerprint(ctx)
    except MasterKeyError as exc:
        return exc.text.en
    except (OSError, ValueError) as exc:
        return f"the master key cannot be read ({type(exc).__name__})"
    if stored is not None and stored != box.fingerprint:
        return _mismatch(stored, box.fingerprint, key_source(ctx.settings)).text.en
    return None


def seal(ctx: HostContext, plaintext: str, purpose: str) -> str:
    """``plaintext`` sealed for storage."""
    return ctx.secret_box.seal(plaintext, purpose, secrets.token_bytes(NONCE_SIZE))


def terminal_key(ctx: HostContext, sealed: str | None, legacy: str) -> str:
    """A terminal key in plain text, from its stored columns."""
    return ctx.secret_box.open(sealed, TERMINAL_KEY) if sealed else legacy


def wallet_secret(ctx: HostContext, sealed: str | None, legacy: str) -> bytes:
    """A wallet account's code secret, from its stored columns."""
    return bytes.fromhex(ctx.secret_box.open(sealed, WALLET_SECRET) if sealed else legacy)


def _reseal_all(session: Session, old: SecretBox, new: SecretBox, *, only_old: bool) -> int:
    """Re-seal under ``new`` what ``old`` opens: every sealed value (``only_old``: only
    those not yet ``enc2``, and the plain-text ones). Each row moves only if its value is
    still the one read, so processes converting at once change each row once."""
    done = 0
    for model, pk, column, plain, purpose in _SEALED:
        columns = [pk, column] + ([plain] if plain is not None else [])
        query = select(*columns)
        if only_old:  # plain text (no sealed value yet) and every format but enc2
            older = column.not_like("enc2:%")
            query = query.where(or_(older, column.is_(None)) if plain is not None else older)
        elif plain is None:
            query = query.where(column.is_not(None))
        for row in session.execute(query).all():
            key = int(str(row[0]))
            value = None if row[1] is None else str(row[1])
            if value is None:
                if plain is None:
                    continue
                opened = str(row[2])
            else:
                if only_old and is_current(value):
                    continue
                opened = old.open(value, purpose)
            sealed = new.seal(opened, purpose, secrets.token_bytes(NONCE_SIZE))
            match = column.is_(None) if value is None else column == value
            values: dict[str, str] = {column.key: sealed}
            if plain is not None:
                values[plain.key] = ""
            result = session.execute(update(model).where(pk == key, match).values(**values))
            done += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return done


def seal_legacy(ctx: HostContext) -> int:
    """Convert every terminal key, wallet secret, activation code and network channel's
    secrets still in an older form (plain text from before sealing, ``enc1`` of
    bcec4f4..9ab61d3) to ``enc2``; returns how many. Checks the master key first
    (:func:`open_box`). Safe to run at every start, in every process: each row moves
    only if it is still what was read."""
    record_fingerprint(ctx)
    box: SecretBox = ctx.secret_box
    with ctx.db.write() as session:
        done = _reseal_all(session, box, box, only_old=True)
    if done:
        log.info("converted %d secrets to the current sealed format", done)
    return done


@dataclass(frozen=True, slots=True)
class Rotation:
    """What :func:`rotate_master_key` did."""

    old_fingerprint: str
    new_fingerprint: str
    resealed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_fingerprint": self.old_fingerprint,
            "new_fingerprint": self.new_fingerprint,
            "resealed": self.resealed,
        }


def rotate_master_key(ctx: HostContext, new_key: bytes) -> Rotation:
    """Re-seal every terminal key, wallet secret, activation code and network channel's
    secrets (one sealed value per account or channel row) under ``new_key`` and record
    its fingerprint, in one transaction (all or nothing). The caller keeps the new key
    safe *before* calling (:func:`write_key_file`), then retires the old. From then on
    ``ctx`` seals and opens with the new key."""
    old = ctx.secret_box
    new = SecretBox(new_key)
    if new.fingerprint == old.fingerprint:
        raise ValueError("the new master key is the old one")
    with ctx.db.write() as session:
        # Locks the fingerprint (PostgreSQL; SQLite's write transaction is exclusive), so
        # two rotations cannot interleave, and checks it is still ours under the lock.
        row = session.execute(
            select(HostKey).where(HostKey.name == _MASTER).with_for_update()
        ).scalar_one_or_none()
        if row is None or row.fingerprint != old.fingerprint:
            raise _mismatch(row.fingerprint if row else None, old.fingerprint, "this process")
        done = _reseal_all(session, old, new, only_old=False)
        row.fingerprint = new.fingerprint
        row.recorded_at = ctx.now()
    ctx.use_secret_box(new)
    log.warning(
        "master key rotated: %d secrets re-sealed, fingerprint %s (was %s)",
        done,
        short_fingerprint(new.fingerprint),
        short_fingerprint(old.fingerprint),
    )
    return Rotation(old.fingerprint, new.fingerprint, done)


def write_key_file(path: Path, key: bytes) -> None:
    """Write ``key`` to ``path`` safely: a new file (mode 0600, synced) renamed over it,
    so a reader sees the old key or the new one, never a part of one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(key.hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself survives a crash
    finally:
        os.close(folder)
