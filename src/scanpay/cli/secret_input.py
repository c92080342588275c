"""Secrets an operator gives ``scanpay host channel`` (``--secret``): ``NAME=@FILE`` or
``NAME=-`` (stdin), never ``NAME=VALUE``. Reading files and stdin is the command line's
business; the checks every secret passes (its name; neither blank nor too long) come
from :mod:`~scanpay.host.services.channel_secrets`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from scanpay.host.errors import HostError
from scanpay.host.services.channel_secrets import MAX_SECRET_CHARS, checked_secret, is_secret_name
from scanpay.i18n import Text

__all__ = ["read_secrets"]


def _bad(zh: str, en: str) -> HostError:
    return HostError("30", Text(zh, en), field="secret")


def read_secrets(specs: Sequence[str], stdin: Callable[[str], str] | None = None) -> dict[str, str]:
    """Secrets from ``NAME=@PATH`` (a file) or ``NAME=-`` (``stdin(NAME)``, at most one).

    A value typed on the command line (``NAME=VALUE``) is refused: the shell keeps it
    in its history and every user of the machine sees it in the process list. No
    message repeats what was given after ``=``, nor anything before it that is not a
    secret's name (it may be a value typed without one). A trailing line break of
    the file is not part of the value."""
    found: dict[str, str] = {}
    stdin_used = False
    for spec in specs:
        name, equals, source = spec.partition("=")
        if not equals or not is_secret_name(name):
            raise _bad(
                "机密须写成 名称=@文件 或 名称=-（从标准输入读），名称为小写字母、数字或 _",
                "give a secret as NAME=@FILE or NAME=- (read from stdin); NAME is lower-case "
                "letters, digits or _",
            )
        if name in found:
            raise _bad(f"机密 {name} 给了两次", f"the secret {name} is given twice")
        if source == "-":
            if stdin_used or stdin is None:
                raise _bad("只有一项机密可以从标准输入读", "only one secret can come from stdin")
            stdin_used = True
            value = stdin(name)
        elif source.startswith("@") and len(source) > 1:
            value = _read_file(name, Path(source[1:]).expanduser())
        else:
            raise _bad(
                f"机密 {name} 的值不能写在命令行上（会留在 shell 历史和进程列表中）："
                f"请用 {name}=@文件 或 {name}=-（标准输入）",
                f"the value of the secret {name} cannot be given on the command line (it "
                f"stays in the shell's history and shows in the process list): use "
                f"{name}=@FILE or {name}=- (stdin)",
            )
        found[name] = checked_secret(name, value.rstrip("\r\n"))
    return found


def _read_file(name: str, path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(4 * MAX_SECRET_CHARS + 1)
    except OSError as exc:  # the path and the reason, never the content
        reason = exc.strerror or type(exc).__name__
        raise _bad(
            f"读不到机密 {name} 的文件 {path}：{reason}",
            f"cannot read the file of the secret {name}, {path}: {reason}",
        ) from None
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise _bad(
            f"机密 {name} 的文件不是 UTF-8 文本（证书和私钥请用 PEM 格式）",
            f"the file of the secret {name} is not UTF-8 text (give certificates and keys as PEM)",
        ) from None
