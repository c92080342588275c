"""``scanpay host init``, ``serve`` and ``certs``: the database's schema, the server, and a
certificate for trying HTTPS. (:mod:`scanpay.cli.host` registers the commands.)
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import typer

from scanpay.cli.host._shared import (
    EXIT_REFUSED,
    JsonOption,
    emit,
    environ,
    host_settings,
    run,
    usage,
)
from scanpay.host.db.migrate import current_revision, upgrade
from scanpay.host.domain.sealing import short_fingerprint
from scanpay.host.errors import HostError
from scanpay.host.services import operations
from scanpay.host.services.context import HostContext
from scanpay.host.services.secrets import seal_legacy

__all__ = ["certs_command", "init_command", "make_certs", "serve_command"]


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

    data = run(as_json, migrate, migrated=False)
    emit(
        as_json,
        data,
        lambda: typer.echo(
            f"database at revision {data['revision']} (was {data['from']}); "
            f"master key {data['master_key']}"
        ),
    )


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
        usage(
            "--certfile 与 --keyfile 要么都给，要么都不给",
            "give both --certfile and --keyfile (or neither)",
        )
    for path in (certfile, keyfile):
        if path is not None and not path.is_file():
            usage(f"找不到文件：{path}", f"no such file: {path}")
    # First, before anything can log (the data folder tightened, a new master key):
    # every line of serve is a JSON line.
    configure_logging(log_level)
    settings = host_settings()
    marked = ExitStack()  # released when the process ends, however it ends
    try:
        # Held until serve returns (the workers' parent): a restore refuses meanwhile.
        marked.enter_context(operations.serving(settings))
    except HostError as exc:
        # A log line like every other of serve (JSON), for whatever collects them.
        logging.getLogger("scanpay.host").error("not serving: %s", exc.text.en)
        raise typer.Exit(EXIT_REFUSED) from None
    # The master key is checked here (another key: refused before anything listens).
    run(False, lambda ctx: (upgrade(ctx.db), seal_legacy(ctx)), migrated=False)
    # Workers re-read the settings from the environment (the database URL included);
    # serve runs until the process ends, so it may set them there.
    os.environ.update(environ())
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
    data = make_certs(out, name, days)
    emit(
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


def make_certs(out: Path, names: list[str], days: int) -> dict[str, Any]:
    """A self-signed certificate and key for ``names`` in ``out``, valid ``days``; what
    was made (paths, fingerprint). Used by ``host certs`` and by ``scanpay run``."""
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
