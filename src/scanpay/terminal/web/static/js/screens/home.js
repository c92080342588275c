// A new sale: the amount on a keypad, an optional note, then scan or show a QR.

import { get, post } from "../api.js";
import { Screen } from "../app.js";
import { h } from "../dom.js";
import { pick, t } from "../i18n.js";
import { keypad, typeAmount } from "../keypad.js";
import { button, exponent, notice } from "../ui.js";

export class HomeScreen extends Screen {
  async enter() {
    this.amount = "";
    this.note = "";
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
    amount.addEventListener("input", () => {
      let text = "";
      for (const ch of amount.value) text = typeAmount(text, ch, e);
      amount.value = text;
      this.amount = text;
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
          h("label", { class: "field" }, h("span", {}, t("note")), note),
          h("div", { class: "actions" },
            button(t("charge"), () => this.charge(), { kind: "primary", big: true, id: "charge" }),
            button(t("show_qr"), () => this.showQr(), { big: true, id: "show-qr" }))),
        pad),
    );
    amount.focus();
  }

  body() {
    if (!this.amount || !/[1-9]/.test(this.amount)) {
      this.app.toast(t("enter_amount"), "error");
      return null;
    }
    const body = { amount_text: this.amount };
    if (this.note.trim()) body.note = this.note.trim();
    return body;
  }

  async charge() {
    const body = this.body();
    if (!body) return;
    try {
      const sale = await post("/api/sales", body);
      this.app.go(`#/sale/${encodeURIComponent(sale.out_trade_no)}`);
    } catch (error) {
      this.app.showError(error);
    }
  }

  async showQr() {
    const body = this.body();
    if (!body) return;
    try {
      const order = await post("/api/orders", body);
      this.app.go(`#/order/${encodeURIComponent(order.out_trade_no)}`);
    } catch (error) {
      this.app.showError(error);
    }
  }
}
