"""``scanpay sim``: the payment networks' simulators, each a process of its own.

``scanpay sim wechat`` serves the WeChat Pay simulator (API v3 code pay, API v2
micropay), ``scanpay sim alipay`` the Alipay open-platform simulator (bar-code pay),
``scanpay sim unionpay`` the UnionPay ACP 5.1.0 simulator (QR code pay, C2B);
``docs/networks.md`` is their manual.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import typer

from scanpay.cli.language import cli_language
from scanpay.i18n import Language, Text
from scanpay.sim.common.money import yuan

__all__ = ["app"]

app = typer.Typer(help="Payment-network simulators for tests and the demo.", no_args_is_help=True)

LISTENING = Text(
    "微信支付模拟器在 {url} 监听（数据：{data}，{state}）",
    "WeChat Pay simulator listening on {url} (data in {data}, {state})",
)
CREATED = Text("新建", "created")
REUSED = Text("沿用", "reused")
DEMO_MERCHANT = Text(
    "  演示商户 {mchid}（appid {appid}），回复用 {mode} 签名，密钥见 {path}",
    "  demo merchant {mchid} (appid {appid}), replies signed in {mode} mode, keys in {path}",
)
DEMO_WALLET = Text(
    "  演示钱包 {wallet}（{name}），余额 {balance} CNY，{limit}",
    "  demo wallet {wallet} ({name}), balance {balance} CNY, {limit}",
)
LIMIT = Text(
    "超过 {amount} CNY 需在 {url}/sim/ 确认支付密码",
    "password asked above {amount} CNY (confirm at {url}/sim/)",
)
NO_LIMIT = Text("不需要密码", "never asks for a password")
CODE_HINT = Text(
    "  付款码：打开 {url}/sim/wallets/{wallet}/code\n"
    "  或 curl -X POST {url}/sim/wallets/{wallet}/codes",
    "  a payment code: open {url}/sim/wallets/{wallet}/code\n"
    "  or curl -X POST {url}/sim/wallets/{wallet}/codes",
)
NO_DEMO = Text(
    "  已有商户（不是演示数据）：见 {url}/sim/merchants",
    "  merchants exist (not the demo's): see {url}/sim/merchants",
)


ALIPAY_LISTENING = Text(
    "支付宝模拟器在 {url} 监听（网关 {url}/gateway.do，数据：{data}，{state}）",
    "Alipay simulator listening on {url} (gateway {url}/gateway.do, data in {data}, {state})",
)
ALIPAY_DEMO_APP = Text(
    "  演示应用 {app_id}（{mode} 模式），密钥见 {path}",
    "  demo app {app_id} ({mode} mode), keys in {path}",
)
ALIPAY_NO_DEMO = Text(
    "  已有应用（不是演示数据）：见 {url}/sim/apps",
    "  apps exist (not the demo's): see {url}/sim/apps",
)

UNIONPAY_LISTENING = Text(
    "银联模拟器在 {url} 监听（网关 {url}/gateway/api/，数据：{data}，{state}）",
    "UnionPay simulator listening on {url} (gateway {url}/gateway/api/, data in {data}, {state})",
)
UNIONPAY_DEMO_MERCHANT = Text(
    "  演示商户 {mer_id}（证书 CN 名称 {cn}），密钥与证书见 {path}",
    "  demo merchant {mer_id} (expected_cn {cn}), keys and certificates in {path}",
)
UNIONPAY_NO_DEMO = Text(
    "  已有商户（不是演示数据）：见 {url}/sim/merchants",
    "  merchants exist (not the demo's): see {url}/sim/merchants",
)


class _DemoWallet(Protocol):
    """What a simulator's demo says of its customer."""

    @property
    def wallet_id(self) -> int: ...

    @property
    def wallet_name(self) -> str: ...

    @property
    def password_above(self) -> int | None: ...


def _serve(
    application: Any,
    host: str,
    port: int,
    log_level: str,
    *,
    heading: Callable[[str], Text],
    no_demo: Text,
    demo: _DemoWallet | None,
    demo_line: str,
) -> None:
    """Bind ``host:port`` (a clear error and exit 1 when it cannot), print the simulator's
    ``heading`` at its URL and its ``demo`` (``demo_line`` for its merchant; ``no_demo``
    when there is none), then serve ``application`` there."""
    import uvicorn

    language = cli_language()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        typer.echo(
            Text(f"无法监听 {host}:{port}：{exc}", f"cannot listen on {host}:{port}: {exc}").get(
                language
            ),
            err=True,
        )
        raise typer.Exit(1) from None
    bound = sock.getsockname()[1]
    url = f"http://{'[' + host + ']' if family == socket.AF_INET6 else host}:{bound}"
    lines = [heading(url).get(language)]
    if demo is None:
        lines.append(no_demo.format(url=url).get(language))
    else:
        wallet = application.state.sim.store.wallet(demo.wallet_id)
        balance = wallet.balance if wallet else None
        lines += [demo_line, *_wallet_lines(demo, balance, url, language)]
    typer.echo("\n".join(lines), err=False)
    config = uvicorn.Config(application, log_level=log_level, access_log=False, use_colors=False)
    uvicorn.Server(config).run(sockets=[sock])


