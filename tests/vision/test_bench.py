from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from scanpay.vision.bench import (
    load_dataset,
    run_decode_bench,
    run_frames_bench,
    run_guidance_bench,
    run_strategy_bench,
)
from scanpay.vision.bench.guidance import codes_from_dataset
from vision.helpers import dataset_dir


def test_decode_bench_counts_every_decoder_and_the_union(tiny_dataset: Path) -> None:
    report = run_decode_bench(load_dataset(tiny_dataset), repeat=1)
    overall = report.row("overall")
    assert overall.entries == 5
    # clean, placed, the tiny code (a fallback reads it) and the two parts.
    assert overall.read["scanpay"] == 4
    assert overall.read["zxing"] == 3  # zxing-cpp alone misses the tiny code
    assert overall.read["union"] >= overall.read["zxing"]
    assert report.row("hard").read["scanpay"] == 1
    assert report.row("parts").read["scanpay"] == 1
    assert report.zxing_read_count == 3
    assert report.time_ratio > 0
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data["criteria"]) == {
        "at_least_union_in_every_category",
        "more_than_zxing_overall",
        "time_within_1.3x_of_zxing",
    }
    assert len(data["entries"]) == 5


def test_decode_bench_on_real_photos() -> None:
    real = load_dataset(dataset_dir())
    subset = replace(real, entries=tuple(e for e in real.entries if e.category == "qrcode-1"))
    report = run_decode_bench(subset, repeat=1)
    row = report.row("qrcode-1")
    assert row.entries == 8
    assert row.read["scanpay"] >= row.read["union"] >= row.read["zxing"] > 0


def test_frames_bench_reports_a_rate() -> None:
    report = run_frames_bench(24, pin=False)
    assert report.frames == 24
    assert report.fps > 0
    assert 0 < report.read_share < 1
    assert "OK" in report.by_condition_ms and "NO_CODE" in report.by_condition_ms


def test_strategy_bench_orders_by_gain(tiny_dataset: Path) -> None:
    report = run_strategy_bench(
        load_dataset(tiny_dataset), candidates=["upscale3", "otsu", "downscale3"]
    )
    assert report.pool > 0
    assert report.sources.get("dataset") == 2  # the tiny code and the noise
    assert "upscale3" in report.order  # it reads the tiny code
    ranked = [r for r in report.rows if r.rank]
    assert [r.name for r in ranked] == report.order
    assert report.covered == sum(r.gain for r in ranked)


def test_guidance_bench_scores_every_cause(tiny_dataset: Path) -> None:
    codes = codes_from_dataset(load_dataset(tiny_dataset))
    assert len(codes) == 3  # clean, placed, small (structured append is skipped)
    report = run_guidance_bench(codes)
    assert report.total.frames == 12 * 3
    assert all(row.frames == 3 for row in report.rows)
    assert report.total.primary > report.total.frames // 2
