// Refunding a paid sale, all or part of it, approved by a supervisor.
// The amount goes to the agent as typed (it reads it, or says why not, next to the
// field); "Refund all" is its own button; both end in a confirm step that shows the
// amount and currency the agent read, and only that amount is then refunded.

import { get, post } from "../api.js";
import { Screen } from "../app.js";
import { h, when } from "../dom.js";
import { lang, pick, t } from "../i18n.js";
import { button, facts, formatMinor, money, notice, supervisorApproval } from "../ui.js";

export class RefundScreen extends Screen {
  constructor(app, no) {
    super(app);
    this.no = no;
    this.done = null;
    this.error = null;
    this.amountError = null;
    this.confirming = null; // the agent's reading of the amount, while asking "Refund CNY 1.00?"
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
    // The sale first, asked of the host (refunds made in the portal), then its refunds.
    this.sale = await get(`${this.path}?refresh=true`, { signal: this.signal });
    this.refunds = await get(`/api/refunds?out_trade_no=${encodeURIComponent(this.no)}`, { signal: this.signal });
  }

  draw() {
    const sale = this.sale;
    const confirming = this.confirming;
    // The message is made at each draw, so a language switch follows it.
    const amountError = this.amountError
      ? notice(this.amountError(), "error", { id: "refund-amount-error" }) : null;
    // What is typed stays as typed: the agent reads it or says why it cannot.
    const amount = h("input", { id: "refund-amount", class: "text", inputmode: "decimal", autocomplete: "off",
      value: this.amount, readonly: Boolean(confirming),
      "aria-invalid": this.amountError ? "true" : null,
      "aria-describedby": this.amountError ? "refund-amount-error" : null });
    amount.addEventListener("input", () => {
      this.amount = amount.value;
      if (this.amountError) {
        this.amountError = null;
        amountError?.remove();
        amount.removeAttribute("aria-invalid");
      }
    });
    const reason = h("input", { id: "refund-reason", class: "text", maxlength: "128", value: this.reason });
    reason.addEventListener("input", () => { this.reason = reason.value; });
    this.approval = supervisorApproval(this.app, this.approval);
    const history = this.refunds.map((r) =>
      h("li", { dataset: { refund: r.out_refund_no, state: r.state } },
        h("span", { class: ["badge", r.state] }, t(`refund_state_${r.state}`)), " ",
        `${r.currency} ${r.amount_text} · ${when(r.finished_at || r.created_at)} · ${r.outside ? t("refund_elsewhere") : r.approved_by}`,
        r.result?.message ? ` · ${pick(r.result.message)}` : ""));
    const done = this.done;
    const back = () => this.app.go(`#/sale/${encodeURIComponent(this.no)}`);
    const actions = confirming
      ? h("div", { class: "notice warn stack", id: "refund-confirm", role: "status" },
        h("strong", { id: "refund-confirm-text" },
          t("refund_confirm_q", { amount: `${confirming.currency} ${confirming.amount_text}` })),
        h("div", { class: "actions" },
          button(t("refund_change"), () => { this.confirming = null; this.draw(); }, { id: "refund-confirm-no" }),
          button(t("refund_confirm_yes"), () => this.submit(), { kind: "primary", id: "refund-confirm-yes" })))
      : h("div", { class: "actions" },
        button(t("back"), back, { id: "back" }),
        button(t("refund_all", { amount: `${sale.currency} ${formatMinor(sale.refundable, sale.currency)}` }),
          () => this.check(true), { id: "refund-all" }),
        button(t("do_refund"), null, { kind: "primary", id: "do-refund", type: "submit" }));
    const summary = [
      h("div", { class: "sale-head" }, money(sale.amount_text, sale.currency, { id: "sale-amount" }),
        h("span", { class: "muted mono" }, sale.out_trade_no)),
      sale.host_checked === false ? notice(t("host_not_checked"), "warn", { id: "host-unchecked" }) : null,
      facts([
        [t("state"), pick(sale.state_label), "sale-state"],
        [t("refundable"), `${sale.currency} ${formatMinor(sale.refundable, sale.currency)}`, "refundable"],
        [t("code"), sale.code?.number ?? sale.code?.masked],
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
            on: { submit: (event) => { event.preventDefault(); if (!this.confirming) this.check(false); } } },
            h("div", { class: "card stack" },
              h("h1", {}, t("refund_title")),
              summary,
              h("div", { class: "row" },
                h("label", { class: "field grow" }, h("span", {}, t("refund_amount")), amount),
                h("label", { class: "field grow" }, h("span", {}, t("reason")), reason)),
              amountError,
              actions),
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

  /** Ask the agent what the refund would be ("Refund all": everything left), then confirm. */
  async check(all) {
    const body = {};
    if (!all) {
      if (!this.amount.trim()) {
        // Empty is not "everything": that is the "Refund all" button.
        this.amountError = () => t("refund_enter_amount");
        this.draw();
        return;
      }
      body.amount_text = this.amount;
      body.locale = lang();
    }
    try {
      const checked = await post(`${this.path}/refunds/check`, body);
      if (!this.active) return;
      this.confirming = checked;
      this.amountError = null;
      this.error = null;
    } catch (error) {
      if (!this.active) return;
      this.refused(error);
    }
    if (this.active) this.draw();
  }

  /** An error about the amount goes next to its field; any other above the form. */
  refused(error) {
    this.confirming = null;
    if (error?.field === "amount") {
      this.amountError = () => this.app.errorText(error);
      this.error = null;
    } else {
      this.error = this.app.errorText(error);
      this.amountError = null;
    }
  }

  /** The confirmed refund: exactly the amount shown in the confirm step. */
  async submit() {
    if (!this.confirming) return;
    const body = { amount: this.confirming.amount };
    if (this.reason.trim()) body.reason = this.reason.trim();
    const supervisor = this.approval.value();
    if (supervisor) body.supervisor = supervisor;
    const buttonEl = document.getElementById("refund-confirm-yes");
    if (buttonEl) buttonEl.disabled = true;
    this.approval.clear(); // a PIN is typed for one approval only
    try {
      const answer = await post(`${this.path}/refunds`, body);
      if (!this.active) return;
      this.done = answer.refund;
      this.error = null;
      this.amountError = null;
      this.confirming = null;
      this.amount = "";
      this.reason = "";
      await this.load();
    } catch (error) {
      if (!this.active) return;
      this.refused(error);
    }
    if (this.active) this.draw();
  }
}
