"""The terminal's configuration: who it is (from activation) and how it runs.

Stored as ``terminal.json`` in the data directory (``SCANPAY_TERMINAL_DIR``,
default ``./data/terminal``), file mode 0600 in a 0700 directory, because it
holds the terminal's secret key. The key never appears in ``repr``, logs or
API answers. The file is replaced atomically (write, fsync, rename), so a crash
while saving leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from scanpay import __version__
from scanpay.i18n import LANGUAGES
from scanpay.terminal.backoff import Backoff
from scanpay.terminal.errors import TerminalError
from scanpay.terminal.sale import Timings

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_DIR",
    "SOFTWARE_VERSION",
    "PrinterConfig",
    "TerminalConfig",
    "data_dir",
    "load_config",
    "save_config",
]

CONFIG_FILE = "terminal.json"
DEFAULT_DIR = Path("./data/terminal")
SOFTWARE_VERSION = __version__
"""What the terminal reports to the host in ``X-Scanpay-Software-Version``."""

_KEY = re.compile(r"[0-9a-f]{64}")


def data_dir(explicit: Path | str | None = None) -> Path:
    """The data directory: ``explicit``, else ``$SCANPAY_TERMINAL_DIR``, else ./data/terminal."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get("SCANPAY_TERMINAL_DIR")
    return Path(env) if env else DEFAULT_DIR


@dataclass(frozen=True, slots=True)
class PrinterConfig:
    """Where receipts go.

    ``kind``: ``none``; ``file`` (ESC/POS bytes appended to ``path`` - also a
    device node such as /dev/usb/lp0); ``network`` (raw TCP, ``host``:``port``,
    usually 9100); ``usb`` (``vendor_id``/``product_id``, needs pyusb).
    ``width`` is the paper in mm (58 or 80); ``encoding`` ``gb18030`` puts the
    printer in its Chinese mode, ``ascii`` prints English only.
    """

    kind: Literal["none", "file", "network", "usb"] = "none"
    path: str | None = None
    host: str | None = None
    port: int = 9100
    vendor_id: int | None = None
    product_id: int | None = None
    width: Literal[58, 80] = 58
    encoding: Literal["gb18030", "ascii"] = "gb18030"
    language: str = "zh-CN"
    html_dir: str | None = None
    """Also write each receipt as printable HTML into this folder."""


