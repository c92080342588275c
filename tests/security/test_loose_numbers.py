"""Numbers in a request are JSON integers, and a body names each field once (issue 13).

Before: ``"amount": true`` charged 0.01, ``"1_000"``, ``" 100"`` and ``"+100"`` were read
as numbers, ``99.99999999999999999`` (a float a JSON parser rounds to 100.0) charged
1.00, and ``{"amount":1,"amount":100000}`` was taken with the last value winning. Each
is now ``400`` / ``30`` naming the field, on SQLite and PostgreSQL, and nothing is
stored or charged: the trade number stays unused.
"""

from __future__ import annotations

import json

from host.kit import World

LOOSE = [
    "true",
    "false",
    '"100"',
    '"1_000"',
    '" 100"',
    '"+100"',
    "100.0",
    "99.99999999999999999",
    "1e2",
    "null",
    "[100]",
]


def _body(amount: str, **fields: str) -> bytes:
    members = {"out_trade_no": '"LN-1"', "amount": amount, "currency": '"CNY"', **fields}
    return ("{" + ",".join(f'"{k}":{v}' for k, v in members.items()) + "}").encode()


def test_an_amount_that_is_not_a_json_integer_is_refused(world: World) -> None:
    before = world.balance()
    code = world.code()
    for amount in LOOSE:
        for path, extra in (
            ("/v1/payments", {"auth_code": json.dumps(code)}),
            ("/v1/orders", {}),
        ):
            answer = world.terminal.request("POST", path, body=_body(amount, **extra))
            assert answer.status_code == 400, (path, amount, answer.text)
            assert (answer.json()["code"], answer.json()["field"]) == ("30", "amount")
    assert world.terminal.get("LN-1").status_code == 404
    assert world.terminal.get_order("LN-1").status_code == 404
    assert world.balance() == before
    # The same code still pays: the refusals consumed nothing.
    assert world.terminal.pay("LN-1", 100, code).json()["status"] == "SUCCESS"


def test_a_refund_amount_and_other_numbers_are_json_integers_too(world: World) -> None:
    world.pay("LN-R", 500)
    refund = b'{"out_refund_no":"LN-R1","out_trade_no":"LN-R","amount":true}'
    answer = world.terminal.request("POST", "/v1/refunds", body=refund)
    assert (answer.status_code, answer.json()["field"]) == (400, "amount")
    order = b'{"out_trade_no":"LN-O","amount":100,"currency":"CNY","expires_in":"300"}'
    answer = world.terminal.request("POST", "/v1/orders", body=order)
    assert (answer.status_code, answer.json()["field"]) == (400, "expires_in")
    training = _body("100", auth_code=json.dumps(world.code()), training="1")
    answer = world.terminal.request("POST", "/v1/payments", body=training)
    assert (answer.status_code, answer.json()["field"]) == (400, "training")
    assert world.balance() == 50_000 - 500


def test_a_body_that_names_a_field_twice_is_refused(world: World) -> None:
    before = world.balance()
    code = json.dumps(world.code())
    twice = (
        '{"out_trade_no":"LN-D","amount":1,"currency":"CNY","auth_code":' + code + ',"amount":9999}'
    ).encode()
    answer = world.terminal.request("POST", "/v1/payments", body=twice)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert (body["code"], body["field"]) == ("30", "amount")
    assert "more than once" in body["message"]["en"] and body["message"]["zh-CN"]
    nested = b'{"date":"2026-01-01","count":0,"total":0,"refund_count":0,"refund_total":0,'
    nested += b'"items":[{"out_trade_no":"X","status":"s","amount":1,"amount":2}]}'
    answer = world.terminal.request("POST", "/v1/batches/close", body=nested)
    assert (answer.status_code, answer.json()["field"]) == (400, "amount")
    assert world.terminal.get("LN-D").status_code == 404
    assert world.balance() == before
