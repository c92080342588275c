"""Payment networks behind one port: WeChat Pay first, then Alipay and UnionPay.

- :mod:`scanpay.networks.port`: the :class:`Network` interface every issuer's
  adapter implements, and what crosses it (channels, requests, answers);
- :mod:`scanpay.networks.leg`: the network leg of one payment, a pure state
  machine the adapter drives (pay, query, reverse by the network's rules);
- :mod:`scanpay.networks.results`: network codes to the host's result codes.

These modules are pure: no I/O, no clock. The adapters that do the talking sit
beside them, imported only when a network is used:
:mod:`scanpay.networks.registry` makes one by name (``wechat_pay``:
:mod:`scanpay.networks.wechat`, API v3 through ``wechatpayv3`` and API v2).
"""

from scanpay.networks.errors import NETWORK_ERRORS, NetworkError
from scanpay.networks.leg import (
    FINAL_STATUSES,
    IN_DOUBT_STATUSES,
    Action,
    Call,
    CallPay,
    CallQuery,
    CallReverse,
    Event,
    Leg,
    LegRules,
    LegStatus,
    NoAnswer,
    PayAnswered,
    QueryAnswered,
    Record,
    Recovered,
    ReverseAnswered,
    ReverseRequested,
    Sent,
    Step,
    Tick,
    deadline_at,
    due,
    exhausted,
    reverse_not_before,
    step,
)
from scanpay.networks.port import (
    Channel,
    ChannelMode,
    Network,
    Outcome,
    PayAnswer,
    PayRequest,
    QueryAnswer,
    RefundAnswer,
    RefundRequest,
    RefundStatus,
    ReverseAnswer,
    ReverseOutcome,
    Statement,
    StatementKind,
    StatementLine,
    TradeState,
)
from scanpay.networks.results import (
    WECHAT_PAY_CODES,
    WECHAT_TRADE_STATES,
    CodeRule,
    decline_message,
    wechat_pay_answer,
    wechat_trade_state,
)

__all__ = [
    "FINAL_STATUSES",
    "IN_DOUBT_STATUSES",
    "NETWORK_ERRORS",
    "WECHAT_PAY_CODES",
    "WECHAT_TRADE_STATES",
    "Action",
    "Call",
    "CallPay",
    "CallQuery",
    "CallReverse",
    "Channel",
    "ChannelMode",
    "CodeRule",
    "Event",
    "Leg",
    "LegRules",
    "LegStatus",
    "Network",
    "NetworkError",
    "NoAnswer",
    "Outcome",
    "PayAnswer",
    "PayAnswered",
    "PayRequest",
    "QueryAnswer",
    "QueryAnswered",
    "Record",
    "Recovered",
    "RefundAnswer",
    "RefundRequest",
    "RefundStatus",
    "ReverseAnswer",
    "ReverseAnswered",
    "ReverseOutcome",
    "ReverseRequested",
    "Sent",
    "Statement",
    "StatementKind",
    "StatementLine",
    "Step",
    "Tick",
    "TradeState",
    "deadline_at",
    "decline_message",
    "due",
    "exhausted",
    "reverse_not_before",
    "step",
    "wechat_pay_answer",
    "wechat_trade_state",
]
