"""``scanpay host``: run and operate the acquiring host.

Every command reads ``SCANPAY_DATABASE_URL`` (or ``--database-url``) and has
``--json`` for scripts. Every change is written to the audit trail with the
operator's name (``--operator``, ``SCANPAY_OPERATOR``, or the login name).
Exit codes: 0 done, 1 refused (the error's code and message are printed), 2 usage.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer

from scanpay.cli.language import cli_language
from scanpay.cli.secret_input import read_secrets
from scanpay.host.db.engine import private_folder
from scanpay.host.db.migrate import current_revision, head_revision, upgrade
from scanpay.host.domain.pin import tries_left_text
from scanpay.host.domain.risk import RULES
from scanpay.host.domain.sealing import short_fingerprint
from scanpay.host.errors import HostError
from scanpay.host.services import (
    audit,
    channels,
    ledger,
    merchants,
    network_accounts,
    network_legs,
    operations,
    pin_waits,
    risk,
    settlement,
    terminals,
    wallets,
)
from scanpay.host.services.context import HostContext
from scanpay.host.services.secrets import seal_legacy
from scanpay.host.settings import HostSettings
from scanpay.i18n import Text
from scanpay.money import MoneyError, format_amount, get_currency, read_amount

__all__ = ["app"]

app = typer.Typer(help="The acquiring host: database, server, merchants, terminals, wallets.")
merchant_app = typer.Typer(help="Onboard, review and suspend merchants; set fee rates.")
terminal_app = typer.Typer(help="Add terminals and rotate their keys.")
wallet_app = typer.Typer(help="The built-in wallet: accounts, one-time codes, PIN confirmation.")
ledger_app = typer.Typer(help="The double-entry ledger.")
limits_app = typer.Typer(help="Risk limits: per-transaction, daily, velocity, lockout...")
audit_app = typer.Typer(help="The append-only, hash-chained audit trail.")
review_app = typer.Typer(help="Transactions the risk rules flagged for review.")
user_app = typer.Typer(help="Merchant portal logins: merchants' owners, accountants, operators.")
app.add_typer(merchant_app, name="merchant")
app.add_typer(terminal_app, name="terminal")
app.add_typer(wallet_app, name="wallet")
app.add_typer(ledger_app, name="ledger")
app.add_typer(limits_app, name="limits")
app.add_typer(audit_app, name="audit")
app.add_typer(review_app, name="review")
app.add_typer(user_app, name="user")

EXIT_REFUSED = 1
T = TypeVar("T")

# A refusal's line keeps the stable code, its name and the field in both languages, so
# whoever reads it can look the code up; only the sentence is the person's language.
REFUSED = Text(
    "已拒绝：{code} {name}{where}：{message}", "refused: {code} {name}{where}: {message}"
)
NOT_MIGRATED = Text(
    "数据库不存在或尚未迁移：请先运行 `scanpay host init`",
    "the database is missing or not migrated: run `scanpay host init` first",
)

JsonOption = typer.Option(False, "--json", help="Print JSON.")
_OPERATOR: dict[str, str] = {}
# --database-url of this invocation; kept here, not put in os.environ, so that a
# command run in-process (tests, `scanpay run`) leaves the process's environment alone.
_DATABASE: dict[str, str] = {}


@app.callback()
def _host(
    database_url: str | None = typer.Option(
        None, "--database-url", envvar="SCANPAY_DATABASE_URL", help="SQLAlchemy database URL."
    ),
    operator: str | None = typer.Option(
        None, "--operator", envvar="SCANPAY_OPERATOR", help="Who you are, for the audit trail."
    ),
) -> None:
    """Run and operate the acquiring host."""
    _DATABASE.clear()
    if database_url:
        _DATABASE["url"] = database_url
    _OPERATOR["name"] = operator or _login_name()


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return "operator"


def _actor() -> audit.Actor:
    return audit.Actor.operator(_OPERATOR.get("name") or _login_name())


def _environ() -> dict[str, str]:
    """The environment with this invocation's --database-url in it."""
    env = dict(os.environ)
    if "url" in _DATABASE:
        env["SCANPAY_DATABASE_URL"] = _DATABASE["url"]
    return env


def _usage(zh: str, en: str) -> NoReturn:
    """A command used wrongly: said in the locale's language, exit 2 (as click does)."""
    typer.echo(Text(zh, en).get(cli_language()), err=True)
    raise typer.Exit(2)


def _settings() -> HostSettings:
    try:
        return HostSettings.from_env(_environ())
    except ValueError as exc:
        _usage(f"设置有误：{exc}", f"bad settings: {exc}")


def _local(when: datetime, pattern: str = "%H:%M:%S") -> str:
    """A moment in the business day's timezone (``SCANPAY_TIMEZONE``), named: the
    clocks a shop and its operators read, not UTC."""
    zone = _settings().zone
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)  # SQLite: naive UTC
    return f"{aware.astimezone(zone).strftime(pattern)} ({zone.key})"


@contextmanager
def _context(*, migrated: bool = True) -> Iterator[HostContext]:
    settings = _settings()
    data_dir = Path(settings.data_dir)
    if data_dir.is_dir():  # the master key, backups, settlement files: ours only (0700)
        private_folder(data_dir)
    ctx = HostContext.open(settings)
    try:
        if migrated and current_revision(ctx.db) != head_revision():
            typer.echo(NOT_MIGRATED.get(cli_language()), err=True)
            raise typer.Exit(EXIT_REFUSED)
        yield ctx
    finally:
        ctx.close()


def _emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str))
    else:
        human()


def _run(as_json: bool, action: Callable[[HostContext], T], *, migrated: bool = True) -> T:
    """Run a service call; a refusal is printed (JSON or text) and exits 1."""
    with _context(migrated=migrated) as ctx:
        try:
            return action(ctx)
        except HostError as exc:
            if as_json:
                typer.echo(
                    json.dumps({"error": exc.to_dict(), "name": exc.name}, ensure_ascii=False)
                )
            else:
                where = f" ({exc.field})" if exc.field else ""
                language = cli_language()
                line = REFUSED.format(
                    code=exc.code, name=exc.name, where=where, message=exc.text.get(language)
                )
                typer.echo(line.get(language), err=True)
            raise typer.Exit(EXIT_REFUSED) from None


def _each(items: list[T], show: Callable[[T], None]) -> None:
    for item in items:
        show(item)


def _amount(text: str, currency: str, field: str) -> int:
    """An amount typed on the command line (zero is a balance or a limit, so allowed)."""
    try:
        return read_amount(text, currency, allow_zero=True, field=field)
    except MoneyError as exc:
        raise HostError("13", exc.text, field=field) from None


# --------------------------------------------------------------------------- database, server


