// Refunding a paid sale, all or part of it, approved by a supervisor.

import { get, post } from "../api.js";
import { Screen } from "../app.js";
import { h, when } from "../dom.js";
import { pick, t } from "../i18n.js";
import { typeAmount } from "../keypad.js";
import { button, exponent, facts, formatMinor, money, notice, supervisorApproval } from "../ui.js";

export class RefundScreen extends Screen {
  constructor(app, no) {
    super(app);
    this.no = no;
    this.done = null;
    this.error = null;
    this.amount = "";
    this.reason = "";
  }

  get path() {
    return `/api/sales/${encodeURIComponent(this.no)}`;
  }

  async enter() {
    if (!this.app.operators.length) this.app.operators = await get("/api/operators", { signal: this.signal });
    await this.load();
  }

  async load() {
    const [sale, refunds] = await Promise.all([
      get(this.path, { signal: this.signal }),
      get(`/api/refunds?out_trade_no=${encodeURIComponent(this.no)}`, { signal: this.signal }),
    ]);
    this.sale = sale;
    this.refunds = refunds;
  }

  draw() {
    const sale = this.sale;
    const e = exponent(sale.currency);
    const amount = h("input", { id: "refund-amount", class: "text", inputmode: "decimal", autocomplete: "off",
      value: this.amount, placeholder: formatMinor(sale.refundable, sale.currency) });
    amount.addEventListener("input", () => {
      let text = "";
      for (const ch of amount.value) text = typeAmount(text, ch, e);
      amount.value = text;
      this.amount = text;
    });
    const reason = h("input", { id: "refund-reason", class: "text", maxlength: "128", value: this.reason });
    reason.addEventListener("input", () => { this.reason = reason.value; });
    this.approval = supervisorApproval(this.app, this.approval);
    const history = this.refunds.map((r) =>
      h("li", { dataset: { refund: r.out_refund_no, state: r.state } },
        h("span", { class: ["badge", r.state] }, t(`refund_state_${r.state}`)), " ",
        `${r.currency} ${r.amount_text} · ${when(r.finished_at || r.created_at)} · ${r.approved_by}`,
        r.result?.message ? ` · ${pick(r.result.message)}` : ""));
    const done = this.done;
    const back = () => this.app.go(`#/sale/${encodeURIComponent(this.no)}`);
    const summary = [
      h("div", { class: "sale-head" }, money(sale.amount_text, sale.currency, { id: "sale-amount" }),
        h("span", { class: "muted mono" }, sale.out_trade_no)),
      facts([
        [t("state"), pick(sale.state_label), "sale-state"],
        [t("refundable"), `${sale.currency} ${formatMinor(sale.refundable, sale.currency)}`, "refundable"],
        [t("code"), sale.code?.masked],
      ]),
      history.length ? [h("h3", {}, t("refunds")), h("ul", { id: "refund-list" }, history)] : null,
    ];
    this.render(
      h("section", { class: "stack", dataset: { screen: "refund" } },
        done
          ? notice(done.state === "SUCCESS" ? t("refund_ok", { amount: `${done.currency} ${done.amount_text}` })
            : [t(`refund_state_${done.state}`), done.result?.message ? `: ${pick(done.result.message)}` : ""],
          done.state === "SUCCESS" ? "success" : done.state === "FAILED" ? "error" : "warn", { id: "refund-result" })
          : null,
        this.error ? notice(this.error, "error", { id: "refund-error" }) : null,
        sale.refundable > 0
          ? h("form", { class: "refund-grid", id: "refund-form",
            on: { submit: (event) => { event.preventDefault(); this.submit(); } } },
            h("div", { class: "card stack" },
              h("h1", {}, t("refund_title")),
              summary,
              h("div", { class: "row" },
                h("label", { class: "field grow" }, h("span", {}, t("refund_amount")), amount),
                h("label", { class: "field grow" }, h("span", {}, t("reason")), reason)),
              h("div", { class: "actions" },
                button(t("back"), back, { id: "back" }),
                button(t("do_refund"), null, { kind: "primary", id: "do-refund", type: "submit" }))),
            h("div", { class: "card compact-pad" }, this.approval.element))
          : h("div", { class: "card stack" },
            h("h1", {}, t("refund_title")),
            summary,
            h("div", { class: "actions" },
              button(t("back"), back, { id: "back" }),
              button(pick(this.app.texts.actions.new_sale), () => this.app.go("#/"),
                { kind: "primary", id: "new-sale" })))),
    );
  }

  async submit() {
    const body = {};
    if (this.amount) body.amount_text = this.amount;
    if (this.reason.trim()) body.reason = this.reason.trim();
    const supervisor = this.approval.value();
    if (supervisor) body.supervisor = supervisor;
    const buttonEl = document.getElementById("do-refund");
    if (buttonEl) buttonEl.disabled = true;
    this.approval.clear(); // a PIN is typed for one approval only
    try {
      const answer = await post(`${this.path}/refunds`, body);
      if (!this.active) return;
      this.done = answer.refund;
      this.error = null;
      this.amount = "";
      this.reason = "";
      await this.load();
    } catch (error) {
      if (!this.active) return;
      this.error = this.app.errorText(error);
    }
    if (this.active) this.draw();
  }
}
