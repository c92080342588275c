"""The host benchmark (``scanpay bench host``): approved payments per second and latency
of the real host over loopback, beside the disk's measured flush rate.

Measurement code lives here so the CLI stays a thin shell and tests run the
same code in short form.
"""

from __future__ import annotations

from scanpay.host.bench.load import CodeSupply, LoadResult, LoadSlice, run_load
from scanpay.host.bench.machine import FlushRate, MachineInfo, machine_info, measure_flush_rate
from scanpay.host.bench.runner import HostBenchConfig, HostBenchReport, Progress, run_host_bench
from scanpay.host.bench.world import BenchWorld, bench_database, build_world

__all__ = [
    "BenchWorld",
    "CodeSupply",
    "FlushRate",
    "HostBenchConfig",
    "HostBenchReport",
    "LoadResult",
    "LoadSlice",
    "MachineInfo",
    "Progress",
    "bench_database",
    "build_world",
    "machine_info",
    "measure_flush_rate",
    "run_host_bench",
    "run_load",
]