@app.command("init")
def init_command(as_json: bool = JsonOption) -> None:
    """Create the database, or migrate it to the current schema.

    Then checks the master key against the database's fingerprint (refused if it is
    another key; recorded if the database has none yet) and converts every secret
    sealed in an older form to the current one.
    """

    def migrate(ctx: HostContext) -> dict[str, Any]:
        before = current_revision(ctx.db)
        after = upgrade(ctx.db)
        sealed = seal_legacy(ctx)
        return {
            "database": ctx.db.engine.url.render_as_string(hide_password=True),
            "from": before,
            "revision": after,
            "sealed_secrets": sealed,
            "master_key": short_fingerprint(ctx.secret_box.fingerprint),
        }

    data = _run(as_json, migrate, migrated=False)
    _emit(
        as_json,
        data,
        lambda: typer.echo(
            f"database at revision {data['revision']} (was {data['from']}); "
            f"master key {data['master_key']}"
        ),
    )


@app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8600, "--port"),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    log_level: str = typer.Option("info", "--log-level"),
    certfile: Path | None = typer.Option(None, "--certfile", help="TLS certificate (PEM)."),
    keyfile: Path | None = typer.Option(None, "--keyfile", help="TLS private key (PEM)."),
) -> None:
    """Serve the host API (migrates the database first).

    With --certfile and --keyfile it speaks HTTPS only. Logs are JSON lines on
    stderr, each with a request id.
    """
    from scanpay.host.logs import configure_logging
    from scanpay.host.serving import host_config, serve

    if (certfile is None) != (keyfile is None):
        _usage(
            "--certfile 与 --keyfile 要么都给，要么都不给",
            "give both --certfile and --keyfile (or neither)",
        )
    for path in (certfile, keyfile):
        if path is not None and not path.is_file():
            _usage(f"找不到文件：{path}", f"no such file: {path}")
    # First, before anything can log (the data folder tightened, a new master key):
    # every line of serve is a JSON line.
    configure_logging(log_level)
    settings = _settings()
    marked = ExitStack()  # released when the process ends, however it ends
    try:
        # Held until serve returns (the workers' parent): a restore refuses meanwhile.
        marked.enter_context(operations.serving(settings))
    except HostError as exc:
        # A log line like every other of serve (JSON), for whatever collects them.
        logging.getLogger("scanpay.host").error("not serving: %s", exc.text.en)
        raise typer.Exit(EXIT_REFUSED) from None
    # The master key is checked here (another key: refused before anything listens).
    _run(False, lambda ctx: (upgrade(ctx.db), seal_legacy(ctx)), migrated=False)
    # Workers re-read the settings from the environment (the database URL included);
    # serve runs until the process ends, so it may set them there.
    os.environ.update(_environ())
    os.environ["SCANPAY_LOG_LEVEL"] = log_level
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "log_level": log_level,
        "log_config": None,  # ours: JSON lines with the request id
        "use_colors": False,  # no ANSI escapes in a log line, whatever the terminal
        "access_log": False,  # ours has the request id and the route
        "ssl_certfile": str(certfile) if certfile else None,
        "ssl_keyfile": str(keyfile) if keyfile else None,
    }
    target = "scanpay.host.api.app:create_app_from_env"
    with marked, _worker_metrics(workers):
        # A listening socket per worker (connections spread over all of them), a deadline
        # for request heads, a cap on connections per worker, HSTS over TLS.
        serve(host_config(target, settings, **options))


