"""The machine a benchmark runs on: the disk's flush rate, CPUs, CPU time used.

A durable commit waits for one flush of the write-ahead log: whatever the
code does, a strictly serial committer cannot beat ``1 / flush latency``
(group commit lets several committers share one flush). So every host
benchmark reports the flush rate of the disk under its database beside its
figures, measured here with a small write-and-fsync loop in that directory,
and for PostgreSQL also with ``pg_test_fsync`` when it is installed.
"""

from __future__ import annotations

import glob
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FlushRate",
    "MachineInfo",
    "cpu_busy_fraction",
    "cpu_ticks",
    "cpu_used",
    "machine_info",
    "measure_flush_rate",
    "pg_test_fsync",
    "process_cpu_seconds",
    "process_tree",
]

_BLOCK = 8192  # one PostgreSQL WAL page; SQLite's WAL frames are page-sized too


@dataclass(frozen=True, slots=True)
class FlushRate:
    """Flushes per second of one 8 KiB write plus ``fsync`` in ``directory``."""

    directory: str
    fsyncs_per_s: float
    mean_us: float
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": self.directory,
            "fsyncs_per_s": round(self.fsyncs_per_s, 1),
            "mean_us": round(self.mean_us, 1),
            "seconds": round(self.seconds, 2),
        }


def measure_flush_rate(directory: Path | str, seconds: float = 2.0) -> FlushRate:
    """Rewrite one 8 KiB block of a scratch file and ``fsync`` it, for ``seconds``.

    The file is created in ``directory`` (the database's own directory, so the
    same file system and device) and removed afterwards.
    """
    folder = Path(directory)
    fd, name = tempfile.mkstemp(prefix=".scanpay-fsync-", dir=folder)
    try:
        block = os.urandom(_BLOCK)
        os.pwrite(fd, block, 0)
        os.fsync(fd)
        count = 0
        started = time.perf_counter()
        deadline = started + seconds
        while True:
            os.pwrite(fd, block, 0)
            os.fsync(fd)
            count += 1
            now = time.perf_counter()
            if now >= deadline:
                break
        elapsed = now - started
    finally:
        os.close(fd)
        os.unlink(name)
    return FlushRate(str(folder), count / elapsed, elapsed / count * 1e6, elapsed)


_PG_LINE = re.compile(r"^\s+(\S+)\s+([0-9.]+) ops/sec")


def _pg_test_fsync_binary() -> str | None:
    found = shutil.which("pg_test_fsync")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_test_fsync"), reverse=True)
    return candidates[0] if candidates else None


def pg_test_fsync(directory: Path | str, seconds: int = 1) -> dict[str, float] | None:
    """``pg_test_fsync``'s "one 8kB write" figures (ops/s by sync method), or ``None``
    when the tool is not installed or fails. Its scratch file goes into ``directory``."""
    binary = _pg_test_fsync_binary()
    if binary is None:
        return None
    fd, name = tempfile.mkstemp(prefix=".scanpay-pgtf-", dir=directory)
    os.close(fd)
    try:
        done = subprocess.run(
            [binary, "-s", str(seconds), "-f", name],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    finally:
        Path(name).unlink(missing_ok=True)
    if done.returncode != 0:
        return None
    figures: dict[str, float] = {}
    section = False
    for line in done.stdout.splitlines():
        if line.startswith("Compare file sync methods using one 8kB write"):
            section = True
            continue
        if section and line.startswith("Compare"):
            break
        match = _PG_LINE.match(line) if section else None
        if match:
            figures[match.group(1)] = float(match.group(2))
    return figures or None


@dataclass(frozen=True, slots=True)
class MachineInfo:
    """What a figure was measured on."""

    cpus: int
    cpu_model: str
    memory_gib: float
    disk: str
    python: str
    system: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "cpus": self.cpus,
            "cpu_model": self.cpu_model,
            "memory_gib": self.memory_gib,
            "disk": self.disk,
            "python": self.python,
            "system": self.system,
        }


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _disk(directory: Path) -> str:
    """Device, file system and (for a block device) whether it spins, under ``directory``."""
    target = str(directory.resolve())
    best: tuple[str, str, str] | None = None
    for line in _read("/proc/mounts").splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        device, mount, fstype = parts[0], parts[1], parts[2]
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and (best is None or len(mount) > len(best[1])):
            best = (device, mount, fstype)
    if best is None:
        return "unknown"
    device, _, fstype = best
    name = Path(device).name
    base = re.sub(r"p?\d+$", "", name) if not Path(f"/sys/block/{name}").exists() else name
    rotational = _read(f"/sys/block/{base}/queue/rotational").strip()
    # Virtual disks often report themselves rotational: say what they report, no more.
    kind = {"0": "non-rotational", "1": "reports rotational"}.get(rotational, "")
    model = _read(f"/sys/block/{base}/device/model").strip()
    details = ", ".join(x for x in (fstype, kind, model) if x)
    return f"{device} ({details})" if details else device


def machine_info(directory: Path | str) -> MachineInfo:
    """The CPUs, memory, and the disk under ``directory``."""
    model = ""
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = 0.0
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            memory = round(int(line.split()[1]) / 1024 / 1024, 1)
            break
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    virtual = " hypervisor" in _read("/proc/cpuinfo")
    model = model or platform.processor() or "unknown"
    return MachineInfo(
        cpus,
        f"{model} (virtual machine)" if virtual else model,
        memory,
        _disk(Path(directory)),
        platform.python_version(),
        f"{platform.system()} {platform.release()}",
    )


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far (``/proc/stat``)."""
    first = _read("/proc/stat").split("\n", 1)[0].split()
    if not first or first[0] != "cpu":
        return 0, 0
    values = [int(v) for v in first[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already inside user
    return total - idle, total


def cpu_busy_fraction(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    """The share of all CPUs busy between two :func:`cpu_ticks` readings."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total if total > 0 else None


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    text = _read(f"/proc/{pid}/stat")
    if not text:
        return None
    # The command name is in parentheses and may hold blanks: split after it.
    return text[text.rfind(")") + 2 :].split()


def process_cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User plus system CPU seconds used so far by each of ``pids`` still alive."""
    found: dict[int, float] = {}
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None and len(fields) > 12:
            found[pid] = (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the processes alive at both readings used in between (one started in
    between, e.g. a new database connection, is left out: its start-up is not load)."""
    return sum(after[pid] - before[pid] for pid in after.keys() & before.keys())


def _all_pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:  # pragma: no cover - no procfs
        return []


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (by ``/proc``)."""
    parents: dict[int, list[int]] = {}
    for pid in _all_pids():
        fields = _stat_fields(pid)
        if fields is not None and len(fields) > 1:
            parents.setdefault(int(fields[1]), []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found