def _wallet_lines(
    demo: _DemoWallet, balance: int | None, url: str, language: Language
) -> list[str]:
    """The demo wallet's line (its balance, ``balance`` fen, and password limit) and
    where to get a payment code for it."""
    limit = (
        LIMIT.format(amount=yuan(demo.password_above), url=url)
        if demo.password_above is not None
        else NO_LIMIT
    )
    return [
        DEMO_WALLET.format(
            wallet=demo.wallet_id,
            name=demo.wallet_name,
            balance=yuan(balance) if balance is not None else "?",
            limit=limit.get(language),
        ).get(language),
        CODE_HINT.format(url=url, wallet=demo.wallet_id).get(language),
    ]


@app.command("wechat")
def wechat_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (keep loopback)."),
    port: int = typer.Option(8610, "--port", min=0, max=65535, help="Port (0: any free one)."),
    data: Path = typer.Option(Path("data/sim-wechat"), "--data", help="State and keys folder."),
    code_ttl: float = typer.Option(60.0, "--code-ttl", min=1, help="Seconds a payment code lives."),
    log_level: str = typer.Option("warning", "--log-level"),
) -> None:
    """Serve the WeChat Pay simulator (first start: its keys, a demo merchant and wallet)."""
    from scanpay.sim.wechat import SimSettings, create_app
    from scanpay.sim.wechat.app import DATABASE
    from scanpay.sim.wechat.demo import ensure_demo

    language = cli_language()
    state = (REUSED if (data / DATABASE).exists() else CREATED).get(language)
    application = create_app(SimSettings(data_dir=data, code_ttl=code_ttl))
    demo = ensure_demo(application.state.sim)
    _serve(
        application,
        host,
        port,
        log_level,
        heading=lambda url: LISTENING.format(url=url, data=data, state=state),
        no_demo=NO_DEMO,
        demo=demo,
        demo_line=DEMO_MERCHANT.format(
            mchid=demo.mchid, appid=demo.appid, mode=demo.mode, path=demo.path
        ).get(language)
        if demo
        else "",
    )


@app.command("alipay")
def alipay_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (keep loopback)."),
    port: int = typer.Option(8620, "--port", min=0, max=65535, help="Port (0: any free one)."),
    data: Path = typer.Option(Path("data/sim-alipay"), "--data", help="State and keys folder."),
    code_ttl: float = typer.Option(60.0, "--code-ttl", min=1, help="Seconds a payment code lives."),
    fee_bp: int = typer.Option(
        60, "--fee-bp", min=0, max=10_000, help="New apps' service fee, basis points (60: 0.6 %)."
    ),
    log_level: str = typer.Option("warning", "--log-level"),
) -> None:
    """Serve the Alipay simulator (first start: its keys, a demo app and wallet)."""
    from scanpay.sim.alipay import SimSettings as AlipaySettings
    from scanpay.sim.alipay import create_app as create_alipay
    from scanpay.sim.alipay.app import DATABASE
    from scanpay.sim.alipay.demo import ensure_demo as ensure_alipay_demo

    language = cli_language()
    state = (REUSED if (data / DATABASE).exists() else CREATED).get(language)
    application = create_alipay(AlipaySettings(data_dir=data, code_ttl=code_ttl, fee_bp=fee_bp))
    demo = ensure_alipay_demo(application.state.sim)
    _serve(
        application,
        host,
        port,
        log_level,
        heading=lambda url: ALIPAY_LISTENING.format(url=url, data=data, state=state),
        no_demo=ALIPAY_NO_DEMO,
        demo=demo,
        demo_line=ALIPAY_DEMO_APP.format(app_id=demo.app_id, mode=demo.mode, path=demo.path).get(
            language
        )
        if demo
        else "",
    )


@app.command("unionpay")
def unionpay_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (keep loopback)."),
    port: int = typer.Option(8630, "--port", min=0, max=65535, help="Port (0: any free one)."),
    data: Path = typer.Option(Path("data/sim-unionpay"), "--data", help="State and keys folder."),
    code_ttl: float = typer.Option(60.0, "--code-ttl", min=1, help="Seconds a payment code lives."),
    pay_deadline: float = typer.Option(
        300.0, "--pay-deadline", min=1, help="Seconds a consume waits for the password."
    ),
    log_level: str = typer.Option("warning", "--log-level"),
) -> None:
    """Serve the UnionPay simulator (first start: its certificates, a demo merchant and
    wallet)."""
    from scanpay.sim.unionpay import SimSettings as UnionPaySimSettings
    from scanpay.sim.unionpay import create_app as create_unionpay
    from scanpay.sim.unionpay.app import DATABASE
    from scanpay.sim.unionpay.demo import ensure_demo as ensure_unionpay_demo

    language = cli_language()
    state = (REUSED if (data / DATABASE).exists() else CREATED).get(language)
    settings = UnionPaySimSettings(data_dir=data, code_ttl=code_ttl, pay_deadline=pay_deadline)
    application = create_unionpay(settings)
    demo = ensure_unionpay_demo(application.state.sim)
    _serve(
        application,
        host,
        port,
        log_level,
        heading=lambda url: UNIONPAY_LISTENING.format(url=url, data=data, state=state),
        no_demo=UNIONPAY_NO_DEMO,
        demo=demo,
        demo_line=UNIONPAY_DEMO_MERCHANT.format(
            mer_id=demo.mer_id, cn=settings.expected_cn, path=demo.path
        ).get(language)
        if demo
        else "",
    )
