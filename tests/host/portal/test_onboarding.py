"""Applying for acquiring, over HTTP: the public form, the applicant's status page, the
operator's review (licence check, duplicates), approval (merchant, terminals, one-time
codes shown to the owner, a terminal activates and takes a signed payment) and
rejection (the applicant sees why). Every step is in the audit trail."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from host.kit import RunningHost, SignedClient, Wallet, activate, remember
from host.portal.portal_kit import PASSWORD, PortalClient, add_user, logged_in
from scanpay.host.db.models import Application, Merchant, PortalUser, Terminal
from scanpay.host.services import audit, merchants, wallets


def _licence(body: str = "91440300MA5D8F2Q5") -> str:
    from scanpay.host.domain.uscc import check_character

    return body + check_character(body)


def _form(email: str, **changes: str) -> dict[str, str]:
    form = {
        "company_name": "深圳好物科技有限公司",
        "shop_name": "Good Things",
        "license": _licence(),
        "legal_representative": "王五",
        "phone": "+86 755 8888 0000",
        "email": email,
        "city": "Shenzhen",
        "address": "Nanshan Road 8",
        "mcc": "5999",
        "monthly_volume": "300000",
        "terminal_count": "2",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    form.update(changes)
    return form


def _apply(host: RunningHost, **changes: str) -> tuple[PortalClient, str]:
    email = f"apply-{uuid.uuid4().hex[:10]}@biz.example"
    visitor = PortalClient(host.url)
    done = visitor.post("/portal/apply", _form(email, **changes), token_from="/portal/apply")
    assert done.status_code == 303 and done.headers["location"] == "/portal/application"
    return visitor, email


def _reference(page: str) -> str:
    found = re.search(r'id="reference"><code>(AP-[A-Z0-9-]+)</code>', page)
    assert found is not None, page[:2000]
    return found.group(1)


def test_the_form_checks_what_is_typed(host: RunningHost) -> None:
    visitor = PortalClient(host.url)
    page = visitor.get("/portal/apply")
    assert (
        page.status_code == 200
        and "data-uscc" in page.text
        and "/portal/static/uscc.js" in page.text
    )
    bad = visitor.post(
        "/portal/apply",
        _form("x@biz.example", license="91350100M000100Y42", password_again="something else"),
        token_from="/portal/apply",
    )
    assert bad.status_code == 400
    assert 'id="error-license"' in bad.text and "GB 32100" in bad.text
    assert 'id="error-password"' in bad.text and "the two passwords differ" in bad.text
    assert 'value="深圳好物科技有限公司"' in bad.text  # what was typed is kept
    with host.ctx.db.read() as session:
        assert (
            session.scalar(select(Application).where(Application.email == "x@biz.example")) is None
        )


def test_apply_approve_activate_and_pay(host: RunningHost) -> None:
    applicant, email = _apply(host)
    status = applicant.get("/portal/application")
    reference = _reference(status.text)
    assert "submitted" in status.text and "with us for review" in status.text
    # the applicant's login works later too, and sees only its application
    again = logged_in(host, email)
    assert again.get("/portal/").headers["location"] == "/portal/application"
    assert again.get("/portal/today").status_code == 404
    # a second application with the same licence shows as a duplicate
    _other, _ = _apply(host, company_name="Another Name Ltd")
    operator = logged_in(host, add_user(host, "operator"))
    listing = operator.get("/portal/operator/applications").text
    assert reference in listing
    review = operator.get(f"/portal/operator/applications/{reference}").text
    assert "check passed" in review and "region 440300" in review
    assert 'id="duplicates"' in review and "Another Name Ltd" in review and "licence" in review
    approved = operator.post(
        f"/portal/operator/applications/{reference}/approve",
        {"fee_rate": "0.006"},
        token_from=f"/portal/operator/applications/{reference}",
    )
    assert approved.status_code == 200 and "Approved: merchant M" in approved.text
    merchant_id = re.search(r"Approved: merchant (M\d+)", approved.text).group(1)  # type: ignore[union-attr]
    twice = operator.post(
        f"/portal/operator/applications/{reference}/approve",
        {"fee_rate": "0.006"},
        token_from=f"/portal/operator/applications/{reference}",
    )
    assert twice.status_code == 409 and "already approved" in twice.text
    with host.ctx.db.read() as session:
        merchant = session.get(Merchant, int(merchant_id[1:]))
        assert merchant is not None
        assert (merchant.status, merchant.name, merchant.fee_rate_ppm) == (
            "approved",
            "Good Things",
            6000,
        )
        terminals_ = session.scalars(
            select(Terminal).where(Terminal.merchant_id == merchant.id)
        ).all()
        assert [t.status for t in terminals_] == ["pending", "pending"]
        user = session.scalar(select(PortalUser).where(PortalUser.email == email))
        assert user is not None and user.merchant_id == merchant.id
    # the owner's login (the same session as before) now shows the codes
    page = applicant.get("/portal/application").text
    assert f"merchant id is {merchant_id}" in page
    codes = re.findall(
        r'<tr data-terminal="(T\d+)">\s*<td>T\d+</td>\s*<td><code class="code">([A-Z0-9-]+)</code>',
        page,
    )
    assert len(codes) == 2, page
    today = applicant.get("/portal/today").text
    assert codes[0][1] in today  # a banner on the first page too
    # a terminal activates with one over real HTTP, and takes a real signed payment
    terminal_id, code = codes[0]
    answer = activate(host.url, remember(code))
    assert answer.status_code == 200, answer.text
    key = remember(answer.json()["key"])
    assert (
        answer.json()["terminal_id"] == terminal_id and answer.json()["merchant_id"] == merchant_id
    )
    client = SignedClient(host.url, terminal_id, key, host.clock)
    opened = wallets.open_account(
        host.ctx, name="Zhao", currency="CNY", balance=10_000, pin="123456"
    )
    remember(opened.secret_hex)
    wallet = Wallet(opened.info.account, opened.secret_hex)
    host.clock.advance(host.ctx.settings.code_format.step_seconds)
    digits = remember(wallets.issue_code(host.ctx, wallet.account).digits)
    paid = client.pay("NEW-0001", 2500, digits)
    assert paid.status_code == 200 and paid.json()["status"] == "SUCCESS", paid.text
    after = applicant.get("/portal/application").text
    assert "activated" in after and code not in after  # a used code is never shown again
    listing = applicant.get("/portal/transactions").text
    assert "NEW-0001" in listing and "25.00" in listing
    trail = [e.action for e in audit.history(host.ctx, subject=("application", reference))]
    assert trail == ["application.approve", "application.submit"]
    merchant_trail = {e.action for e in audit.history(host.ctx, merchant=merchant_id, limit=50)}
    assert {
        "merchant.add",
        "merchant.approve",
        "terminal.add",
        "terminal.activate",
    } <= merchant_trail
    approve = audit.history(host.ctx, subject=("application", reference))[0]
    assert approve.actor == f"operator:{operator.email}"
    assert approve.data["terminals"] == [t for t, _ in codes]
    for c in (applicant, again, operator, _other):
        c.close()


def test_reject_with_a_reason_the_applicant_sees(host: RunningHost) -> None:
    applicant, _ = _apply(host, company_name="Shady Trading Co")
    reference = _reference(applicant.get("/portal/application").text)
    operator = logged_in(host, add_user(host, "operator"))
    path = f"/portal/operator/applications/{reference}"
    short = operator.post(path + "/reject", {"reason": "no"}, token_from=path)
    assert short.status_code == 409 and "3-256 characters" in short.text
    done = operator.post(
        path + "/reject", {"reason": "Licence address does not match"}, token_from=path
    )
    assert done.status_code == 200 and "Rejected" in done.text
    page = applicant.get("/portal/application").text
    assert "rejected" in page and "Licence address does not match" in page
    late = operator.post(path + "/approve", {"fee_rate": "0.0038"}, token_from=path)
    assert late.status_code == 409
    with host.ctx.db.read() as session:
        row = session.scalar(select(Application).where(Application.reference == reference))
        assert row is not None and (row.status, row.merchant_id) == ("rejected", None)
    entry = audit.history(host.ctx, subject=("application", reference))[0]
    assert (
        entry.action == "application.reject"
        and entry.data["reason"] == "Licence address does not match"
    )
    applicant.close()
    operator.close()


def test_operator_approves_a_merchant_in_review_and_it_transacts(host: RunningHost) -> None:
    from scanpay.host.services import merchants, terminals

    info = merchants.add_merchant(
        host.ctx, name="Review Shop", city="Xiamen", mcc="5411", license="91350100M000100Y43"
    )
    issued = terminals.add_terminal(host.ctx, info.merchant_id)
    refused = activate(host.url, remember(issued.activation_code))
    assert refused.status_code == 403  # not approved yet: the terminal cannot activate
    operator = logged_in(host, add_user(host, "operator"))
    page = operator.get("/portal/operator/merchants?status=in_review").text
    assert info.merchant_id in page and "check passed" in page
    done = operator.post(
        f"/portal/operator/merchants/{info.merchant_id}/status",
        {"action": "approve"},
        token_from="/portal/operator/merchants",
    )
    assert done.status_code == 200 and f"Merchant {info.merchant_id}: approved" in done.text
    fee = operator.post(
        f"/portal/operator/merchants/{info.merchant_id}/fee",
        {"fee_rate": "0.0055"},
        token_from="/portal/operator/merchants",
    )
    assert "fee rate 0.0055" in fee.text
    answer = activate(host.url, issued.activation_code)
    assert answer.status_code == 200
    client = SignedClient(
        host.url, answer.json()["terminal_id"], remember(answer.json()["key"]), host.clock
    )
    opened = wallets.open_account(
        host.ctx, name="Qian", currency="CNY", balance=5_000, pin="123456"
    )
    remember(opened.secret_hex)
    host.clock.advance(host.ctx.settings.code_format.step_seconds)
    paid = client.pay(
        "RV-1", 1234, remember(wallets.issue_code(host.ctx, opened.info.account).digits)
    )
    assert paid.json()["status"] == "SUCCESS"
    suspended = operator.post(
        f"/portal/operator/merchants/{info.merchant_id}/status",
        {"action": "suspend"},
        token_from="/portal/operator/merchants",
    )
    assert "suspended" in suspended.text
    host.clock.advance(host.ctx.settings.code_format.step_seconds)
    refused_pay = client.pay(
        "RV-2", 100, remember(wallets.issue_code(host.ctx, opened.info.account).digits)
    )
    assert refused_pay.status_code == 403 and refused_pay.json()["code"] == "58"
    trail = [
        (e.action, e.actor) for e in audit.history(host.ctx, subject=("merchant", info.merchant_id))
    ]
    assert ("merchant.approve", f"operator:{operator.email}") in trail
    assert ("merchant.suspend", f"operator:{operator.email}") in trail
    operator.close()


def test_operator_sets_limits_and_verifies_the_audit_chain(host: RunningHost) -> None:
    operator = logged_in(host, add_user(host, "operator"))
    page = operator.get("/portal/operator/limits").text
    assert "txn_amount" in page and "50000.00" in page
    key = f"M9{uuid.uuid4().int % 10**5:05d}"
    done = operator.post(
        "/portal/operator/limits",
        {
            "rule": "txn_amount",
            "scope": "merchant",
            "key": key,
            "value": "2000.00",
            "currency": "CNY",  # no such merchant yet: its currency cannot be looked up
            "action": "decline",
        },
        token_from="/portal/operator/limits",
    )
    assert done.status_code == 200 and f"Saved: txn_amount merchant {key}" in done.text
    assert key in done.text and "2000.00 CNY" in done.text
    # An amount is typed in its own currency: yen have no decimals.
    yen = {"rule": "txn_amount", "scope": "merchant", "key": key, "currency": "JPY"}
    made = operator.post(
        "/portal/operator/limits", {**yen, "value": "1500"}, token_from="/portal/operator/limits"
    )
    assert made.status_code == 200 and "1500 JPY" in made.text
    cents = operator.post(
        "/portal/operator/limits", {**yen, "value": "15.5"}, token_from="/portal/operator/limits"
    )
    assert cents.status_code == 400
    bad = operator.post(
        "/portal/operator/limits",
        {"rule": "txn_amount", "value": "lots"},
        token_from="/portal/operator/limits",
    )
    assert bad.status_code == 400
    chain = operator.get("/portal/operator/audit").text
    assert "Audit chain OK" in chain and "limit set" in chain and "limit.set" not in chain
    operator.close()


def test_possible_duplicates_say_their_state_in_words(host: RunningHost) -> None:
    """A duplicate's state reads ``审核中`` / ``in review``, never ``in_review`` or
    ``submitted``: a merchant's state and an application's state are different words."""
    licence = _licence("91440300" + uuid.uuid4().hex[:9].upper())
    merchants.add_merchant(
        host.ctx, name="Dup Shop Ltd", city="Shenzhen", mcc="5999", license=licence
    )  # in review
    applicant, _ = _apply(host, license=licence)
    reference = _reference(applicant.get("/portal/application").text)
    _apply(host, license=licence, company_name="Second Dup Ltd")
    operator = logged_in(host, add_user(host, "operator"))
    shown = {}
    for lang in ("en", "zh-CN"):
        page = operator.get(
            f"/portal/operator/applications/{reference}", headers={"Accept-Language": lang}
        ).text
        start = page.index('id="duplicates"')
        shown[lang] = page[start : page.index("</table>", start)]
        assert "Dup Shop Ltd" in shown[lang] and "Second Dup Ltd" in shown[lang]
        assert "in_review" not in shown[lang], lang
    operator.close()
    assert "<td>in review</td>" in shown["en"] and "<td>submitted</td>" in shown["en"]
    assert "<td>审核中</td>" in shown["zh-CN"] and "<td>待审核</td>" in shown["zh-CN"]
    assert "submitted" not in shown["zh-CN"]
