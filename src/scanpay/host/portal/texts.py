"""Every text of the portal's pages, in zh-CN and en. Pure.

Templates ask for a key (``t("nav.today")``); placeholders are filled with
``str.format`` (``t("today.title", day="2026-03-02")``). A missing key is an
error, never an empty label: a test renders every template and checks that
every key it uses is here in both languages.
"""

from __future__ import annotations

from scanpay.codes.names import NETWORK_NAMES
from scanpay.i18n import Text, normalize_language
from scanpay.networks.results import decline_message

__all__ = ["MCC_CHOICES", "TEXTS", "has_text", "reason_text", "text_of", "translate"]

# key: (zh-CN, en)
TEXTS: dict[str, tuple[str, str]] = {
    "app.name": ("scanpay 商户服务平台", "scanpay merchant portal"),
    "app.footer": (
        "scanpay 收单主机 · 所有时间为营业时区",
        "scanpay acquiring host · times in the business timezone",
    ),
    "nav.label": ("主菜单", "Main menu"),
    "nav.today": ("今日概览", "Today"),
    "nav.transactions": ("交易查询", "Transactions"),
    "nav.orders": ("收款码订单", "Orders"),
    "nav.refunds": ("退款", "Refunds"),
    "nav.settlements": ("结算", "Settlements"),
    "nav.terminals": ("终端", "Terminals"),
    "nav.application": ("我的申请", "My application"),
    "nav.applications": ("入网申请", "Applications"),
    "nav.merchants": ("商户", "Merchants"),
    "nav.limits": ("限额与费率", "Limits"),
    "nav.audit": ("审计链", "Audit trail"),
    "nav.logout": ("退出", "Log out"),
    "role.owner": ("负责人", "owner"),
    "role.accountant": ("财务", "accountant"),
    "role.read_only": ("只读", "read-only"),
    "role.operator": ("收单机构操作员", "operator"),
    "merchant.not_approved": (
        "商户状态：{status}，暂不能收款",
        "Merchant status: {status}; payments are not taken",
    ),
    "mstatus.in_review": ("审核中", "in review"),
    "mstatus.approved": ("已通过", "approved"),
    "mstatus.suspended": ("已暂停", "suspended"),
    "error.home": ("返回首页", "Back to the portal"),
    "error.not_found": ("找不到该页面或记录", "No such page or record"),
    # login
    "login.title": ("登录", "Log in"),
    "login.submit": ("登录", "Log in"),
    "login.failed": ("电子邮箱或密码错误", "Wrong e-mail or password"),
    "login.busy": (
        "系统繁忙，请稍后再试",
        "The host is busy checking passwords: try again in a few seconds",
    ),
    "login.throttled": (
        "登录失败次数过多，请于 {until} 后再试",
        "Too many failed logins: try again after {until}",
    ),
    "login.logged_out": ("您已退出", "You are logged out"),
    "login.apply_hint": ("还不是商户？", "Not a merchant yet?"),
    "login.apply": ("申请收单服务", "Apply for acquiring"),
    # apply
    "apply.title": ("申请收单服务", "Apply for acquiring"),
    "apply.intro": (
        "填写企业信息，我们审核后为您开通商户并配发终端。提交后可凭电子邮箱和密码登录查看进度。",
        "Tell us about your business: after review we open your merchant account and send "
        "your terminals. Log in with your e-mail and password to follow the application.",
    ),
    "apply.fix": ("请更正标出的内容", "Please correct the marked fields"),
    "apply.shop_hint": (
        "（显示在收款码上，最多 25 字，可不填）",
        "(shown on QR codes, up to 25, optional)",
    ),
    "apply.password_hint": (
        "（至少 10 个字符，用于登录本平台）",
        "(at least 10 characters, for this portal)",
    ),
    "apply.submit": ("提交申请", "Submit the application"),
    "apply.email_taken": (
        "该电子邮箱已有登录账户，请直接登录查看",
        "That e-mail already has a login: log in instead",
    ),
    "field.company_name": ("公司名称", "Company name"),
    "field.shop_name": ("店铺名称", "Shop name"),
    "field.license": ("统一社会信用代码", "Unified social credit code"),
    "field.legal_representative": ("法定代表人", "Legal representative"),
    "field.phone": ("联系电话", "Phone"),
    "field.email": ("电子邮箱", "E-mail"),
    "field.city": ("城市", "City"),
    "field.address": ("经营地址", "Shop address"),
    "field.mcc": ("商户类别（MCC）", "Business category (MCC)"),
    "field.monthly_volume": ("预计月交易额", "Expected monthly volume"),
    "field.terminal_count": ("终端数量", "Terminals"),
    "field.password": ("密码", "Password"),
    "field.password_again": ("再次输入密码", "Password again"),
    "uscc.ok": ("校验位正确", "check character is right"),
    "uscc.bad": ("校验位错误，应为 {expected}", "wrong check character: it should be {expected}"),
    "uscc.short": ("还差 {n} 位", "{n} more characters"),
    "uscc.chars": (
        "含有不允许的字符（I、O、S、V、Z 不用于该代码）",
        "characters not used in this code (no I, O, S, V, Z)",
    ),
    "mcc.5411": ("超市、便利店", "grocery stores, supermarkets"),
    "mcc.5812": ("餐馆", "restaurants"),
    "mcc.5814": ("快餐", "fast food"),
    "mcc.5499": ("食品店", "food stores"),
    "mcc.5912": ("药店", "drug stores"),
    "mcc.5999": ("其他零售", "other retail"),
    "mcc.7230": ("美容美发", "beauty and barber shops"),
    "mcc.4121": ("出租车", "taxis"),
    "mcc.5541": ("加油站", "service stations"),
    "mcc.7011": ("酒店", "hotels"),
    # application
    "application.title": ("入网申请", "Your application"),
    "application.reference": ("申请编号", "Reference"),
    "application.status": ("状态", "Status"),
    "application.submitted": ("提交时间", "Submitted"),
    "application.decided": ("处理时间", "Decided"),
    "application.reason": ("原因", "Reason"),
    "application.waiting": ("申请已提交，正在审核。", "Your application is with us for review."),
    "application.rejected": (
        "很抱歉，申请未通过。",
        "We are sorry: the application was not approved.",
    ),
    "application.approved": (
        "申请已通过，商户号 {merchant}。",
        "Approved: your merchant id is {merchant}.",
    ),
    "application.to_portal": ("进入商户服务平台", "Go to your merchant portal"),
    "astatus.submitted": ("待审核", "submitted"),
    "astatus.approved": ("已通过", "approved"),
    "astatus.rejected": ("已拒绝", "rejected"),
    "applications.none": ("没有申请", "No applications"),
    "codes.title": ("终端激活码", "Terminal activation codes"),
    "codes.hint": (
        "每个激活码只能使用一次：在终端上输入即可激活。请勿告知他人。",
        "Each code works once: type it into the terminal to activate it. "
        "Keep the codes to yourself.",
    ),
    "code.pending": ("待激活", "waiting"),
    "code.activated": ("已激活", "activated"),
    "code.expired": ("已过期", "expired"),
    # today
    "today.title": ("今日概览 {day}", "Today, {day}"),
    "today.payments": ("收款", "Payments"),
    "today.refunds": ("退款", "Refunds"),
    "today.net": ("净收款", "Net"),
    "today.success_rate": ("成功率", "Success rate"),
    "today.count_unit": ("笔", "payments"),
    "today.refund_unit": ("笔", "refunds"),
    "today.attempts": ("共 {n} 笔，失败 {failed} 笔", "{n} attempts, {failed} failed"),
    "today.by_hour": ("今日各时段收款", "Today by hour"),
    "today.last_days": ("最近 {n} 天收款", "The last {n} days"),
    "today.by_wallet": ("按钱包", "By wallet"),
    "today.by_terminal": ("按终端", "By terminal"),
    "today.none": ("今日暂无交易", "No transactions today"),
    "today.updated": ("数据时间 {at}", "As of {at}"),
    "chart.amount": ("金额", "amount"),
    "chart.count": ("笔数", "count"),
    "chart.hours_title": ("今日各小时收款金额与笔数", "Today's payments by hour: amount and count"),
    "chart.days_title": (
        "最近 30 天每日收款金额与笔数",
        "Payments per day, last 30 days: amount and count",
    ),
    "chart.point": ("{label}：{amount}，{count} 笔", "{label}: {amount}, {count} payments"),
    # filters and lists
    "filter.from": ("开始日期", "From"),
    "filter.to": ("结束日期", "To"),
    "filter.status": ("状态", "Status"),
    "filter.terminal": ("终端", "Terminal"),
    "filter.wallet": ("钱包", "Wallet"),
    "filter.amount_min": ("最低金额", "Min amount"),
    "filter.amount_max": ("最高金额", "Max amount"),
    "filter.trade_no": ("商户订单号", "Trade number"),
    "filter.sort": ("排序", "Sort by"),
    "filter.dir": ("顺序", "Order"),
    "filter.any": ("全部", "any"),
    "filter.size": ("每页", "Per page"),
    "filter.apply": ("查询", "Search"),
    "filter.clear": ("清除条件", "Clear"),
    "sort.created_at": ("时间", "time"),
    "sort.amount": ("金额", "amount"),
    "sort.desc": ("从新到旧 / 从大到小", "newest / largest first"),
    "sort.asc": ("从旧到新 / 从小到大", "oldest / smallest first"),
    "pager.label": ("翻页", "Pages"),
    "pager.prev": ("上一页", "Previous"),
    "pager.next": ("下一页", "Next"),
    "pager.first": ("第一页", "First page"),
    "export.label": ("导出筛选结果", "Export these results"),
    "export.hint": (
        "（全部符合条件的交易，不只本页）",
        "(every matching transaction, not only this page)",
    ),
    "col.created": ("时间", "Time"),
    "col.time": ("时间", "Time"),
    "col.trade_no": ("商户订单号", "Trade number"),
    "col.payment_id": ("支付单号", "Payment id"),
    "col.terminal": ("终端", "Terminal"),
    "col.wallet": ("钱包", "Wallet"),
    "col.payer": ("付款人", "Payer"),
    "col.status": ("状态", "Status"),
    "col.state": ("状态", "State"),
    "col.amount": ("金额", "Amount"),
    "col.refunded": ("已退款", "Refunded"),
    "col.count": ("笔数", "Count"),
    "col.paid": ("支付时间", "Paid"),
    "col.description": ("描述", "Description"),
    "col.order": ("订单", "Order"),
    "col.refund_no": ("退款单号", "Refund number"),
    "col.refund_id": ("退款编号", "Refund id"),
    "col.by": ("操作人", "By"),
    "col.action": ("事件", "Event"),
    "col.details": ("详情", "Details"),
    "col.expires": ("有效期至", "Expires"),
    "col.activation_code": ("激活码", "Activation code"),
    "col.business_date": ("营业日", "Business day"),
    "col.payments": ("收款", "Payments"),
    "col.refunds": ("退款", "Refunds"),
    "col.reversals": ("撤销", "Reversals"),
    "col.gross": ("应结金额", "Gross"),
    "col.fee": ("手续费", "Fee"),
    "col.net": ("净结算额", "Net"),
    "col.file": ("结算文件", "File"),
    "col.kind": ("类型", "Kind"),
    "col.merchant": ("商户", "Merchant"),
    "status.SUCCESS": ("支付成功", "paid"),
    "status.USER_PAYING": ("等待顾客确认", "awaiting the customer"),
    "status.FAILED": ("失败", "failed"),
    "status.REVERSED": ("已撤销", "reversed"),
    "status.REFUNDED": ("已全额退款", "refunded"),
    "status.PARTIALLY_REFUNDED": ("部分退款", "partly refunded"),
    "rstatus.SUCCESS": ("已退款", "refunded"),
    "rstatus.FAILED": ("未退款", "refused"),
    "rstatus.PROCESSING": ("网络处理中", "processing at the network"),
    "ostatus.CREATED": ("待支付", "waiting"),
    "ostatus.PAID": ("已支付", "paid"),
    "ostatus.EXPIRED": ("已过期", "expired"),
    "ostatus.CLOSED": ("已关闭", "closed"),
    "tstatus.pending": ("待激活", "not activated"),
    "tstatus.active": ("正常", "active"),
    "tstatus.disabled": ("已停用", "disabled"),
    # "wallet.<identifier>": from scanpay.codes.names, below the table
    "kind.payment": ("收款", "payment"),
    "kind.refund": ("退款", "refund"),
    "kind.reversal": ("撤销", "reversal"),
    "reason.bad_code": ("付款码无效", "invalid payment code"),
    "reason.code_used": ("付款码已使用", "code already used"),
    "reason.expired": ("付款码已过期", "code expired"),
    "reason.insufficient_funds": ("余额不足", "insufficient funds"),
    "reason.wallet_not_served": ("不受理该钱包", "wallet not accepted"),
    "reason.no_channel": ("未开通该钱包的收款", "this wallet is not taken here (no channel)"),
    "reason.network_timeout": (
        "顾客未在时限内付款，已在网络撤销",
        "not paid in time; reversed at the network",
    ),
    "reason.pin_timeout": ("顾客未确认", "the customer did not confirm"),
    "reason.pin_locked": ("密码错误次数过多", "too many wrong PINs"),
    "reason.reversed": ("已撤销", "reversed"),
    "reason.risk": ("风控拒绝", "declined by the risk rules"),
    "reason.velocity": ("收款过于频繁", "too many payments"),
    "reason.merchant_limit": ("超出商户限额", "over the merchant's limit"),
    "reason.wallet_limit": ("超出付款账户限额", "over the payer's limit"),
    "reason.terminal_locked": ("终端因无效码过多暂停", "terminal paused for invalid codes"),
    "action.payment.create": ("收款", "payment"),
    "action.payment.pin": ("顾客输入密码", "customer's PIN"),
    "action.payment.expire": ("超时", "timed out"),
    "action.payment.reverse": ("撤销", "reversal"),
    "action.refund.create": ("退款", "refund"),
    "action.refund.network_success": ("支付网络退款成功", "refunded by the payment network"),
    "action.refund.network_failed": ("支付网络拒绝退款", "refund refused by the payment network"),
    "action.order.create": ("创建订单", "order created"),
    "action.order.pay": ("订单支付", "order paid"),
    "action.order.close": ("关闭订单", "order closed"),
    "action.order.expire": ("订单过期", "order expired"),
    "action.payment.reverse_first": ("先于收款的撤销", "reversal before the payment"),
    "action.reconciliation.run": ("对账", "reconciliation"),
    "action.reconciliation.resolve": ("处理对账差异", "reconciliation break resolved"),
    "action.payment.after_reversal": ("撤销后到达的收款", "payment after its reversal"),
    "action.refund.auto": ("自动退款", "automatic refund"),
    "action.application.submit": ("提交入网申请", "application submitted"),
    "action.application.approve": ("批准入网申请", "application approved"),
    "action.application.reject": ("驳回入网申请", "application rejected"),
    "action.merchant.add": ("新增商户", "merchant added"),
    "action.merchant.approve": ("启用商户", "merchant approved"),
    "action.merchant.suspend": ("暂停商户", "merchant suspended"),
    "action.merchant.fee_rate": ("修改费率", "fee rate changed"),
    "action.limit.set": ("设置限额", "limit set"),
    "action.limit.unset": ("取消限额", "limit removed"),
    "action.terminal.add": ("新增终端", "terminal added"),
    "action.terminal.activate": ("激活终端", "terminal activated"),
    "action.terminal.rotate_key": ("更换终端密钥", "terminal key rotated"),
    "action.batch.close": ("终端日结", "terminal day close"),
    "action.settlement.create": ("生成结算", "settlement made"),
    "action.sticker.verify": ("核验收款码", "sticker checked"),
    "action.portal.login": ("登录商户服务平台", "portal login"),
    "action.wallet.open": ("开立钱包", "wallet opened"),
    "action.wallet.login": ("登录钱包", "wallet login"),
    "action.wallet.logout": ("退出钱包", "wallet logout"),
    "action.wallet.pin_change": ("修改支付密码", "PIN changed"),
    # who did something (audit actors: "<kind>:<id>"), shown before the id
    "actor.terminal": ("终端", "terminal"),
    "actor.operator": ("收单机构操作员", "acquirer operator"),
    "actor.portal": ("商户服务平台", "merchant portal"),
    "actor.admin": ("管理员", "administrator"),
    "actor.wallet": ("钱包", "wallet"),
    "actor.host": ("收单主机", "host"),
    # an audit record's facts on a transaction's history
    "fact.amount": ("金额", "amount"),
    "fact.refunded_total": ("累计退款", "refunded in all"),
    "fact.reason": ("原因", "reason"),
    "fact.note": ("备注", "note"),
    "fact.answer": ("应答码", "answer"),
    "fact.effect": ("资金", "money"),
    "fact.out_refund_no": ("退款单号", "refund number"),
    "effect.none": ("无资金变动", "no money moved"),
    "effect.capture": ("已入账", "captured"),
    "effect.return": ("已退回", "returned"),
    "effect.refund": ("已退款", "refunded"),
    "action.save": ("保存", "Save"),
    # transaction detail
    "txn.title": ("交易 {no}", "Transaction {no}"),
    "txn.none": ("没有符合条件的交易", "No transactions match"),
    "txn.training": ("训练", "training"),
    "txn.cashier": ("收银员", "cashier"),
    "txn.flags": ("风控标记", "Risk flags"),
    "txn.receipt": ("查看小票", "Receipt"),
    "txn.refunds": ("退款记录", "Refunds"),
    "txn.no_refunds": ("没有退款", "No refunds"),
    "txn.history": ("状态历史（审计记录）", "State history (from the audit trail)"),
    "txn.no_history": ("没有记录", "No records"),
    "refund.amount": ("退款金额（可退 {left}）", "Amount to refund ({left} left)"),
    "refund.reason": ("退款原因", "Reason"),
    "refund.submit": ("退款", "Refund"),
    "refund.confirm": (
        "确认退款？款项将退回顾客。",
        "Refund now? The money goes back to the customer.",
    ),
    "refund.owner_only": ("只有负责人可以发起退款。", "Only the owner can refund."),
    "refund.done": ("退款成功：{amount}", "Refunded: {amount}"),
    "refund.failed": ("退款未成功：{message}", "Refund refused: {message}"),
    "refund.processing": (
        "退款 {amount} 已提交支付网络，处理中；结果稍后显示在此交易中",
        "Refund of {amount} sent to the payment network and processing; its result will"
        " show on this payment",
    ),
    "refund.bad_amount": ("退款金额格式错误", "Not an amount"),
    "refund.too_much": (
        "退款金额超过可退金额（最多 {left}）",
        "The amount exceeds what is left to refund (at most {left})",
    ),
    "refund.confirm_amount": ("确认退款 {amount}？", "Refund {amount}?"),
    "refund.confirm_submit": ("确认退款 {amount}", "Yes, refund {amount}"),
    "refund.change": ("修改金额", "Change the amount"),
    "refund.title": ("退款 {no}", "Refund {no}"),
    "refund.approved_by": ("批准人", "approved by"),
    "refund.portal": ("商户服务平台", "merchant portal"),
    "refunds.hint": (
        "从交易详情页发起退款（仅负责人）。",
        "Start a refund from a transaction's page (owners only).",
    ),
    "refunds.none": ("没有退款", "No refunds"),
    "receipt.title": ("交易凭证", "Receipt"),
    "receipt.refund": ("退款", "Refund"),
    "receipt.printed": ("打印时间 {at}", "Printed {at}"),
    "receipt.back": ("返回交易", "Back to the transaction"),
    # orders
    "orders.none": ("没有订单", "No orders"),
    "order.title": ("订单 {no}", "Order {no}"),
    "order.qr": ("订单收款码", "The order's QR code"),
    # settlements
    "settlements.hint": (
        "每个营业日结束后结算：收款减退款和撤销，扣除手续费后为净结算额。",
        "Each business day is settled after it ends: payments less refunds and reversals, "
        "less the fee, is the net paid out.",
    ),
    "settlements.none": ("还没有结算记录", "No settled days yet"),
    "settlement.title": ("{day} 结算", "Settlement of {day}"),
    "settlement.download": ("下载结算文件（CSV）", "Download the settlement file (CSV)"),
    "batches.title": ("终端日结对账", "Terminal day closes"),
    "batches.hint": (
        "终端日结与主机记录的比对；不一致时列出差异。",
        "Each terminal's day close against the host's records, with any differences.",
    ),
    "batches.result": ("结果", "Result"),
    "batches.matched": ("一致", "matched"),
    "batches.unmatched": ("有差异", "differences"),
    "batches.terminal_says": ("终端", "terminal"),
    "batches.host_says": ("主机", "host"),
    "batches.differences": ("差异", "Differences"),
    "batches.none": ("没有日结记录", "No day closes"),
    # terminals
    "terminals.version": ("软件版本", "Software"),
    "terminals.last_seen": ("最近联机", "Last seen"),
    "terminals.key": ("密钥", "Key"),
    "terminals.key_since": ("启用于 {at}", "since {at}"),
    "terminals.grace": ("轮换宽限期内：{n} 个密钥可用", "rotation grace: {n} keys usable"),
    "terminals.rotation_pending": (
        "密钥轮换待完成（至 {until}）",
        "rotation waiting (until {until})",
    ),
    "terminals.selftest": ("自检", "Self-test"),
    "terminals.pending_reversals": ("待确认撤销", "Pending reversals"),
    "terminals.in_doubt": ("待确认交易", "Sales in doubt"),
    "terminals.rotate": ("轮换密钥", "Rotate key"),
    "terminals.rotate_confirm": (
        "生成新的一次性激活码以轮换密钥？",
        "Make a one-time code to rotate this terminal's key?",
    ),
    "terminals.rotation_code": (
        "终端 {terminal} 的密钥轮换码：",
        "Key rotation code for {terminal}:",
    ),
    "terminals.rotation_hint": (
        "在终端上用它重新激活（{until} 前有效，只显示这一次）",
        "activate the terminal with it again (valid until {until}; shown only now)",
    ),
    "terminals.none": ("没有终端", "No terminals"),
    "terminals.hint": (
        "待确认撤销与待确认交易来自终端最近一次自检报告。",
        "Pending reversals and sales in doubt come from each terminal's latest self-test report.",
    ),
    "check.ok": ("正常", "ok"),
    "check.warn": ("警告", "warning"),
    "check.fail": ("失败", "failed"),
    # operator
    "licence.valid": ("校验通过", "check passed"),
    "licence.invalid": ("校验未通过", "check failed"),
    "licence.region": ("行政区划", "region"),
    "review.duplicates": ("疑似重复", "Possible duplicates"),
    "review.kind": ("类型", "Kind"),
    "review.ident": ("编号", "Id"),
    "review.name": ("名称", "Name"),
    "review.matched": ("相同项", "Same"),
    "review.merchant": ("商户", "merchant"),
    "review.application": ("申请", "application"),
    "review.m_license": ("信用代码", "licence"),
    "review.m_name": ("名称", "name"),
    "review.m_email": ("邮箱", "e-mail"),
    "review.m_phone": ("电话", "phone"),
    "review.no_duplicates": ("未发现重复", "No duplicates found"),
    "review.decide": ("审核", "Decide"),
    "review.fee_rate": ("手续费率（0.0038 = 0.38 %）", "Fee rate (0.0038 = 0.38 %)"),
    "review.approve": ("通过", "Approve"),
    "review.reason": ("拒绝理由（申请人可见）", "Reason (the applicant sees it)"),
    "review.reject": ("拒绝", "Reject"),
    "review.approved": (
        "已通过：商户 {merchant}，终端 {terminals}",
        "Approved: merchant {merchant}, terminals {terminals}",
    ),
    "review.rejected": ("已拒绝", "Rejected"),
    "review.refused": ("未能处理：{message}", "Not done: {message}"),
    "merchants.none": ("没有商户", "No merchants"),
    "merchants.suspend": ("暂停", "Suspend"),
    "merchants.suspend_confirm": ("暂停该商户收款？", "Suspend this merchant's payments?"),
    "merchants.done": ("商户 {merchant}：{status}", "Merchant {merchant}: {status}"),
    "merchants.fee_done": (
        "商户 {merchant} 费率改为 {rate}",
        "Merchant {merchant}: fee rate {rate}",
    ),
    "limits.hint": (
        "最具体的一行生效（终端、钱包或商户，其次 MCC 类别，最后默认）。"
        "修改对所有主机进程的下一笔交易生效。",
        "The most specific row wins (terminal, wallet or merchant, then MCC class, then the "
        "default). A change applies to the next transaction in every host process.",
    ),
    "limits.rule": ("规则", "Rule"),
    "limits.scope": ("范围", "Scope"),
    "limits.key": ("对象", "Key"),
    "limits.value": ("限额", "Value"),
    "limits.currency": ("币种", "Currency"),
    "limits.action": ("处理", "Action"),
    "limits.window": ("时间窗（秒）", "Window (s)"),
    "limits.lock": ("锁定", "lock"),
    "limits.updated": ("修改", "Changed"),
    "limits.set": ("新增或修改限额", "Set a limit"),
    "limits.units": (
        "金额规则填金额（如 5000.00）及其币种（ISO 4217，如 CNY、JPY）：只对该币种的交易生效；"
        "商户、终端或钱包的限额可不填币种，即其本身的币种。"
        "velocity、failed_codes、duplicate 填笔数；refund_share 填百万分比（500000 = 50 %）。",
        "Amount rules take an amount (5000.00) and its currency (ISO 4217: CNY, JPY...), and "
        "apply to transactions in that currency only; a merchant's, terminal's or wallet's "
        "limit may leave it out (its own currency). velocity, failed_codes and duplicate take "
        "a count; refund_share parts per million (500000 = 50 %).",
    ),
    "limits.done": ("已保存：{rule} {scope} {key}", "Saved: {rule} {scope} {key}"),
    "outcome.decline": ("拒绝（57）", "decline (57)"),
    "outcome.review": ("标记复核", "flag for review"),
    "outcome.approve": ("关闭规则", "rule off"),
    "rule.txn_amount": ("单笔限额", "per transaction"),
    "rule.daily_amount": ("商户日累计", "merchant daily total"),
    "rule.wallet_txn_amount": ("付款账户单笔", "payer per transaction"),
    "rule.wallet_daily_amount": ("付款账户日累计", "payer daily total"),
    "rule.velocity": ("收款频率", "velocity"),
    "rule.failed_codes": ("无效码锁定", "failed-code lockout"),
    "rule.duplicate": ("重复交易", "duplicates"),
    "rule.refund_share": ("退款占比", "refund share"),
    "audit.ok": ("审计链完整：已验证 {n} 条记录", "Audit chain OK: {n} records verified"),
    "audit.broken": (
        "审计链断裂：第 {seq} 条记录，{problem}",
        "Audit chain BROKEN at record {seq}: {problem}",
    ),
    "audit.timing": ("用时 {ms} 毫秒，{at}", "took {ms} ms, at {at}"),
    "audit.recent": ("最近的记录", "Latest records"),
    # network channels (operator; issue 16)
    "nav.channels": ("支付渠道", "Channels"),
    "action.channel.add": ("新增商户渠道", "channel added"),
    "action.channel.update": ("修改商户渠道", "channel changed"),
    "action.channel.remove": ("删除商户渠道", "channel removed"),
    "action.network_account.add": ("新增网络账户", "network account added"),
    "action.network_account.update": ("修改网络账户", "network account changed"),
    "action.network_account.remove": ("删除网络账户", "network account removed"),
    "channels.of_merchant": ("商户 {merchant} 的支付渠道", "Channels of {merchant}"),
    "channels.hint": (
        "每个支付网络一个渠道：服务商模式（作为子商户挂在收单机构的网络账户下）或直连模式"
        "（商户自己的 AppID、商户号和密钥）。停用的渠道保留但不使用。",
        "One channel per payment network: service provider (a sub-merchant under one of "
        "the acquirer's network accounts) or direct (the merchant's own app id, merchant id "
        "and keys). A disabled channel is kept but not used.",
    ),
    "channels.overview_hint": (
        "所有商户的支付渠道与收单机构的网络账户。机密只显示名称和指纹（SHA-256 前 64 位）。",
        "Every merchant's channels and the acquirer's network accounts. Secrets show by "
        "name and fingerprint (the first 64 bits of their SHA-256) only.",
    ),
    "channels.open": ("查看商户渠道", "Open the merchant's channels"),
    "channels.all": ("商户渠道", "Merchants' channels"),
    "channels.ids": ("标识", "Ids"),
    "channels.none": ("该商户还没有支付渠道", "This merchant has no channel yet"),
    "channels.none_at_all": ("还没有商户渠道", "No merchant has a channel yet"),
    "channels.mode.service_provider": ("服务商模式", "service provider"),
    "channels.mode.direct": ("直连模式", "direct"),
    "channels.on": ("已启用", "enabled"),
    "channels.off": ("已停用", "disabled"),
    "channels.enable": ("启用", "Enable"),
    "channels.disable": ("停用", "Disable"),
    "channels.remove": ("删除渠道", "Remove the channel"),
    "channels.remove_confirm": (
        "删除该渠道？其密钥随之删除。",
        "Remove this channel? Its secrets go with it.",
    ),
    "channels.change": ("修改", "Change"),
    "channels.changed": ("修改时间", "Changed"),
    "channels.add": ("添加渠道", "Add the channel"),
    "channels.add_sp": ("添加服务商模式渠道", "Add a service-provider channel"),
    "channels.add_sp_hint": (
        "使用所选网络账户的 AppID、商户号和密钥；填写子商户号。",
        "Pays with the chosen network account's app id, merchant id and keys; give the "
        "sub-merchant id.",
    ),
    "channels.add_direct": ("添加直连模式渠道", "Add a direct channel"),
    "channels.add_direct_hint": (
        "商户自己的 AppID、商户号和密钥。",
        "The merchant's own app id, merchant id and keys.",
    ),
    "channels.no_accounts": ("还没有网络账户。", "There is no network account yet."),
    "channels.no_secrets": ("无", "none"),
    "channels.from_account": ("（来自网络账户 {account}）", "(the account {account}'s)"),
    "channels.secret_hint": (
        "只写不读：保存后只显示名称和指纹。",
        "Write-only: once saved, only names and fingerprints are shown.",
    ),
    "channels.secret_hint_keep": (
        "只写不读：留空即保留原值，填写即替换。",
        "Write-only: leave empty to keep, type to replace.",
    ),
    "channels.drop": ("删除机密：", "Remove secrets:"),
    "channels.refused": ("未保存（{field}）：{message}", "Not saved ({field}): {message}"),
    "channels.added": (
        "已为商户 {merchant} 添加{network}渠道",
        "{network} channel added for {merchant}",
    ),
    "channels.updated": (
        "已修改商户 {merchant} 的{network}渠道",
        "{merchant}'s {network} channel changed",
    ),
    "channels.removed": (
        "已删除商户 {merchant} 的{network}渠道",
        "{merchant}'s {network} channel removed",
    ),
    "channels.enabled_done": (
        "已启用商户 {merchant} 的{network}渠道",
        "{merchant}'s {network} channel enabled",
    ),
    "channels.disabled_done": (
        "已停用商户 {merchant} 的{network}渠道",
        "{merchant}'s {network} channel disabled",
    ),
    "channels.field.form": ("表单", "form"),
    "channels.field.merchant": ("商户", "merchant"),
    "channels.field.network": ("支付网络", "Network"),
    "channels.field.mode": ("模式", "Mode"),
    "channels.field.account": ("网络账户", "Network account"),
    "channels.field.label": ("账户名称", "Label"),
    "channels.field.app_id": ("AppID", "App id"),
    "channels.field.mch_id": ("商户号", "Merchant id (mch_id)"),
    "channels.field.sub_mch_id": ("子商户号", "Sub-merchant id"),
    "channels.field.sub_app_id": ("子商户 AppID（可选）", "Sub-merchant app id (optional)"),
    "channels.field.secret": ("机密", "Secrets"),
    "channels.field.other_name": ("其他机密：名称", "Other secret: name"),
    "channels.field.other_value": ("其他机密：值", "Other secret: value"),
    "channels.field.enabled": ("启用", "Enabled"),
    "channels.secret.api": ("v3 或 v2", "v3 or v2"),
    "channels.secret.private_key": ("API 客户端私钥（PEM）", "API client private key (PEM)"),
    "channels.secret.cert_serial": ("该私钥证书的序列号", "its certificate's serial"),
    "channels.secret.api_v3_key": ("APIv3 密钥", "APIv3 key"),
    "channels.secret.wechatpay_public_key": ("微信支付公钥（PEM）", "WeChat Pay public key (PEM)"),
    "channels.secret.wechatpay_public_key_id": ("公钥 ID", "public key id"),
    "channels.secret.platform_certificate": ("平台证书（可选）", "platform certificate (optional)"),
    "channels.secret.api_key": ("API v2 密钥", "API v2 key"),
    "channels.secret.sign_type": ("HMAC-SHA256 或 MD5", "HMAC-SHA256 or MD5"),
    "channels.secret.client_cert": ("API 客户端证书（PEM）", "API client certificate (PEM)"),
    "channels.secret.client_key": ("API 客户端证书私钥（PEM）", "API client certificate key (PEM)"),
    "accounts.title": ("网络账户（服务商）", "Network accounts (service provider)"),
    "accounts.hint": (
        "收单机构在支付网络的服务商账户。修改后其下所有渠道从下一笔交易起使用新值。",
        "The acquirer's own accounts at the networks. A change applies to every channel "
        "under the account from its next payment.",
    ),
    "accounts.none": ("还没有网络账户", "No network account yet"),
    "accounts.add": ("新增网络账户", "Add a network account"),
    "accounts.channels": ("渠道数", "Channels"),
    "accounts.remove": ("删除账户", "Remove the account"),
    "accounts.remove_confirm": ("删除该网络账户？", "Remove this network account?"),
    "accounts.added": ("已新增网络账户 {label}", "Network account {label} added"),
    "accounts.updated": ("已修改网络账户 {label}", "Network account {label} changed"),
    "accounts.removed": ("已删除网络账户 {label}", "Network account {label} removed"),
    # reconciliation (issue 17); the kinds of break are in words in KIND_TEXTS
    "nav.reconciliation": ("对账", "Reconciliation"),
    "recon.hint": (
        "每个渠道每天的网络对账单与本机构记录逐笔核对的结果。点击日期查看当日差异并处理。",
        "Each channel's statement of a day, matched one to one with the host's records. "
        "Open a day to see its breaks and resolve them.",
    ),
    "recon.field.day": ("对账日期", "Day"),
    "recon.field.network": ("支付网络", "Network"),
    "recon.field.resolution": ("处理结果", "Resolution"),
    "recon.field.break": ("对账差异", "Break"),
    "recon.field.form": ("表单", "form"),
    "recon.all_networks": ("全部支付网络", "All networks"),
    "recon.channel": ("渠道", "Channel"),
    "recon.direct": ("直连商户", "direct"),
    "recon.account": ("服务商账户", "Service-provider account"),
    "recon.ran_at": ("对账时间", "Ran at"),
    "recon.status.done": ("已对账", "reconciled"),
    "recon.status.statement_not_ready": ("对账单未就绪", "statement not ready"),
    "recon.matched": ("对上", "Matched"),
    "recon.lines": ("账单笔数", "Statement lines"),
    "recon.open": ("未处理差异", "Open breaks"),
    "recon.resolved": ("已处理差异", "Resolved breaks"),
    "recon.none": ("没有对账记录", "No reconciliation runs"),
    "recon.none_that_day": ("该日没有对账记录", "No reconciliation run on this day"),
    "recon.limited": (
        "只显示最近的记录，请按日期或支付网络筛选查看更早的记录。",
        "Only the latest runs are shown: choose a day or a network for older ones.",
    ),
    "recon.run_now": ("立即对账", "Run now"),
    "recon.run_hint": (
        "从支付网络下载该日各渠道的对账单并与本机构记录核对；重新对账会保留已处理的差异。",
        "Fetches each channel's statement of the day from the network and matches it with "
        "the host's records; running a day again keeps the breaks already resolved.",
    ),
    "recon.day_title": ("{day} 对账", "Reconciliation of {day}"),
    "recon.not_ready_hint": (
        "未能取得该日对账单；下列差异为上一次取得的对账单的结果。",
        "The statement could not be fetched; the breaks below are those of the last one.",
    ),
    "recon.kind": ("差异类型", "Kind"),
    "recon.host_amount": ("本机构金额", "Host amount"),
    "recon.network_amount": ("网络金额", "Network amount"),
    "recon.detail": ("说明", "Detail"),
    "recon.resolution": ("处理结果", "Resolution"),
    "recon.resolution_hint": ("写明如何处理", "How it was resolved"),
    "recon.resolve": ("标记为已处理", "Resolve"),
    "recon.resolved_badge": ("已处理", "resolved"),
    "recon.no_breaks": ("没有差异，每笔都已对上", "No break: every line matched"),
    "recon.refused": ("未处理（{field}）：{message}", "Not done ({field}): {message}"),
    "recon.bad_day": ("日期格式为 YYYY-MM-DD", "the day is YYYY-MM-DD"),
    "recon.no_day": ("请选择对账日期", "choose the day to reconcile"),
    "recon.ran": (
        "已对账 {day}：{runs} 个渠道，{open} 个差异未处理",
        "Reconciled {day}: {runs} channels, {open} open breaks",
    ),
    "recon.ran_none": ("{day}：没有需要对账的渠道", "{day}: no channel has a statement of its own"),
    "recon.resolved_done": ("差异 #{id}（{trade}）已处理", "Break #{id} ({trade}) resolved"),
}

