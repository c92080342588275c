"""``scanpay host key``: the master key's fingerprint, and rotating it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from scanpay.cli.host._shared import JsonOption, emit, run
from scanpay.cli.language import cli_language
from scanpay.host.domain.sealing import short_fingerprint
from scanpay.host.errors import HostError
from scanpay.host.services.context import HostContext
from scanpay.i18n import Text

__all__ = ["app"]

app = typer.Typer(help="The master key: its fingerprint, and rotating it.")

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


@app.command("show")
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

    data = run(as_json, show)
    emit(as_json, data, lambda: typer.echo(f"master key {data['short']} ({data['source']})"))


@app.command("rotate")
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

    data = run(as_json, rotate)
    language = cli_language()
    emit(
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
