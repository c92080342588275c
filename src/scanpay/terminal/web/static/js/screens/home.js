// A new sale: the amount on a keypad, an optional note, then scan or show a QR.

import { get, post } from "../api.js";
import { Screen } from "../app.js";
import { h } from "../dom.js";
import { lang, pick, t } from "../i18n.js";
import { keypad, typeAmount } from "../keypad.js";
import { button, exponent, notice } from "../ui.js";

export class HomeScreen extends Screen {
  async enter() {
    this.amount = "";
    this.note = "";
    // One key per visit of this screen: a press sent twice (a double click, a retry)
    // is one sale or order at the agent. getRandomValues works over plain HTTP too.
    this.requestKey = [...crypto.getRandomValues(new Uint8Array(12))]
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    this.current = await get("/api/sales/current", { signal: this.signal });
  }

  get currency() {
    return this.app.terminal?.config?.currency || "CNY";
  }

  draw() {
    const e = exponent(this.currency);
    const amount = h("input", {
      id: "amount", inputmode: "decimal", autocomplete: "off", value: this.amount,
      placeholder: e ? `0.${"0".repeat(e)}` : "0", "aria-label": t("amount"),
    });
    // Typed text stays as typed: the agent reads it (in this screen's language) or says
    // why it cannot, next to the field. Only the on-screen keypad builds the text itself.
    const amountError = this.amountError
      ? notice(this.app.errorText(this.amountError), "error", { id: "amount-error" }) : null;
    if (amountError) {
      amount.setAttribute("aria-invalid", "true");
      amount.setAttribute("aria-describedby", "amount-error");
    }
    const clearError = () => {
      if (!this.amountError) return;
      this.amountError = null;
      amountError?.remove();
      amount.removeAttribute("aria-invalid");
    };
    amount.addEventListener("input", () => {
      this.amount = amount.value;
      clearError();
    });
    amount.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        this.charge();
      }
    });
    const note = h("input", { id: "note", class: "text", maxlength: "128", autocomplete: "off", value: this.note });
    note.addEventListener("input", () => { this.note = note.value; });
    const pad = keypad((key) => {
      this.amount = typeAmount(this.amount, key, e);
      amount.value = this.amount;
      clearError();
    }, { label: t("amount") });
    const current = this.current;
    this.render(
      h("section", { class: "sale-entry", dataset: { screen: "home" } },
        h("div", { class: "stack" },
          h("h1", {}, t("nav_sale")),
          current && current.in_doubt
            ? notice([pick(current.screen.title), " · ", current.out_trade_no, " ",
              h("a", { href: `#/sale/${encodeURIComponent(current.out_trade_no)}` }, t("open"))], "warn",
            { id: "current-sale" })
            : null,
          h("label", { class: "field" }, h("span", {}, t("amount")),
            h("div", { class: "amount-box" }, h("span", { class: "currency" }, this.currency), amount)),
          amountError,
          h("label", { class: "field" }, h("span", {}, t("note")), note),
          h("div", { class: "actions" },
            button(t("charge"), () => this.charge(), { kind: "primary", big: true, id: "charge" }),
            button(t("show_qr"), () => this.showQr(), { big: true, id: "show-qr" }))),
        pad),
    );
    amount.focus();
  }

  body() {
    if (!this.amount.trim()) {
      this.app.toast(t("enter_amount"), "error");
      return null;
    }
    const body = { amount_text: this.amount, locale: lang(), request_key: this.requestKey };
    if (this.note.trim()) body.note = this.note.trim();
    return body;
  }

  /** An amount the agent refused is said next to the field; anything else as a toast. */
  refused(error) {
    if (error?.field === "amount" && this.active) {
      this.amountError = error; // its text is picked at each draw: a language switch follows
      this.draw();
    } else {
      this.app.showError(error);
    }
  }

  charge() {
    return this.start("/api/sales", "#/sale/");
  }

  showQr() {
    return this.start("/api/orders", "#/order/");
  }

  /** One press, one sale or order: "Scan to charge" and "Show QR to pay" stay disabled
   * from the press until the agent answers (and, once it has, until the next screen). */
  async start(path, screen) {
    if (this.busy) return;
    const body = this.body();
    if (!body) return;
    this.setBusy(true);
    try {
      const started = await post(path, body);
      this.app.go(`${screen}${encodeURIComponent(started.out_trade_no)}`);
    } catch (error) {
      this.setBusy(false);
      this.refused(error);
    }
  }

  setBusy(busy) {
    this.busy = busy;
    for (const id of ["charge", "show-qr"]) {
      const element = document.getElementById(id);
      if (element) element.disabled = busy;
    }
  }
}
