"""Seeded mutation fuzzing: many mangled real and built codes, only CodeError escapes.

Seeds are the vectors from ../shared (when present) and codes the project
builds itself, so the test has data on a fresh clone too. Set
SCANPAY_FUZZ_INPUTS for a longer run.
"""

from __future__ import annotations

import base64
import json
import os
import random

from scanpay.codes import (
    AccountTemplate,
    ApplicationSpec,
    CodeError,
    MerchantLanguage,
    build_cpm,
    build_mpm,
    parse_payment_code,
)
from support import SHARED

INPUTS = int(os.environ.get("SCANPAY_FUZZ_INPUTS", "120000"))


def _seeds() -> list[str]:
    seeds = [
        build_mpm(
            merchant_accounts=[AccountTemplate("26", "org.scanpay", {"01": "M100001"})],
            merchant_name="最佳商店 Best Shop",
            merchant_city="Shanghai",
            mcc="5411",
            currency="CNY",
            country="CN",
            amount=1234,
            additional_data={"reference_label": "T1-0001", "consumer_data_request": "AME"},
            language=MerchantLanguage("ZH", "最佳商店", "上海"),
        ),
        build_cpm(
            [
                ApplicationSpec(
                    aid="A000000333010102",
                    label="UnionPay",
                    track2="6212345678901234567D3012201",
                    transparent=[("9F26", b"\x01" * 8), ("9F36", b"\x00\x05")],
                )
            ],
            common=[("5F2D", b"zhen")],
        ),
        "881234567890123456",
        "134567890123456789",
    ]
    vectors = SHARED / "vectors" / "emv-qr-real.json"
    if vectors.exists():
        seeds += [e["payload"] for e in json.loads(vectors.read_text(encoding="utf-8"))]
    return seeds


def _mutate(rng: random.Random, text: str) -> str:
    op = rng.randrange(9)
    n = len(text)
    i = rng.randrange(n + 1)
    if op == 0 and n:  # flip a bit of one UTF-8 byte
        data = bytearray(text.encode())
        j = rng.randrange(len(data))
        data[j] ^= 1 << rng.randrange(8)
        return data.decode("utf-8", errors="replace")
    if op == 1:  # truncate
        return text[:i]
    if op == 2 and n >= 2:  # edit a two-digit length or ID
        return text[:i] + f"{rng.randrange(100):02d}" + text[i + 2 :]
    if op == 3:  # insert random unicode
        return (
            text[:i]
            + "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 6)))
            + text[i:]
        )
    if op == 4 and n:  # delete a run
        return text[:i] + text[i + rng.randrange(1, 8) :]
    if op == 5 and n:  # duplicate a run
        j = rng.randrange(n)
        return text[:i] + text[j : j + rng.randrange(1, 40)] + text[i:]
    if op == 6 and text.startswith("hQVDUFY"):  # mutate the decoded bytes
        try:
            data = bytearray(base64.b64decode(text))
        except ValueError:
            return text[::-1]
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        return base64.b64encode(bytes(data)).decode()
    if op == 7:  # lower-case or swap case of a region
        return text[:i] + text[i : i + 8].swapcase() + text[i + 8 :]
    return text + text[: rng.randrange(0, 50)]


def test_mutated_codes_raise_only_code_errors() -> None:
    rng = random.Random(20261126)
    seeds = _seeds()
    accepted = rejected = 0
    for _ in range(INPUTS):
        text = rng.choice(seeds)
        for _ in range(rng.randrange(1, 4)):
            text = _mutate(rng, text)
        try:
            parse_payment_code(text)
            accepted += 1
        except CodeError as exc:
            assert exc.code and exc.problems
            rejected += 1
    assert accepted + rejected == INPUTS
    # The mutations must really exercise both outcomes.
    assert rejected > INPUTS // 2 and accepted > 0
