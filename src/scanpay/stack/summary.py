"""What ``scanpay run`` prints once the stack is up, in zh-CN or English.

Where to go (the cashier screen, the wallet page, the portal, each simulator), the
demo's logins and wallets, each simulator's demo customer and the channel the demo
merchant has to its demo merchant, and how to make a first sale. Never a key: the
simulators' keys stay in their ``demo.json``.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from scanpay.i18n import Language, Text
from scanpay.money import format_amount
from scanpay.stack.sims import RunningSim

__all__ = ["summary"]

_HEADING = Text(
    "scanpay 正在运行（{state}数据：{folder}）", "scanpay is running ({state} data in {folder})"
)
_CREATED, _REUSED = Text("新建", "created"), Text("沿用", "reused")
_CASHIER_SCREEN = Text("收银界面", "cashier screen")
_WALLET_PAGE = Text("钱包页面", "wallet page")
_PORTAL = Text("商户门户", "merchant portal")
_SIM = Text("{title}模拟器", "{title} sim")
_HOST_API = Text("主机 API", "host API")
_AGENT_API = Text("终端 API", "agent API")
_STATUS = Text("终端状态", "terminal status")
_MERCHANT = Text(
    "商户 {name}（{id}），终端 {terminal}", "merchant {name} ({id}), terminal {terminal}"
)
_ROLES = {
    "cashier": Text("收银员", "cashier"),
    "supervisor": Text("主管", "supervisor"),
    "owner": Text("店主", "owner"),
    "operator": Text("运营", "operator"),
}
_OPERATOR = Text("{role} {name} 编号 {id}   PIN {pin}", "{role} {name} id {id}   PIN {pin}")
_PORTAL_USER = Text(
    "{tag} {role} {email}   密码 {password}", "{tag} {role} {email}   password {password}"
)
_PORTAL_TAG = Text("门户", "portal")
_WALLET_TAG = Text("钱包", "wallet")
_WALLET = Text(
    "{tag} {name} 账户 {account}   PIN {pin}   {balance}超过 {limit} 需输入 PIN",
    "{tag} {name} account {account}   PIN {pin}   {balance}PIN asked above {limit}",
)
_BALANCE = Text("余额 {amount} CNY，", "balance {amount} CNY, ")
_SIM_WALLET = Text(
    "{tag} {name} 模拟器钱包 {id}   余额 {amount} CNY",
    "{tag} {name} simulator wallet {id}   balance {amount} CNY",
)
_PASSWORD_ABOVE = Text("，超过 {amount} 需输入支付密码", ", password asked above {amount}")
_CHANNEL = Text("{tag} 渠道：{merchant}", "{tag} channel to {merchant}")
_CHANNEL_LEFT = Text(
    "{tag} 保留商户自己的{title}渠道（不是模拟器的演示商户）",
    "{tag} the merchant's own {title} channel is kept (not the simulator's demo)",
)
_NO_DEMO = Text(
    "{tag} 模拟器已有商户但没有演示数据：见 {url}/sim/",
    "{tag} the simulator has merchants but no demo: see {url}/sim/",
)
_FIRST_SALE = Text(
    "第一笔交易：打开钱包页面，以 Alice 登录，复制条码下的 18 位数字；打开收银界面，\n"
    "以 Ann 登录，输入 12.34，按“扫码收款”，把数字粘贴到“输入或粘贴付款码”，\n"
    "按“使用此码”，再按“确认收款”。",
    "A first sale: open the wallet page, log in as Alice and copy the 18 digits under\n"
    "the barcode; open the cashier screen, log in as Ann, type 12.34, press\n"
    "'Scan to charge', paste the digits into 'Type or paste the payment code', press\n"
    "'Use this code', then 'Confirm'.",
)
_SIM_CODE = Text(
    "{name} 的{title}付款码：打开 {url}/sim/wallets/{id}/code，同样使用其中的数字；\n"
    "主机把它发给{title}模拟器。",
    "{name}'s {title} code: open {url}/sim/wallets/{id}/code and use its digits\n"
    "the same way; the host sends it to the {title} simulator.",
)
_SIM_CONFIRM = Text(
    "超过 {amount} 时，收银界面会等待顾客在 {url}/sim/ 确认。",
    "Above {amount} the cashier screen waits while the customer confirms on {url}/sim/.",
)
_FOOTER = Text(
    "Ctrl-C 停止全部；再次 `make run` 沿用数据（删除该文件夹即可从头开始）。",
    "Ctrl-C stops everything; `make run` again reuses the data (delete the folder to start over).",
)


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` columns, a Chinese character taking two."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - used, 0)


def summary(stack: Any, language: Language) -> str:
    """The summary of a started :class:`~scanpay.stack.Stack` in ``language``."""

    def say(text: Text, **values: object) -> str:
        return text.format(**values).get(language)

    def tag(text: Text | str) -> str:
        return _pad(text if isinstance(text, str) else text.get(language), 10)

    demo, host, agent = stack.demo, stack.host_url, stack.agent_url
    state = _CREATED if stack.created else _REUSED
    rows = [
        (say(_CASHIER_SCREEN), f"{agent}/"),
        (say(_WALLET_PAGE), f"{host}/wallet/"),
        (say(_PORTAL), stack.portal_url),
        *[
            (say(_SIM, title=r.simulator.title.get(language)), f"{r.url}/sim/")
            for r in _sims(stack)
        ],
        (say(_HOST_API), f"{host}/docs      {say(_AGENT_API)}  {agent}/docs"),
        (say(_STATUS), f"{agent}/status"),
    ]
    lines = [say(_HEADING, state=state.get(language), folder=stack.data_dir), ""]
    lines += [f"  {_pad(label, 16)} {value}" for label, value in rows]
    lines += ["", "  " + say(_MERCHANT, name=demo.merchant_name, id=demo.merchant_id,
                              terminal=demo.terminal_id)]  # fmt: skip
    for op in demo.operators:
        role = tag(_ROLES.get(op.role, op.role))
        line = say(_OPERATOR, role=role, name=f"{op.name:<6}", id=op.operator_id, pin=op.pin)
        lines.append("  " + line)
    for user in demo.portal_users:
        role = tag(_ROLES.get(user.role, user.role))
        values = {"email": user.email, "password": user.password}
        lines.append("  " + say(_PORTAL_USER, tag=tag(_PORTAL_TAG), role=role, **values))
    balances = stack.balances()
    for w in demo.wallets:
        limit = format_amount(w.pin_above if w.pin_above is not None else 100_000, "CNY")
        known = balances.get(w.account)
        balance = say(_BALANCE, amount=format_amount(known, "CNY")) if known is not None else ""
        values = {"account": w.account, "pin": w.pin, "balance": balance, "limit": limit}
        lines.append("  " + say(_WALLET, tag=tag(_WALLET_TAG), name=f"{w.name:<6}", **values))
    for running in _sims(stack):
        lines += ["  " + line for line in _sim_lines(running, language)]
    lines += ["", *say(_FIRST_SALE).splitlines()]
    for running in _sims(stack):
        lines += _sim_hint(running, language)
    lines += ["", say(_FOOTER)]
    return "\n".join(lines)


def _sims(stack: Any) -> list[RunningSim]:
    return list(stack.sims.values())


def _sim_lines(running: RunningSim, language: Language) -> list[str]:
    """The simulator's demo customer and the demo merchant's channel (no key, ever)."""
    simulator, demo = running.simulator, running.demo
    tag = _pad(simulator.name, 10)
    if demo is None:
        return [_NO_DEMO.format(tag=tag, url=running.url).get(language)]
    balance = running.balance()
    amount = format_amount(balance, "CNY") if balance is not None else "?"
    line = _SIM_WALLET.format(tag=tag, name=f"{demo.wallet_name:<6}", id=demo.wallet_id,
                              amount=amount).get(language)  # fmt: skip
    if demo.password_above is not None:
        above = format_amount(demo.password_above, "CNY")
        line += _PASSWORD_ABOVE.format(amount=above).get(language)
    if running.channel == "left":
        channel = _CHANNEL_LEFT.format(tag=tag, title=simulator.title.get(language))
    else:
        merchant = simulator.merchant.format(id=demo.merchant_id).get(language)
        channel = _CHANNEL.format(tag=tag, merchant=merchant)
    return [line, channel.get(language)]


def _sim_hint(running: RunningSim, language: Language) -> list[str]:
    """How to pay with a code of the simulator's demo customer."""
    demo = running.demo
    if demo is None:
        return []
    title = running.simulator.title.get(language)
    text = _SIM_CODE.format(title=title, name=demo.wallet_name, url=running.url, id=demo.wallet_id)
    lines = ["", *text.get(language).splitlines()]
    if demo.password_above is not None:
        above = format_amount(demo.password_above, "CNY")
        lines.append(_SIM_CONFIRM.format(amount=above, url=running.url).get(language))
    return lines
