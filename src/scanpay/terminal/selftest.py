"""The self-test: is this terminal ready to take money? (At start and on demand.)

Checks, each ``ok``, ``warn`` or ``fail`` with a message in zh-CN and en:

- ``camera`` - present and delivering frames that are not black (``scanpay.vision``);
- ``host`` - reachable, and its signed reply verifies with this terminal's key;
- ``clock`` - skew against the host's clock (the host refuses > 300 s);
- ``version`` - this software against the host's minimum; too old blocks sales;
- ``journal`` - writable, WAL with synchronous=FULL, hash chain intact, free disk;
- ``in_doubt`` - sales whose outcome is still being resolved;
- ``reversals`` - reversals waiting for the host's acknowledgement;
- ``printer`` - what receipts are printed to.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scanpay.i18n import Text
from scanpay.terminal.client import Answer, HostClient, Refusal
from scanpay.terminal.config import SOFTWARE_VERSION, TerminalConfig
from scanpay.terminal.journal import Journal

__all__ = [
    "CHECK_LABELS",
    "STATUS_LABELS",
    "Check",
    "FrameStore",
    "SelfTest",
    "SelfTestReport",
    "version_key",
]

Status = Literal["ok", "warn", "fail"]
_VERSION = re.compile(r"v?(\d+(?:\.\d+){0,3})(?:[-.]?([A-Za-z][A-Za-z0-9.]*))?")


def version_key(text: str) -> tuple[tuple[int, ...], bool, str]:
    """A sortable form of a dotted version: ``1.4`` == ``1.4.0``; ``2.0rc1`` < ``2.0``.

    The same ordering as the host's version policy (PEP 440 / SemVer-like).
    """
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a version: {text[:32]!r}")
    numbers = [int(p) for p in match.group(1).split(".")]
    numbers += [0] * (4 - len(numbers))
    pre = (match.group(2) or "").lower()
    return tuple(numbers), not pre, pre


#: What each check is called on the screens (its ``name`` is for programs and logs).
CHECK_LABELS: dict[str, Text] = {
    "camera": Text("摄像头", "Camera"),
    "host": Text("收单主机连接", "Host connection"),
    "clock": Text("时钟", "Clock"),
    "version": Text("软件版本", "Software version"),
    "journal": Text("交易日志", "Journal"),
    "in_doubt": Text("结果未知的交易", "Sales in doubt"),
    "reversals": Text("待撤销的交易", "Reversals waiting"),
    "printer": Text("打印机", "Printer"),
}

#: A check's status in words.
STATUS_LABELS: dict[str, Text] = {
    "ok": Text("正常", "OK"),
    "warn": Text("警告", "Warning"),
    "fail": Text("故障", "Failed"),
}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    message: Text
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> Text:
        """What the check is called on a screen."""
        return CHECK_LABELS.get(self.name, Text(self.name, self.name))

    @property
    def status_label(self) -> Text:
        return STATUS_LABELS[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label.as_dict(),
            "status": self.status,
            "message": self.message.as_dict(),
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class SelfTestReport:
    at: float
    checks: tuple[Check, ...]
    sales_blocked: Text | None

    @property
    def status(self) -> Status:
        states = {c.status for c in self.checks}
        return "fail" if "fail" in states else "warn" if "warn" in states else "ok"

    @property
    def status_label(self) -> Text:
        return STATUS_LABELS[self.status]

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "status": self.status,
            "software_version": SOFTWARE_VERSION,
            "sales_blocked": self.sales_blocked is not None,
            "block_reason": self.sales_blocked.as_dict() if self.sales_blocked else None,
            "checks": [c.to_dict() for c in self.checks],
        }


class FrameStore:
    """The last camera frame the cashier screen sent (camera ``browser``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.at: float | None = None
        self.brightness: float | None = None
        self.contrast: float | None = None

    def record(self, at: float, brightness: float, contrast: float) -> None:
        with self._lock:
            self.at, self.brightness, self.contrast = at, brightness, contrast


def _is_black(brightness: float, contrast: float) -> bool:
    # A covered lens or a dead sensor: almost no light and no structure at all.
    return brightness < 0.04 and contrast < 0.03


class SelfTest:
    """Runs the checks; the last report is kept for the status page."""

    def __init__(
        self,
        *,
        config: TerminalConfig,
        journal: Journal,
        client: HostClient,
        directory: Path,
        in_doubt: Callable[[], int],
        reversals_waiting: Callable[[], int],
        frames: FrameStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.journal = journal
        self.client = client
        self.directory = directory
        self.in_doubt = in_doubt
        self.reversals_waiting = reversals_waiting
        self.frames = frames
        self.clock = clock
        self.last: SelfTestReport | None = None

    def run(self) -> SelfTestReport:
        checks = [self._camera()]
        host, status = self._host()
        checks.append(host)
        checks.append(self._clock(status))
        version = self._version(status)
        checks.append(version)
        checks.append(self._journal())
        checks.append(self._in_doubt())
        checks.append(self._reversals())
        checks.append(self._printer())
        blocked = version.message if version.status == "fail" else None
        report = SelfTestReport(self.clock(), tuple(checks), blocked)
        self.last = report
        return report

    # --------------------------------------------------------------- checks

    def _camera(self) -> Check:
        source = self.config.camera
        if source == "none":
            return Check(
                "camera",
                "warn",
                Text("未配置摄像头（仅扫码枪/图片）", "No camera configured"),
                {"source": source},
            )
        if source == "browser":
            frames = self.frames
            if frames.at is None or self.clock() - frames.at > 120:
                return Check(
                    "camera",
                    "warn",
                    Text(
                        "收银界面尚未发送摄像头画面",
                        "The cashier screen has sent no camera frame yet",
                    ),
                    {"source": source},
                )
            black = _is_black(frames.brightness or 0.0, frames.contrast or 0.0)
            return Check(
                "camera",
                "fail" if black else "ok",
                Text("摄像头画面全黑", "The camera delivers black frames")
                if black
                else Text("摄像头正常", "The camera delivers frames"),
                {"source": source, "brightness": frames.brightness, "last_frame_at": frames.at},
            )
        return self._capture(source)

    def _capture(self, source: str) -> Check:
        try:
            from scanpay.vision import assess, open_source
        except ImportError as exc:  # pragma: no cover - vision ships with scanpay
            return Check(
                "camera",
                "fail",
                Text("视觉模块不可用", "scanpay.vision is missing"),
                {"error": str(exc)},
            )
        kind, _, where = source.partition(":")
        try:
            if kind == "device":
                stream = open_source(camera=int(where or 0), max_frames=5)
            elif kind == "file":
                path = Path(where)
                stream = (
                    open_source(folder=path)
                    if path.is_dir()
                    else open_source(video=path, max_frames=5)
                )
            else:
                raise OSError(f"unknown camera source {source!r}")
            try:
                frames = [frame.image for frame in stream]
            finally:
                stream.close()
        except (OSError, ValueError) as exc:
            return Check(
                "camera",
                "fail",
                Text("无法打开摄像头", "The camera cannot be opened"),
                {"source": source, "error": str(exc)},
            )
        if not frames:
            return Check(
                "camera",
                "fail",
                Text("摄像头没有画面", "The camera delivers no frames"),
                {"source": source},
            )
        quality = assess(frames[-1])
        black = _is_black(quality.brightness, quality.contrast)
        self.frames.record(self.clock(), quality.brightness, quality.contrast)
        return Check(
            "camera",
            "fail" if black else "ok",
            Text("摄像头画面全黑", "The camera delivers black frames")
            if black
            else Text("摄像头正常", "The camera delivers frames"),
            {"source": source, "frames": len(frames), "brightness": round(quality.brightness, 3)},
        )

    def _host(self) -> tuple[Check, Any]:
        started = time.monotonic()
        reply = self.client.status(timeout=min(5.0, self.config.request_timeout))
        ms = round((time.monotonic() - started) * 1000, 1)
        if isinstance(reply, Answer):
            body = reply.body
            return (
                Check(
                    "host",
                    "ok",
                    Text("收单主机可达，签名有效", "The host answers with a valid signature"),
                    {
                        "url": self.config.host_url,
                        "ms": ms,
                        "terminal_status": body.terminal_status,
                        "merchant_status": body.merchant_status,
                    },
                ),
                body,
            )
        if isinstance(reply, Refusal):
            return (
                Check(
                    "host",
                    "fail",
                    Text(
                        f"收单主机拒绝：{reply.error.message.zh_cn}",
                        f"The host refuses: {reply.error.message.en}",
                    ),
                    {"url": self.config.host_url, "code": reply.error.code},
                ),
                None,
            )
        if reply.error is not None:
            # The host's certificate (CA or pin) or the connection was refused: say so,
            # with its code.
            return (
                Check(
                    "host",
                    "fail",
                    reply.error.text,
                    {"url": self.config.host_url, "code": reply.error.code},
                ),
                None,
            )
        return (
            Check(
                "host",
                "fail",
                Text(
                    "无法连接收单主机或回复无效", "The host is unreachable or its reply is invalid"
                ),
                {"url": self.config.host_url, "reason": reply.reason},
            ),
            None,
        )

    def _clock(self, status: Any) -> Check:
        if status is None:
            return Check(
                "clock", "warn", Text("无法与主机对时", "Cannot compare clocks with the host")
            )
        skew = status.server_time.timestamp() - self.clock()
        detail = {"skew_seconds": round(skew, 1)}
        if abs(skew) > 240:
            return Check(
                "clock", "fail", Text("终端时钟误差过大", "The terminal clock is far off"), detail
            )
        if abs(skew) > self.config.max_clock_skew:
            return Check(
                "clock", "warn", Text("终端时钟有误差", "The terminal clock drifts"), detail
            )
        return Check("clock", "ok", Text("时钟正常", "The clock agrees with the host"), detail)

    def _version(self, status: Any) -> Check:
        minimum = status.min_software_version if status is not None else None
        minimum = minimum or self.config.min_software_version
        detail = {"version": SOFTWARE_VERSION, "minimum": minimum}
        try:
            too_old = version_key(SOFTWARE_VERSION) < version_key(minimum)
        except ValueError:
            too_old = False
        if too_old:
            return Check(
                "version",
                "fail",
                Text(
                    f"软件版本 {SOFTWARE_VERSION} 低于主机要求的 {minimum}，请升级；暂停收款",
                    f"Software {SOFTWARE_VERSION} is older than the host's minimum {minimum}; "
                    "update it. Sales are blocked",
                ),
                detail,
            )
        return Check(
            "version", "ok", Text("软件版本符合要求", "The software version is accepted"), detail
        )

    def _journal(self) -> Check:
        detail: dict[str, Any] = {"path": str(self.journal.path)}
        try:
            self.journal.set_meta("selftest_at", str(self.clock()))
            detail["journal_mode"] = str(self.journal.pragma("journal_mode"))
            detail["synchronous"] = int(self.journal.pragma("synchronous"))
            broken = self.journal.verify_chain()
        except Exception as exc:  # any failure to write is exactly what this check reports
            return Check(
                "journal",
                "fail",
                Text("交易日志不可写", "The journal cannot be written"),
                {**detail, "error": str(exc)},
            )
        free_mb = shutil.disk_usage(self.directory).free // (1024 * 1024)
        detail["free_mb"] = free_mb
        if broken is not None:
            detail["broken_at"] = broken
            return Check(
                "journal",
                "fail",
                Text("交易日志被篡改", "The journal's hash chain is broken"),
                detail,
            )
        if detail["journal_mode"] != "wal" or detail["synchronous"] != 2:
            return Check(
                "journal", "fail", Text("交易日志未安全落盘", "The journal is not durable"), detail
            )
        if free_mb < self.config.min_free_disk_mb:
            return Check("journal", "fail", Text("磁盘空间不足", "The disk is nearly full"), detail)
        return Check(
            "journal", "ok", Text("交易日志正常", "The journal is writable and durable"), detail
        )

    def _in_doubt(self) -> Check:
        count = self.in_doubt()
        if count:
            return Check(
                "in_doubt",
                "warn",
                Text(f"{count} 笔交易结果确认中", f"{count} sale(s) being resolved"),
                {"count": count},
            )
        return Check("in_doubt", "ok", Text("没有结果未知的交易", "No sale in doubt"), {"count": 0})

    def _reversals(self) -> Check:
        count = self.reversals_waiting()
        if count:
            return Check(
                "reversals",
                "warn",
                Text(f"{count} 笔撤销等待主机确认", f"{count} reversal(s) waiting for the host"),
                {"count": count},
            )
        return Check(
            "reversals", "ok", Text("没有待发送的撤销", "No reversal waiting"), {"count": 0}
        )

    def _printer(self) -> Check:
        p = self.config.printer
        detail = {"kind": p.kind, "width": p.width, "encoding": p.encoding}
        if p.kind == "none":
            return Check(
                "printer", "warn", Text("未配置打印机", "No receipt printer configured"), detail
            )
        if p.kind == "file" and p.path and not Path(p.path).parent.exists():
            return Check(
                "printer",
                "fail",
                Text("打印机路径不存在", "The printer path does not exist"),
                {**detail, "path": p.path},
            )
        return Check(
            "printer", "ok", Text("打印机已配置", "A receipt printer is configured"), detail
        )