@contextmanager
def _worker_metrics(workers: int) -> Iterator[None]:
    """With several workers, a directory where each keeps its metrics, so that a scrape
    of any one of them adds up all (see :mod:`scanpay.host.metrics`). Set before the
    workers start: prometheus_client reads it when a worker imports it."""
    if workers < 2:
        yield
        return
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    directory = Path(given) if given else Path(tempfile.mkdtemp(prefix="scanpay-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # a previous run's counts are not this run's
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    try:
        yield
    finally:
        if not given:
            shutil.rmtree(directory, ignore_errors=True)


@app.command("certs")
def certs_command(
    out: Path = typer.Option(Path("./data/tls"), "--out", help="Directory for the pair."),
    name: list[str] = typer.Option(
        ["localhost", "127.0.0.1"], "--name", help="Host names and IPs the certificate is for."
    ),
    days: int = typer.Option(30, "--days", min=1, max=825),
    as_json: bool = JsonOption,
) -> None:
    """Make a self-signed certificate and key for trying HTTPS.

    Not for production. Terminals trust it with `scanpay terminal activate --ca-file
    host.crt` (the certificate is its own CA), optionally pinning the printed sha256.
    """
    data = _make_certs(out, name, days)
    _emit(
        as_json,
        data,
        lambda: typer.echo(
            f"certificate {data['certfile']}\nkey         {data['keyfile']} (mode 600)\n"
            f"sha256      {data['fingerprint_sha256']}\n"
            f"serve with: scanpay host serve --certfile {data['certfile']} "
            f"--keyfile {data['keyfile']}\n"
            f"terminals:  scanpay terminal activate --host https://{name[0]}:8600 --code CODE "
            f"--ca-file {data['certfile']} [--pin-sha256 {data['fingerprint_sha256']}]"
        ),
    )


def _make_certs(out: Path, names: list[str], days: int) -> dict[str, Any]:
    # The `cryptography` package is not a dependency, so the openssl tool makes the pair.
    openssl = shutil.which("openssl")
    if openssl is None:
        typer.echo("the openssl command is needed to make a certificate", err=True)
        raise typer.Exit(EXIT_REFUSED)
    import ipaddress

    def san(item: str) -> str:
        try:
            ipaddress.ip_address(item)
        except ValueError:
            return f"DNS:{item}"
        return f"IP:{item}"

    out.mkdir(parents=True, exist_ok=True)
    cert, key = out / "host.crt", out / "host.key"
    command = [
        openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", str(days),
        "-subj", f"/CN={names[0]}/O=scanpay test host",
        "-addext", "subjectAltName=" + ",".join(san(n) for n in names),
        "-addext", "basicConstraints=critical,CA:TRUE",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        typer.echo(f"openssl failed: {done.stderr.strip()[-500:]}", err=True)
        raise typer.Exit(EXIT_REFUSED)
    os.chmod(key, 0o600)
    from scanpay.terminal.tls import pem_fingerprint

    return {
        "certfile": str(cert),
        "keyfile": str(key),
        "names": names,
        "days": days,
        # What a terminal may pin (`scanpay terminal activate --pin-sha256`).
        "fingerprint_sha256": pem_fingerprint(cert),
    }


# --------------------------------------------------------------------------- merchants


def _print_merchant(m: merchants.MerchantInfo) -> None:
    typer.echo(
        f"{m.merchant_id}  {m.status:<9}  {m.name} ({m.city}, MCC {m.mcc})  "
        f"licence {m.license}  fee {m.fee_rate}  payee {m.payee}"
    )


@merchant_app.command("add")
def merchant_add(
    name: str = typer.Option(..., "--name"),
    city: str = typer.Option(..., "--city"),
    mcc: str = typer.Option(..., "--mcc", help="Merchant category code (4 digits)."),
    license: str = typer.Option(..., "--license", help="Unified social credit code (18)."),
    fee_rate: str = typer.Option("0.0038", "--fee-rate", help="0.0038 = 0.38 %."),
    currency: str = typer.Option("CNY", "--currency"),
    payee: str | None = typer.Option(None, "--payee", help="Registered payee account."),
    as_json: bool = JsonOption,
) -> None:
    """Create a merchant in review (the licence's GB 32100 check character is verified)."""
    info = _run(
        as_json,
        lambda ctx: merchants.add_merchant(
            ctx,
            name=name,
            city=city,
            mcc=mcc,
            license=license,
            fee_rate=fee_rate,
            currency=currency,
            payee=payee,
            actor=_actor(),
        ),
    )
    _emit(as_json, info.to_dict(), lambda: _print_merchant(info))


@merchant_app.command("approve")
def merchant_approve(merchant_id: str, as_json: bool = JsonOption) -> None:
    """Approve a merchant after review (or reinstate a suspended one)."""
    info = _run(
        as_json, lambda ctx: merchants.set_status(ctx, merchant_id, "approve", actor=_actor())
    )
    _emit(as_json, info.to_dict(), lambda: _print_merchant(info))


@merchant_app.command("suspend")
def merchant_suspend(merchant_id: str, as_json: bool = JsonOption) -> None:
    """Suspend a merchant: its terminals take no more payments (queries and reversals work)."""
    info = _run(
        as_json, lambda ctx: merchants.set_status(ctx, merchant_id, "suspend", actor=_actor())
    )
    _emit(as_json, info.to_dict(), lambda: _print_merchant(info))


@merchant_app.command("fee")
def merchant_fee(merchant_id: str, fee_rate: str, as_json: bool = JsonOption) -> None:
    """Set a merchant's fee rate (0.0038 = 0.38 %) for the days settled from now on."""
    info = _run(
        as_json, lambda ctx: merchants.set_fee_rate(ctx, merchant_id, fee_rate, actor=_actor())
    )
    _emit(as_json, info.to_dict(), lambda: _print_merchant(info))


@merchant_app.command("list")
def merchant_list(as_json: bool = JsonOption) -> None:
    """Every merchant."""
    items = _run(as_json, merchants.list_merchants)
    _emit(as_json, [m.to_dict() for m in items], lambda: _each(items, _print_merchant))


# --------------------------------------------------------------------------- terminals


@terminal_app.command("add")
def terminal_add(
    merchant: str = typer.Option(..., "--merchant", help="Merchant id (M...)."),
    as_json: bool = JsonOption,
) -> None:
    """Add a terminal; prints its id and one-time activation code."""
    issued = _run(as_json, lambda ctx: terminals.add_terminal(ctx, merchant, actor=_actor()))
    _emit(
        as_json,
        issued.to_dict(),
        lambda: typer.echo(
            f"terminal {issued.terminal_id}  activation code {issued.activation_code}"
            f"  (one use, expires {_local(issued.expires_at, '%Y-%m-%d %H:%M')})"
        ),
    )


@terminal_app.command("rotate-key")
def terminal_rotate(
    terminal_id: str,
    grace: int | None = typer.Option(
        None, "--grace", help="Seconds the old key keeps working (default SCANPAY_KEY_GRACE)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Rotate a terminal's key: a one-time code the terminal activates with again."""
    issued = _run(
        as_json, lambda ctx: terminals.rotate_key(ctx, terminal_id, grace, actor=_actor())
    )
    _emit(
        as_json,
        issued.to_dict(),
        lambda: typer.echo(
            f"terminal {issued.terminal_id}  rotation code {issued.activation_code}"
            f"  (activate with it to get the new key)"
        ),
    )


@terminal_app.command("list")
def terminal_list(
    merchant: str | None = typer.Option(None, "--merchant"), as_json: bool = JsonOption
) -> None:
    """Terminals, with their status, software version and usable keys."""
    items = _run(as_json, lambda ctx: terminals.list_terminals(ctx, merchant))
    _emit(
        as_json,
        [t.to_dict() for t in items],
        lambda: _each(
            items,
            lambda t: typer.echo(
                f"{t.terminal_id}  {t.merchant_id}  {t.status:<8}  "
                f"version {t.software_version or '-'}  keys {t.keys}"
            ),
        ),
    )


# --------------------------------------------------------------------------- wallet


@wallet_app.command("open")
def wallet_open(
    name: str = typer.Option(..., "--name"),
    currency: str = typer.Option("CNY", "--currency"),
    balance: str = typer.Option("0", "--balance", help="Opening balance, e.g. 500.00."),
    pin: str = typer.Option(..., "--pin", help="Six digits."),
    pin_above: str | None = typer.Option(
        None,
        "--pin-above",
        help="Payments above this amount need the PIN (default: 1000.00 CNY, ¥20000, 40.000 KWD).",
    ),
    training: bool = typer.Option(False, "--training", help="A training account (no real money)."),
    as_json: bool = JsonOption,
) -> None:
    """Open a wallet account. Its secret is printed once, for the customer's phone."""

    def action(ctx: HostContext) -> wallets.WalletOpened:
        try:
            cur = get_currency(currency).alpha
        except MoneyError as exc:
            raise HostError("13", exc.text, field="currency") from None
        return wallets.open_account(
            ctx,
            name=name,
            currency=cur,
            balance=_amount(balance, cur, "balance"),
            pin=pin,
            pin_above=_amount(pin_above, cur, "pin_above") if pin_above is not None else None,
            training=training,
            actor=_actor(),
        )

    opened = _run(as_json, action)
    info = opened.info
    _emit(
        as_json,
        opened.to_dict(),
        lambda: typer.echo(
            f"account {info.account}  {info.name}  balance "
            f"{format_amount(info.balance, info.currency)} {info.currency}"
            f"{'  TRAINING' if info.training else ''}  PIN above "
            f"{format_amount(info.pin_above, info.currency)}\n"
            f"secret (for the phone, shown once): {opened.secret_hex}"
        ),
    )


@wallet_app.command("code")
def wallet_code(account: str, as_json: bool = JsonOption) -> None:
    """A one-time payment code: wallet digits and EMV CPM (valid 60 s, one use).

    Each code is of a time step of its own (the host takes one per step): run again at
    once, it gives the next step's code; past the steps the host accepts ahead it waits
    (under one step, 5 s) for the next one to open.
    """

    def issue(ctx: HostContext) -> wallets.IssuedWalletCode:
        for _ in range(3):
            try:
                return wallets.issue_code(ctx, account)
            except wallets.CodeNotYet as exc:
                # Not a guess: the moment the host's window reaches the next free step.
                time.sleep(max(0.0, (exc.ready_at - ctx.now()).total_seconds()) + 0.05)
        return wallets.issue_code(ctx, account)

    issued = _run(as_json, issue)
    _emit(
        as_json,
        issued.to_dict(),
        lambda: typer.echo(
            f"digits  {issued.digits}\ncpm     {issued.cpm}\n"
            f"valid until {_local(issued.expires_at)}, once"
        ),
    )


@wallet_app.command("confirm")
def wallet_confirm(
    account: str,
    pin: str = typer.Option(..., "--pin"),
    payment_id: str | None = typer.Option(None, "--payment", help="Payment id (default newest)."),
    as_json: bool = JsonOption,
) -> None:
    """Confirm a payment waiting for this account's PIN (what the customer's phone does)."""
    done = _run(as_json, lambda ctx: pin_waits.confirm_with_pin(ctx, account, pin, payment_id))
    data = {
        "code": done.code,
        "message": done.message.model_dump(by_alias=True),
        "tries_left": done.tries_left,
        "merchant_name": done.merchant_name,
        "payment": done.payment.model_dump(mode="json", by_alias=True),
    }
    # A declined PIN (wrong, too late...) is a refusal too: its words in the locale's language.
    language = cli_language()
    said = Text(done.message.zh_cn, done.message.en).get(language)
    tries = tries_left_text(done.tries_left).get(language)
    _emit(
        as_json,
        data,
        lambda: typer.echo(
            f"{done.code} {said}: {done.payment.out_trade_no} "
            f"{format_amount(done.payment.amount, done.payment.currency)} "
            f"{done.payment.currency} at {done.merchant_name} -> {done.payment.status}"
            + (f" ({tries})" if done.code == "55" else "")
        ),
    )
    if done.code not in ("00",):
        raise typer.Exit(EXIT_REFUSED)


@wallet_app.command("balance")
def wallet_balance(account: str, as_json: bool = JsonOption) -> None:
    """An account's balance."""
    info = _run(as_json, lambda ctx: wallets.wallet_info(ctx, account))
    _emit(
        as_json,
        info.to_dict(),
        lambda: typer.echo(
            f"{info.account}  {info.name}  {format_amount(info.balance, info.currency)} "
            f"{info.currency}"
            + (f"  locked until {_local(info.locked_until)}" if info.locked_until else "")
        ),
    )


# --------------------------------------------------------------------------- ledger


@ledger_app.command("check")
def ledger_check(as_json: bool = JsonOption) -> None:
    """Prove the ledger: postings sum to zero, balances equal postings, none negative.

    Exit 0 when it holds, 1 when it does not (each broken rule is printed).
    """
    report = _run(as_json, ledger.check)

    def human() -> None:
        verdict = "OK" if report.ok else "BROKEN"
        typer.echo(
            f"ledger {verdict}: {report.accounts} accounts, {report.entries} entries, "
            f"{report.postings} postings"
        )
        for p in report.problems:
            typer.echo(f"  {p.rule}: {p.subject}: {p.detail}")

    _emit(as_json, report.to_dict(), human)
    if not report.ok:
        raise typer.Exit(EXIT_REFUSED)


# --------------------------------------------------------------------------- risk limits

_AMOUNT_RULES = frozenset(rule.value for rule, spec in RULES.items() if spec.priced)


def _print_limit(info: risk.LimitInfo) -> None:
    d = info.to_dict()
    where = d["scope"] + (f" {d['key']}" if d["key"] else "")
    # An amount reads as one, in its currency ("2000.000 KWD"); a count as a count.
    value = d["shown"] if d["currency"] else f"{d['value']} {d['unit']}"
    extra = ""
    if d["window_seconds"]:
        extra += f" per {d['window_seconds']} s"
    if d["lock_seconds"]:
        extra += f", lock {d['lock_seconds']} s"
    typer.echo(
        f"{d['rule']:<20} {where:<24} {value:>20}{extra}  -> {d['action']}  ({d['updated_by']})"
    )


@limits_app.command("list")
def limits_list(as_json: bool = JsonOption) -> None:
    """Every row of the limits table (the most specific row wins for a transaction)."""
    items = _run(as_json, risk.list_limits)
    _emit(as_json, [i.to_dict() for i in items], lambda: _each(items, _print_limit))


@limits_app.command("set")
def limits_set(
    rule: str = typer.Argument(
        ...,
        help="txn_amount, daily_amount, wallet_txn_amount, "
        "wallet_daily_amount, velocity, failed_codes, duplicate, "
        "refund_share",
    ),
    value: str = typer.Argument(
        ..., help="Amount (e.g. 5000.00), count, or ppm for refund_share (500000 = 50 %)."
    ),
    scope: str = typer.Option(
        "default", "--scope", help="default, mcc_class, merchant, terminal or wallet."
    ),
    key: str = typer.Option("", "--key", help="The class, merchant, terminal or account."),
    action: str | None = typer.Option(
        None, "--action", help="decline (57), review, or approve (rule off)."
    ),
    window: int | None = typer.Option(
        None, "--window", help="Seconds (velocity, failed_codes, duplicate)."
    ),
    lock: int | None = typer.Option(None, "--lock", help="Seconds a lockout lasts."),
    currency: str | None = typer.Option(
        None,
        "--currency",
        help="ISO 4217 code of an amount rule's value (required for --scope default and "
        "mcc_class; a merchant, terminal or wallet limit is in the party's own currency).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Create or change a limit; it applies to the next transaction in every host process.
    An amount limit is in one currency and applies only to transactions in it."""

    def action_(ctx: HostContext) -> risk.LimitInfo:
        cur: str | None = None
        if rule in _AMOUNT_RULES:
            # The amount is typed in the limit's currency ("50.5" is not yen).
            cur = risk.limit_currency(ctx, rule, scope, key, currency)
            number = _amount(value, cur, "value")
        else:
            try:
                number = int(value)
            except ValueError:
                raise HostError("30", field="value") from None
        return risk.set_limit(
            ctx,
            _actor(),
            rule,
            number,
            scope=scope,
            key=key,
            action=action,
            window_seconds=window,
            lock_seconds=lock,
            currency=cur if cur is not None else currency,
        )

    info = _run(as_json, action_)
    _emit(as_json, info.to_dict(), lambda: _print_limit(info))


@limits_app.command("unset")
def limits_unset(
    rule: str,
    scope: str = typer.Option("default", "--scope"),
    key: str = typer.Option("", "--key"),
    currency: str | None = typer.Option(
        None, "--currency", help="The amount limit's currency (as for limits set)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Remove a limit row. A count's removed default switches the rule off where nothing
    else applies; an amount rule's removed default leaves its currency without a limit,
    and payments in it are refused (set the action approve to switch a rule off)."""
    _run(as_json, lambda ctx: risk.unset_limit(ctx, _actor(), rule, scope, key, currency=currency))
    _emit(
        as_json,
        {"removed": {"rule": rule, "scope": scope, "key": key, "currency": currency or ""}},
        lambda: typer.echo(f"removed {rule} {scope} {key} {currency or ''}".rstrip()),
    )


@review_app.command("list")
def review_list(
    limit: int = typer.Option(50, "--limit", min=1, max=1000), as_json: bool = JsonOption
) -> None:
    """Payments and refunds a rule flagged for review, newest first."""
    items = _run(as_json, lambda ctx: risk.flagged(ctx, limit))
    _emit(
        as_json,
        items,
        lambda: _each(
            items,
            lambda i: typer.echo(
                f"{i['created_at'][:19]}  {i['kind']:<7} {i['merchant_id']} {i['number']:<32} "
                f"{i['amount']:>10} {i['status']:<18} flags {i['flags']}"
            ),
        ),
    )


# --------------------------------------------------------------------------- audit trail


@audit_app.command("verify")
def audit_verify(as_json: bool = JsonOption) -> None:
    """Walk the hash chain; exit 1 and name the first broken record if it does not hold."""
    report = _run(as_json, audit.verify)

    def human() -> None:
        if report.ok:
            typer.echo(f"audit chain OK: {report.checked} records")
        else:
            typer.echo(
                f"audit chain BROKEN at record {report.broken_seq}: {report.problem} "
                f"({report.checked} records before it verified)"
            )

    _emit(as_json, report.to_dict(), human)
    if not report.ok:
        raise typer.Exit(EXIT_REFUSED)


@audit_app.command("show")
def audit_show(
    subject: str | None = typer.Option(None, "--subject", help="kind:id, e.g. payment:P1A2..."),
    merchant: str | None = typer.Option(None, "--merchant"),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000),
    as_json: bool = JsonOption,
) -> None:
    """The newest audit records (of one subject or merchant)."""
    where: tuple[str, str] | None = None
    if subject is not None:
        kind, _, ident = subject.partition(":")
        where = (kind, ident)
    items = _run(
        as_json, lambda ctx: audit.history(ctx, subject=where, merchant=merchant, limit=limit)
    )
    _emit(
        as_json,
        [i.to_dict() for i in items],
        lambda: _each(
            items,
            lambda i: typer.echo(
                f"{i.seq:>8} {i.at:%Y-%m-%d %H:%M:%S} {i.actor:<24} {i.action:<22} {i.subject}"
            ),
        ),
    )


# --------------------------------------------------------------------------- settlement


@app.command("settle")
def settle_command(
    day: str = typer.Option(..., "--date", help="Business day YYYY-MM-DD (host timezone)."),
    merchant: str | None = typer.Option(None, "--merchant", help="One merchant (default all)."),
    out: Path | None = typer.Option(
        None, "--out", help="Directory for the settlement files (default DATA_DIR/settlements)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Close a business day: totals, fee, net paid out, and a CSV file per merchant.

    The fee is the merchant's rate on each line, rounded half up in minor units.
    The net moves from clearing to the merchant's settlement account. Running it
    again changes nothing (the files are written again, identical).
    """
    try:
        business_day = date.fromisoformat(day)
    except ValueError:
        _usage("--date 的格式是 YYYY-MM-DD", "--date is YYYY-MM-DD")

    def action(ctx: HostContext) -> list[dict[str, Any]]:
        folder = out or Path(ctx.settings.data_dir) / "settlements"
        done = []
        for item in settlement.settle_day(ctx, business_day, merchant, actor=_actor()):
            body = item.settlement
            merchant_pk = int(body.merchant_id[1:])
            path = folder / body.merchant_id / f"{business_day.isoformat()}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(settlement.settlement_csv(ctx, merchant_pk, business_day))
            data = body.model_dump(mode="json", exclude={"lines"})
            data.update(created=item.created, file=str(path), lines=len(body.lines))
            done.append(data)
        return done

    results = _run(as_json, action)

    def human() -> None:
        for r in results:
            cur = r["currency"]
            typer.echo(
                f"{r['merchant_id']} {r['business_date']} "
                f"{'settled' if r['created'] else 'already settled'}: "
                f"{r['payment_count']} payments {format_amount(r['payment_total'], cur)}, "
                f"{r['refund_count']} refunds {format_amount(r['refund_total'], cur)}, "
                f"{r['reversal_count']} reversals {format_amount(r['reversal_total'], cur)}; "
                f"fee {format_amount(r['fee'], cur)} at {r['fee_rate']}, "
                f"net {format_amount(r['net'], cur)} {cur}  -> {r['file']}"
            )

    _emit(as_json, results, human)


# --------------------------------------------------------------------------- operations


@app.command("sweep")
def sweep_command(as_json: bool = JsonOption) -> None:
    """Expire orders past their time and payments past their PIN deadline now.

    serve does this every SCANPAY_SWEEP_INTERVAL seconds in each process.
    """
    done = _run(as_json, operations.sweep)
    _emit(
        as_json,
        done,
        lambda: typer.echo(f"expired {done['orders']} orders, {done['payments']} payments"),
    )


@app.command("backup")
def backup_command(
    file: Path,
    force: bool = typer.Option(False, "--force", help="Overwrite FILE."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="PostgreSQL: print the pg_dump command instead of running it."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Back the database up to FILE while the host runs (mode 0600).

    SQLite: its online backup API. PostgreSQL: pg_dump --format=custom (the client
    tools of the server's major version or newer; the password from the URL goes in
    PGPASSWORD, never on a command line). Keep the master key apart from the backups.
    """
    result = _run(
        as_json, lambda ctx: operations.backup(ctx, file, overwrite=force, dry_run=dry_run)
    )

    def human() -> None:
        if result.size is None and result.command is None:  # SQLite, --dry-run
            typer.echo(f"would copy the database to {result.path} (SQLite's backup API)")
        elif result.size is None:
            typer.echo(f"run (password from PGPASSWORD or ~/.pgpass):\n  {result.command}")
        else:
            typer.echo(f"backed up to {result.path} ({result.size} bytes)")

    _emit(as_json, result.to_dict(), human)


@app.command("restore")
def restore_command(
    file: Path,
    yes: bool = typer.Option(False, "--yes", help="Really replace the current database."),
    as_json: bool = JsonOption,
) -> None:
    """Replace the database with a backup, migrate it, and check the ledger and the audit chain.

    Refused while a host serves the database (stop it first). PostgreSQL: a missing
    database is created, then pg_restore puts the backup in it. Exit 1 when a check fails.
    """
    if not yes:
        _usage("这会替换整个数据库：确认请加 --yes", "this replaces the whole database: pass --yes")
    result = _run(as_json, lambda ctx: operations.restore(ctx, file), migrated=False)

    def human() -> None:
        ledger_report, chain = result.ledger, result.audit
        typer.echo(
            f"restored {result.path} into {result.database}"
            + (" (created)" if result.created else "")
            + f", migrated to revision {result.revision}"
        )
        typer.echo(
            f"ledger {'OK' if result.ledger_ok else 'BROKEN'}: {ledger_report['accounts']} "
            f"accounts, {ledger_report['entries']} entries"
        )
        for problem in ledger_report["problems"]:
            typer.echo(f"  {problem['rule']} {problem['subject']}: {problem['detail']}")
        typer.echo(
            f"audit chain {'OK' if result.audit_ok else 'BROKEN'}: {chain['checked']} records"
            + (f" (broken at {chain['broken_seq']}: {chain['problem']})" if not chain["ok"] else "")
        )

    _emit(as_json, result.to_dict(), human)
    if not result.ok:
        raise typer.Exit(EXIT_REFUSED)


# --------------------------------------------------------------------------- portal users


def _print_user(u: Any) -> None:
    where = u.merchant_id or "acquirer"
    typer.echo(f"{u.user_id}  {u.email:<32} {u.role:<10} {where:<8} {u.status}")


@user_app.command("add")
def user_add(
    email: str = typer.Option(..., "--email", help="The login (an e-mail address)."),
    merchant: str | None = typer.Option(None, "--merchant", help="Merchant id (M...)."),
    role: str = typer.Option(
        "owner", "--role", help="owner, accountant or read-only (a merchant's user)."
    ),
    operator: bool = typer.Option(False, "--operator", help="An acquirer operator instead."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin (else it is prompted)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Add a merchant portal login (argon2-hashed password; never printed or logged)."""
    import sys

    from scanpay.host.portal import accounts

    if operator == (merchant is not None):
        _usage(
            "请给 --merchant ID（商户的用户）或 --operator（收单机构）之一",
            "give --merchant ID (a merchant's user) or --operator (acquirer)",
        )
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    info = _run(
        as_json,
        lambda ctx: accounts.add_user(
            ctx,
            email=email,
            password=password,
            role="operator" if operator else role,
            merchant_id=merchant,
            actor=_actor(),
        ),
    )
    _emit(as_json, info.to_dict(), lambda: _print_user(info))


@user_app.command("list")
def user_list(
    merchant: str | None = typer.Option(None, "--merchant"), as_json: bool = JsonOption
) -> None:
    """Portal logins (of one merchant when given)."""
    from scanpay.host.portal import accounts

    items = _run(as_json, lambda ctx: accounts.list_users(ctx, merchant))
    _emit(as_json, [u.to_dict() for u in items], lambda: _each(items, _print_user))


@user_app.command("disable")
def user_disable(email: str, as_json: bool = JsonOption) -> None:
    """Disable a login (its sessions end at once)."""
    from scanpay.host.portal import accounts

    info = _run(as_json, lambda ctx: accounts.set_user_status(ctx, email, False, actor=_actor()))
    _emit(as_json, info.to_dict(), lambda: _print_user(info))


@user_app.command("enable")
def user_enable(email: str, as_json: bool = JsonOption) -> None:
    """Enable a disabled login again."""
    from scanpay.host.portal import accounts

    info = _run(as_json, lambda ctx: accounts.set_user_status(ctx, email, True, actor=_actor()))
    _emit(as_json, info.to_dict(), lambda: _print_user(info))


@app.command("fixtures")
def fixtures_command(
    transactions: int = typer.Option(100_000, "--transactions", min=1, help="Payments to write."),
    merchant: str | None = typer.Option(
        None, "--merchant", help="Write for this merchant (default: a new approved one)."
    ),
    days: int = typer.Option(90, "--days", min=1, max=3650, help="Spread over this many days."),
    terminals_: int = typer.Option(4, "--terminals", min=1, max=50),
    settle_days: int = typer.Option(7, "--settle", min=0, max=365, help="Days to settle."),
    seed: int = typer.Option(8, "--seed"),
    as_json: bool = JsonOption,
) -> None:
    """Write realistic transactions in bulk (ledger and audit chain stay consistent).

    For the merchant portal's benchmark and demos: payments of the last days with
    refunds, declines, reversals and orders, their ledger entries and audit
    records, settled days, day-close batches and a terminal self-test.
    """
    import sys

    from scanpay.host.portal import fixtures

    def show(done: int, total: int) -> None:
        if not as_json and sys.stderr.isatty():
            typer.echo(f"  {done}/{total}", err=True)

    report = _run(
        as_json,
        lambda ctx: fixtures.generate(
            ctx,
            transactions=transactions,
            merchant_id=merchant,
            days=days,
            terminal_count=terminals_,
            settle_days=settle_days,
            seed=seed,
            progress=show,
        ),
    )
    _emit(
        as_json,
        report.to_dict(),
        lambda: typer.echo(
            f"{report.merchant_id}: {report.payments} payments ({report.captured} captured, "
            f"{report.refunds} refunds, {report.orders} orders), terminals "
            f"{' '.join(report.terminals)}, {report.settled_days} days settled, "
            f"{report.seconds:.1f} s"
        ),
    )


# --------------------------------------------------------------------------- master key

key_app = typer.Typer(help="The master key: its fingerprint, and rotating it.")
app.add_typer(key_app, name="key")

ROTATED = Text(
    "已用新主密钥 {new}（原为 {old}）重新封存 {count} 项机密。\n"
    "新密钥：{target}\n"
    "旧密钥：{retired}。它只用于打开此刻之前做的备份：把它移出本机，与备份分开保存在存放"
    "备份密钥的地方；最后一份这样的备份过期后销毁它。\n"
    "用新密钥启动主机（其他机器上的主机也要拿到新密钥）。",
    "re-sealed {count} secrets under the new master key {new} (was {old}).\n"
    "New key: {target}\n"
    "Old key: {retired}. It opens only the backups made before now: move it off this "
    "machine to where backup keys are kept, apart from the backups, and destroy it when "
    "the last of those backups expires.\n"
    "Start the hosts with the new key (hosts on other machines need it too).",
)


@key_app.command("show")
def key_show(as_json: bool = JsonOption) -> None:
    """The master key's fingerprint and where it is read from (checked against the
    database's: another key is refused)."""
    from scanpay.host.services.secrets import key_source

    def show(ctx: HostContext) -> dict[str, str]:
        fingerprint = ctx.secret_box.fingerprint
        return {
            "fingerprint": fingerprint,
            "short": short_fingerprint(fingerprint),
            "source": key_source(ctx.settings),
        }

    data = _run(as_json, show)
    _emit(as_json, data, lambda: typer.echo(f"master key {data['short']} ({data['source']})"))


@key_app.command("rotate")
def key_rotate(
    new_key_file: Path | None = typer.Option(
        None,
        "--new-key-file",
        help="Where to write the new key (default: over the key file in use, the old "
        "one kept beside it as master.key.retired-FINGERPRINT). Required when the key "
        "comes from SCANPAY_MASTER_KEY.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Re-seal every terminal key, wallet secret, activation code and network channel
    secret under a new master key, in one transaction, and record its fingerprint.

    The new key is written (a new file, mode 0600, then renamed) before anything is
    sealed under it. Refused (57) while a host serves the database: a running host
    holds the old key and would seal what it writes under it.
    """
    import secrets as random

    from scanpay.host.services.operations import unserved
    from scanpay.host.services.secrets import (
        key_file_path,
        load_master_key,
        rotate_master_key,
        write_key_file,
    )

    def rotate(ctx: HostContext) -> dict[str, Any]:
        old = ctx.secret_box  # the key in use must be the database's (checked here)
        settings = ctx.settings
        if settings.master_key and new_key_file is None:
            raise HostError(
                "30",
                Text(
                    "主密钥来自 SCANPAY_MASTER_KEY：请用 --new-key-file 指定新密钥写到哪里",
                    "the master key comes from SCANPAY_MASTER_KEY: give --new-key-file "
                    "for the new one",
                ),
                field="new_key_file",
            )
        current = key_file_path(settings)
        target = new_key_file.absolute() if new_key_file else current
        pending = target.with_name(target.name + ".new")
        if pending.exists():
            raise HostError(
                "30",
                Text(
                    f"{pending} 已存在：上次轮换可能中断，它可能就是数据库现在的密钥；"
                    "先用 `scanpay host key show` 核对后再处理它",
                    f"{pending} exists: an earlier rotation may have been interrupted and it "
                    "may be the database's key now; check with `scanpay host key show` "
                    "before moving it",
                ),
                field="new_key_file",
            )
        new_key = random.token_bytes(32)
        with unserved(ctx, "rotate"):
            # On disk before anything is sealed under it: a crash after the commit
            # leaves the new key in NAME.new, never lost.
            write_key_file(pending, new_key)
            try:
                done = rotate_master_key(ctx, new_key)
            except BaseException:
                pending.unlink(missing_ok=True)
                raise
        if settings.master_key:
            retired = "SCANPAY_MASTER_KEY (not on disk)"
        elif target == current:
            kept = current.with_name(f"{current.name}.retired-{old.fingerprint[:8]}")
            write_key_file(kept, load_master_key(settings, create=False))
            retired = str(kept)
        else:
            retired = str(current)
        os.replace(pending, target)
        return {
            **done.to_dict(),
            "new_key_file": str(target),
            "old_key": retired,
        }

    data = _run(as_json, rotate)
    language = cli_language()
    _emit(
        as_json,
        data,
        lambda: typer.echo(
            ROTATED.format(
                count=data["resealed"],
                new=short_fingerprint(data["new_fingerprint"]),
                old=short_fingerprint(data["old_fingerprint"]),
                target=data["new_key_file"],
                retired=data["old_key"],
            ).get(language)
        ),
    )


# --------------------------------------------------------------------------- network channels

channel_app = typer.Typer(
    help="Payment network channels: each merchant's way into WeChat Pay and the like "
    "(secrets are write-only: names and fingerprints are shown, never values)."
)
channel_account_app = typer.Typer(
    help="The acquirer's own accounts at payment networks (service-provider mode)."
)
app.add_typer(channel_app, name="channel")
channel_app.add_typer(channel_account_app, name="account")

SecretOption = typer.Option(
    None,
    "--secret",
    help="NAME=@FILE (read from the file) or NAME=- (from stdin; prompted, hidden, on a "
    "terminal); repeat for each secret. NAME=VALUE is refused: the value would stay in "
    "the shell's history and show in the process list.",
)
DropSecretOption = typer.Option(None, "--drop-secret", help="Remove the secret NAME.")


def _stdin_secret(name: str) -> str:
    """A secret from stdin: typed unseen at a terminal, else all of what is piped in."""
    import sys

    if sys.stdin.isatty():
        return str(typer.prompt(name, hide_input=True))
    return sys.stdin.read()


def _secrets_line(secrets: Mapping[str, str]) -> str:
    """Secrets by name and fingerprint (never a value)."""
    return ", ".join(f"{name} {mark}" for name, mark in secrets.items()) or "-"


def _print_account(a: network_accounts.AccountInfo) -> None:
    typer.echo(
        f"{a.label}  {a.network}  app_id {a.app_id}  mch_id {a.mch_id}  "
        f"channels {a.channels}  secrets {_secrets_line(a.secrets)}"
    )


@channel_app.command("legs")
def channel_legs(
    every: bool = typer.Option(
        False, "--all", help="Settled legs too (default: only those still in doubt or reversing)."
    ),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
    as_json: bool = JsonOption,
) -> None:
    """Payments at the networks, newest first: what each leg waits for. A leg listed
    long after its deadline is a reverse the network keeps refusing: look at it."""
    items = _run(as_json, lambda ctx: network_legs.list_legs(ctx, unsettled=not every, limit=limit))
    _emit(
        as_json,
        [leg.to_dict() for leg in items],
        lambda: _each(
            items,
            lambda leg: typer.echo(
                f"{leg.trade_no}  {leg.network}  {leg.merchant_id}/{leg.out_trade_no}  "
                f"{format_amount(leg.amount, leg.currency)}  {leg.status:<11} "
                f"payment {leg.payment_status:<11} network {leg.network_code or '-'}  "
                f"reverse tries {leg.reverse_tries}  "
                f"next {leg.next_at.isoformat(timespec='seconds') if leg.next_at else '-'}"
            ),
        ),
    )


def _print_channel(c: channels.ChannelInfo) -> None:
    under = f"account {c.account}" if c.account else f"app_id {c.app_id}  mch_id {c.mch_id}"
    subs = f"  sub_mch_id {c.sub_mch_id}" if c.sub_mch_id else ""
    subs += f"  sub_app_id {c.sub_app_id}" if c.sub_app_id else ""
    state = "enabled" if c.enabled else "disabled"
    typer.echo(f"{c.merchant_id}  {c.network}  {c.mode.value}  {state}  {under}{subs}")


def _show_channel(c: channels.ChannelInfo) -> None:
    whose = "the account's" if c.secrets_from == "account" else "the channel's own"
    for name, value in (
        ("merchant", c.merchant_id),
        ("network", c.network),
        ("mode", c.mode.value),
        ("enabled", "yes" if c.enabled else "no"),
        ("account", c.account or "-"),
        ("app_id", c.app_id),
        ("mch_id", c.mch_id),
        ("sub_mch_id", c.sub_mch_id or "-"),
        ("sub_app_id", c.sub_app_id or "-"),
        ("secrets", f"{_secrets_line(c.secrets)} ({whose})"),
        ("updated", _local(c.updated_at, "%Y-%m-%d %H:%M")),
    ):
        typer.echo(f"{name:<11} {value}")


@channel_account_app.command("add")
def channel_account_add(
    network: str = typer.Option(..., "--network", help="The network (wechat_pay)."),
    label: str = typer.Option(..., "--label", help="Your name for it (what --account names)."),
    app_id: str = typer.Option(..., "--app-id", help="The account's app id (sp_appid)."),
    mch_id: str = typer.Option(..., "--mch-id", help="The account's merchant id (sp_mchid)."),
    secret: list[str] | None = SecretOption,
    as_json: bool = JsonOption,
) -> None:
    """Add the acquirer's account at a network; merchants' service-provider channels
    hang under it as sub-merchants."""
    info = _run(
        as_json,
        lambda ctx: network_accounts.add_account(
            ctx,
            network=network,
            label=label,
            app_id=app_id,
            mch_id=mch_id,
            secrets=read_secrets(secret or [], _stdin_secret),
            actor=_actor(),
        ),
    )
    _emit(as_json, info.to_dict(), lambda: _print_account(info))


@channel_account_app.command("update")
def channel_account_update(
    label: str,
    app_id: str | None = typer.Option(None, "--app-id"),
    mch_id: str | None = typer.Option(None, "--mch-id"),
    secret: list[str] | None = SecretOption,
    drop_secret: list[str] | None = DropSecretOption,
    as_json: bool = JsonOption,
) -> None:
    """Change an account's ids or secrets (a secret given replaces the one of its name);
    every channel under it pays with the change from its next payment."""
    info = _run(
        as_json,
        lambda ctx: network_accounts.update_account(
            ctx,
            label,
            app_id=app_id,
            mch_id=mch_id,
            secrets=read_secrets(secret or [], _stdin_secret),
            drop=drop_secret or [],
            actor=_actor(),
        ),
    )
    _emit(as_json, info.to_dict(), lambda: _print_account(info))


@channel_account_app.command("list")
def channel_account_list(
    network: str | None = typer.Option(None, "--network"), as_json: bool = JsonOption
) -> None:
    """The network accounts, their secrets by name and fingerprint."""
    items = _run(as_json, lambda ctx: network_accounts.list_accounts(ctx, network))
    _emit(as_json, [a.to_dict() for a in items], lambda: _each(items, _print_account))


@channel_account_app.command("remove")
def channel_account_remove(label: str, as_json: bool = JsonOption) -> None:
    """Remove an account no channel uses any more (with its secrets)."""
    info = _run(as_json, lambda ctx: network_accounts.remove_account(ctx, label, actor=_actor()))
    _emit(as_json, info.to_dict(), lambda: typer.echo(f"removed network account {info.label}"))


@channel_app.command("add")
def channel_add(
    merchant: str = typer.Option(..., "--merchant", help="Merchant id (M...)."),
    network: str = typer.Option(..., "--network", help="The network (wechat_pay)."),
    mode: str = typer.Option(
        ...,
        "--mode",
        help="service_provider (a sub-merchant under a network account) or direct "
        "(the merchant's own account).",
    ),
    account: str | None = typer.Option(
        None, "--account", help="service_provider: the network account's label."
    ),
    sub_mch_id: str | None = typer.Option(None, "--sub-mch-id", help="service_provider."),
    sub_app_id: str | None = typer.Option(None, "--sub-app-id", help="service_provider."),
    app_id: str | None = typer.Option(None, "--app-id", help="direct: the merchant's app id."),
    mch_id: str | None = typer.Option(None, "--mch-id", help="direct: its merchant id."),
    secret: list[str] | None = SecretOption,
    disabled: bool = typer.Option(False, "--disabled", help="Add it switched off."),
    as_json: bool = JsonOption,
) -> None:
    """Give a merchant its channel to a network (one per network)."""
    info = _run(
        as_json,
        lambda ctx: channels.add_channel(
            ctx,
            merchant,
            network=network,
            mode=mode,
            account=account,
            sub_mch_id=sub_mch_id,
            sub_app_id=sub_app_id,
            app_id=app_id,
            mch_id=mch_id,
            secrets=read_secrets(secret or [], _stdin_secret),
            enabled=not disabled,
            actor=_actor(),
        ),
    )
    _emit(as_json, info.to_dict(), lambda: _print_channel(info))


@channel_app.command("update")
def channel_update(
    merchant: str = typer.Option(..., "--merchant", help="Merchant id (M...)."),
    network: str = typer.Option(..., "--network"),
    account: str | None = typer.Option(None, "--account", help="service_provider."),
    sub_mch_id: str | None = typer.Option(None, "--sub-mch-id", help="service_provider."),
    sub_app_id: str | None = typer.Option(
        None, "--sub-app-id", help='service_provider ("" removes it).'
    ),
    app_id: str | None = typer.Option(None, "--app-id", help="direct."),
    mch_id: str | None = typer.Option(None, "--mch-id", help="direct."),
    secret: list[str] | None = SecretOption,
    drop_secret: list[str] | None = DropSecretOption,
    enabled: bool | None = typer.Option(None, "--enable/--disable"),
    as_json: bool = JsonOption,
) -> None:
    """Change a merchant's channel within its mode, or switch it on or off (to change
    the mode, remove it and add it again)."""
    info = _run(
        as_json,
        lambda ctx: channels.update_channel(
            ctx,
            merchant,
            network,
            account=account,
            sub_mch_id=sub_mch_id,
            sub_app_id=sub_app_id,
            app_id=app_id,
            mch_id=mch_id,
            secrets=read_secrets(secret or [], _stdin_secret),
            drop=drop_secret or [],
            enabled=enabled,
            actor=_actor(),
        ),
    )
    _emit(as_json, info.to_dict(), lambda: _print_channel(info))


@channel_app.command("list")
def channel_list(
    merchant: str | None = typer.Option(None, "--merchant"),
    network: str | None = typer.Option(None, "--network"),
    as_json: bool = JsonOption,
) -> None:
    """Merchants' channels (of one merchant, to one network, when given)."""
    items = _run(as_json, lambda ctx: channels.list_channels(ctx, merchant, network))
    _emit(as_json, [c.to_dict() for c in items], lambda: _each(items, _print_channel))


@channel_app.command("show")
def channel_show(
    merchant: str = typer.Option(..., "--merchant", help="Merchant id (M...)."),
    network: str = typer.Option(..., "--network"),
    as_json: bool = JsonOption,
) -> None:
    """One merchant's channel, with the ids and secrets (names, fingerprints) it pays with."""
    info = _run(as_json, lambda ctx: channels.get_channel(ctx, merchant, network))
    _emit(as_json, info.to_dict(), lambda: _show_channel(info))


@channel_app.command("remove")
def channel_remove(
    merchant: str = typer.Option(..., "--merchant", help="Merchant id (M...)."),
    network: str = typer.Option(..., "--network"),
    as_json: bool = JsonOption,
) -> None:
    """Remove a merchant's channel (with its secrets): its codes of that network are then
    declined as not served."""
    info = _run(
        as_json, lambda ctx: channels.remove_channel(ctx, merchant, network, actor=_actor())
    )
    _emit(
        as_json,
        info.to_dict(),
        lambda: typer.echo(f"removed the {info.network} channel of {info.merchant_id}"),
    )
