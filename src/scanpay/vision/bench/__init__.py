"""Benchmarks for the scanner: decode rate and time against other decoders,
live-frame throughput, strategy gains and guidance accuracy.

Measurement code lives here so the CLI (``scanpay bench``) stays a thin shell
and tests can run the same code on small inputs.
"""

from __future__ import annotations

from scanpay.vision.bench.dataset import Dataset, Entry, load_dataset
from scanpay.vision.bench.decode import DecodeReport, run_decode_bench
from scanpay.vision.bench.frames import FramesReport, pin_to_one_core, run_frames_bench
from scanpay.vision.bench.guidance import GuidanceReport, run_guidance_bench
from scanpay.vision.bench.strategies import StrategyReport, run_strategy_bench

__all__ = [
    "Dataset",
    "DecodeReport",
    "Entry",
    "FramesReport",
    "GuidanceReport",
    "StrategyReport",
    "load_dataset",
    "pin_to_one_core",
    "run_decode_bench",
    "run_frames_bench",
    "run_guidance_bench",
    "run_strategy_bench",
]
