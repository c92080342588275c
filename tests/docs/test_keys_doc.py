"""docs/host.md "Keys", walked through as written.

Every command of the section's ``sh`` blocks (its rotation subsection included) runs in
a shell with the installed ``scanpay``, against a SQLite host of the test's own, in the
order shown; each must succeed, and what the section says they do is checked after:
the key's fingerprint as ``key show`` prints it, the key's own backup, the rotation and
the retired key. The refusal the section quotes is the one a wrong key gets.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from scanpay.host.domain.sealing import key_fingerprint, short_fingerprint
from support import ROOT

DOC = ROOT / "docs" / "host.md"
TITLE = "## Keys"


def section(title: str = TITLE) -> str:
    text = DOC.read_text(encoding="utf-8")
    assert f"\n{title}\n" in text, f"docs/host.md has no {title!r}"
    return re.split(r"^## ", text.split(f"\n{title}\n", 1)[1], maxsplit=1, flags=re.M)[0]


def commands(part: str) -> list[str]:
    """The commands of the ``sh`` blocks, their trailing ``# ...`` comments removed."""
    found: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```$", part, flags=re.M | re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                found.append(command)
    return found


def _fingerprint(path: Path) -> str:
    return key_fingerprint(bytes.fromhex(path.read_text().strip()))


def test_the_keys_section_runs_as_written(tmp_path: Path) -> None:
    data, safe = tmp_path / "data", tmp_path / "safe"
    safe.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SCANPAY_") and key not in {"CI"}
    }
    env.update(
        SCANPAY_DATA_DIR=str(data),
        KEY_SAFE=str(safe),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    steps = commands(section())
    assert any("key rotate" in c for c in steps) and any("key show" in c for c in steps)
    outputs: dict[str, str] = {}
    first = None
    for command in steps:
        if "key rotate" in command:
            first = _fingerprint(data / "master.key")
        done = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
        outputs[command] = done.stdout
    shown = next(out for cmd, out in outputs.items() if "key show" in cmd)
    assert first is not None and short_fingerprint(first) in shown
    assert str(data / "master.key") in shown
    assert _fingerprint(safe / "master.key") == first  # the key's own backup, before rotating
    now = _fingerprint(data / "master.key")
    assert now != first
    retired = list(data.glob("master.key.retired-*"))
    assert [_fingerprint(p) for p in retired] == [first]
    # The refusal quoted in the section is what a wrong key is told.
    wrong = {**env, "SCANPAY_MASTER_KEY_FILE": str(safe / "master.key")}
    done = subprocess.run(
        ["scanpay", "host", "key", "show"], cwd=tmp_path, env=wrong, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1
    quoted = re.search(r"^refused: .*?fingerprint", section(), flags=re.M)
    assert quoted is not None and quoted.group(0) in done.stderr, done.stderr
    assert short_fingerprint(now) in done.stderr and short_fingerprint(first) in done.stderr
