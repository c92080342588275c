// Logging in: choose who you are, then your PIN.

import { get, post } from "../api.js";
import { Screen } from "../app.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { button, notice, pinEntry } from "../ui.js";

export class LoginScreen extends Screen {
  async enter() {
    this.app.operators = await get("/api/operators", { signal: this.signal });
    this.chosen = null;
    this.error = null;
  }

  draw() {
    if (!this.chosen) {
      const list = this.app.operators.map((op) =>
        h("button", { type: "button", class: "btn operator", dataset: { operator: op.operator_id },
          on: { click: () => { this.chosen = op; this.error = null; this.draw(); } } },
          op.name, h("small", {}, `${op.operator_id} · ${t(`role_${op.role}`)}`)),
      );
      this.render(
        h("section", { class: "stack", dataset: { screen: "login" } },
          h("h1", {}, t("who")),
          list.length ? h("div", { class: "operators" }, list) : notice(t("no_operators"), "warn")),
      );
      return;
    }
    const pin = pinEntry({ id: "pin", onEnter: () => this.submit(pin.input) });
    this.render(
      h("section", { class: "pin-box stack", dataset: { screen: "pin" } },
        h("h1", {}, t("enter_pin", { name: this.chosen.name })),
        this.error ? notice(this.error, "error", { id: "login-error" }) : null,
        pin.element,
        h("div", { class: "actions" },
          button(t("back"), () => { this.chosen = null; this.error = null; this.draw(); }, { id: "login-back" }),
          button(t("login"), () => this.submit(pin.input), { kind: "primary", id: "login-submit" }))),
    );
    pin.input.focus();
  }

  async submit(input) {
    try {
      const answer = await post("/api/session", { operator_id: this.chosen.operator_id, pin: input.value });
      this.app.operator = answer.operator;
      this.app.go("#/");
    } catch (error) {
      if (!this.active) return;
      this.error = this.app.errorText(error);
      this.draw();
    }
  }
}