# Networks and wallets by the names every screen uses (the cashier's, the receipts').
TEXTS.update({f"wallet.{key}": (name.zh_cn, name.en) for key, name in NETWORK_NAMES.items()})

#: The MCCs the application form offers (code, text key).
MCC_CHOICES: tuple[tuple[str, str], ...] = tuple(
    (key.split(".")[1], key) for key in TEXTS if key.startswith("mcc.")
)


def has_text(key: str) -> bool:
    return key in TEXTS


def translate(key: str, language: str, /, **values: object) -> str:
    """The text of ``key`` in ``language`` (zh-CN, or English for anything else).

    Raises :class:`KeyError` for an unknown key.
    """
    zh, en = TEXTS[key]
    text = zh if normalize_language(language) == "zh-CN" else en
    return text.format(**values) if values else text


def text_of(key: str, /, **values: object) -> Text:
    """The text of ``key`` in both languages (for errors that carry a :class:`Text`)."""
    zh, en = TEXTS[key]
    return Text(zh, en).format(**values) if values else Text(zh, en)


def reason_text(reason: str) -> Text | None:
    """The words for a payment's stored ``reason``: the portal's own for the host's
    reasons (``insufficient_funds``: ``reason.<reason>``), the network's for a decline a
    network answered (``wechat_pay:NOTENOUGH``: :func:`~scanpay.networks.decline_message`);
    None for a reason neither knows (the caller shows it as it is stored).

    >>> reason_text("wechat_pay:NOTENOUGH").en
    'Insufficient balance; ask for another card or way to pay'
    >>> reason_text("wechat_pay:NO_SUCH_CODE") is None, reason_text("nonsense") is None
    (True, True)
    """
    if has_text(f"reason.{reason}"):
        return text_of(f"reason.{reason}")
    network, colon, code = reason.partition(":")
    if not (colon and network and code):
        return None
    return decline_message(network, code)