@dataclass(frozen=True, slots=True)
class TerminalConfig:
    """Identity from activation plus the agent's settings."""

    host_url: str
    terminal_id: str
    key: str = field(repr=False)
    merchant_id: str
    merchant_name: str
    merchant_city: str = ""
    mcc: str = ""
    currency: str = "CNY"
    payee: str = ""
    min_software_version: str = "0.0.0"
    activated_at: float = 0.0
    # ---- how the host is trusted (set by activation or `scanpay terminal trust`)
    ca_file: str | None = None
    """The PEM file the host's certificate is verified with: a path relative to the data
    folder (activation copies the file given there, ``host-ca.pem``) or absolute.
    ``None``: the system's trust store (and ``SSL_CERT_FILE`` when set)."""
    pin_sha256: str | None = None
    """The SHA-256 fingerprint of the host's certificate, 64 lower-case hex digits:
    a host presenting another certificate is refused before anything is sent."""
    allow_plain_http: bool = False
    """Allow ``http://`` to a host that is not on this machine (loopback always may)."""
    # ---- settings (editable in the file; defaults fit a shop)
    language: str | None = None
    """The cashier screen's language when the operator pins one (``zh-CN`` or ``en``):
    a browser that has not chosen starts in it. ``None``: each browser starts in its
    own language. The switch on the screen is each browser's own choice either way."""
    timezone: str = "Asia/Shanghai"
    unknown_deadline: float = 45.0
    customer_deadline: float = 45.0
    """How long a customer may take to confirm with the PIN, only when the host names
    no deadline of its own (a host that does is waited for: see ``sale``)."""
    poll_interval: float = 3.0
    query_backoff_first: float = 1.0
    query_backoff_cap: float = 8.0
    reversal_backoff_cap: float = 60.0
    request_timeout: float = 10.0
    connect_timeout: float = 3.0
    max_clock_skew: float = 60.0
    min_free_disk_mb: int = 50
    camera: str = "browser"
    """``none``, ``browser`` (frames posted by the cashier screen), ``device:N``, ``file:PATH``."""
    wallet_prefix: str = "88"
    """The built-in wallet's code prefix on this host (for local code parsing)."""
    session_idle_minutes: int = 480
    max_amount: int = 5_000_000
    """The largest sale or show-to-pay order the screen takes, in minor units of
    ``currency``: by default 50 000.00, the host's shipped single-payment limit in CNY
    (``scanpay.host.domain.risk``). A larger amount typed is refused on the screen,
    before anything is sent."""
    printer: PrinterConfig = field(default_factory=PrinterConfig)

    def __post_init__(self) -> None:
        if not _KEY.fullmatch(self.key):
            raise TerminalError("bad_request", field="key", reason="the key is 64 hex characters")
        if not self.host_url.startswith(("http://", "https://")):
            raise TerminalError("bad_request", field="host_url", reason="http(s) URL expected")
        if self.pin_sha256 is not None and not _KEY.fullmatch(self.pin_sha256):
            raise TerminalError(
                "bad_request", field="pin_sha256", reason="64 lower-case hex digits expected"
            )
        if self.language is not None and self.language not in LANGUAGES:
            raise TerminalError("bad_request", field="language", reason="zh-CN, en or null")
        if isinstance(self.max_amount, bool) or not isinstance(self.max_amount, int):
            raise TerminalError("bad_request", field="max_amount", reason="minor units expected")
        if self.max_amount <= 0:
            raise TerminalError("bad_request", field="max_amount", reason="more than 0 expected")
        ZoneInfo(self.timezone)

    @property
    def timings(self) -> Timings:
        """The sale machine's clock rules from these settings."""
        return Timings(
            unknown_deadline=self.unknown_deadline,
            customer_deadline=self.customer_deadline,
            # After the host's PIN deadline: one more poll, and its answer's full timeout.
            customer_grace=self.poll_interval + self.request_timeout,
            poll_interval=self.poll_interval,
            query_backoff=Backoff(
                self.query_backoff_first, 2.0, max(self.query_backoff_cap, self.query_backoff_first)
            ),
        )

    def ca_path(self, directory: Path) -> Path | None:
        """The CA file, resolved against the terminal's data folder ``directory``."""
        if self.ca_file is None:
            return None
        return directory / self.ca_file

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def public(self) -> dict[str, Any]:
        """Everything but the key, for the API and ``scanpay terminal status``."""
        data = asdict(self)
        data.pop("key")
        return data

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TerminalConfig:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        printer = values.get("printer")
        if isinstance(printer, dict):
            pknown = {f.name for f in fields(PrinterConfig)}
            values["printer"] = PrinterConfig(**{k: v for k, v in printer.items() if k in pknown})
        return cls(**values)

    def with_settings(self, **changes: Any) -> TerminalConfig:
        return replace(self, **changes)


def _check_mode(path: Path) -> None:
    # A key readable by others is a key that leaked: refuse to run with it.
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise TerminalError(
            "bad_request",
            field="config",
            reason=f"{path} has mode {mode:o}; it holds the terminal key and must be 0600",
        )


def load_config(directory: Path) -> TerminalConfig:
    """The configuration in ``directory``; ``not_activated`` when there is none."""
    path = directory / CONFIG_FILE
    if not path.exists():
        raise TerminalError("not_activated")
    _check_mode(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TerminalError("bad_request", field="config", reason=str(exc)) from exc
    return TerminalConfig.from_dict(data)


def save_config(directory: Path, config: TerminalConfig) -> Path:
    """Write the configuration atomically with mode 0600; returns the file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    path = directory / CONFIG_FILE
    tmp = directory / (CONFIG_FILE + ".tmp")
    data = json.dumps(config.to_dict(), ensure_ascii=False, indent=2).encode()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path
