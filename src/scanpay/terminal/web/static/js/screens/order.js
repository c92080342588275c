// Show-to-pay: the host's order QR, full screen, with the amount and the
// merchant, until it is paid, expires or is cancelled. A QR the screen stops
// showing (back, another screen, its time up) is closed on the host: nobody can
// pay an order that no screen shows.

import { get, post } from "../api.js";
import { Screen } from "../app.js";
import { h, when } from "../dom.js";
import { pick, t } from "../i18n.js";
import { button, facts, money, notice, secondsLeft, toneIcon } from "../ui.js";

const TONES = { PAID: "success", EXPIRED: "warning", CLOSED: "info", FAILED: "error" };
const PAYABLE = new Set(["CREATING", "SHOWN"]);

export class OrderScreen extends Screen {
  constructor(app, no) {
    super(app);
    this.no = no;
  }

  get path() {
    return `/api/orders/${encodeURIComponent(this.no)}`;
  }

  async enter() {
    this.order = await get(this.path, { signal: this.signal });
    this.follow();
  }

  leave() {
    super.leave();
    if (!this.closing && PAYABLE.has(this.order?.state)) {
      // Walked away from a QR that can still be paid: close it (not tied to this
      // screen's signal, which has just been aborted).
      this.closing = true;
      post(`${this.path}/cancel`).catch(() => {});
    }
  }

  async follow() {
    while (this.active && !TONES[this.order.state]) {
      try {
        const next = await get(`${this.path}?wait=25&version=${this.order.version}`, { signal: this.signal });
        if (!this.active) return;
        if (next.version !== this.order.version) {
          this.order = next;
          this.draw();
        }
      } catch (error) {
        if (error?.name === "AbortError" || !this.active) return;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  draw() {
    for (const id of this.timers) clearInterval(id);
    this.timers = [];
    const order = this.order;
    const merchant = this.app.terminal?.config?.merchant_name || "";
    const open = order.state === "SHOWN" || order.state === "CREATING" || order.state === "CLOSING";
    document.body.classList.toggle("fullscreen", open);
    if (open) {
      const countdown = h("div", { class: "countdown", id: "countdown" });
      if (order.expires_at) {
        const tick = () => {
          const left = secondsLeft(order.expires_at);
          countdown.textContent = t("seconds_left", { n: left });
          // Time up: close it now rather than leave it to the host's expiry.
          if (left <= 0 && !this.closing && PAYABLE.has(this.order.state)) this.cancel(true);
        };
        tick();
        this.every(500, tick);
      }
      this.render(
        h("section", { class: "order", dataset: { screen: "order", state: order.state } },
          h("div", { class: "qr" }, order.qr_svg_url
            ? h("img", { src: order.qr_svg_url, alt: "QR", id: "order-qr" })
            : h("div", { class: "spinner" })),
          h("div", { class: "stack" },
            h("div", { class: "merchant", id: "order-merchant" }, merchant),
            money(order.amount_text, order.currency, { id: "order-amount" }),
            order.note ? h("div", { class: "muted", id: "order-note" }, order.note) : null,
            h("h2", { id: "order-message" }, t(`order_${order.state}`)),
            countdown,
            h("div", { class: "actions" },
              button(t("cancel_order"), () => this.cancel(), { kind: "danger", big: true, id: "cancel-order" })))),
      );
      return;
    }
    const tone = TONES[order.state] || "info";
    this.render(
      h("section", { class: "stack", dataset: { screen: "order-result", state: order.state } },
        h("div", { class: ["result", `tone-${tone}`], id: "result" },
          toneIcon(tone),
          h("div", { class: "title", id: "result-title" },
            t(order.state === "CLOSED" && this.timedOut ? "order_EXPIRED" : `order_${order.state}`)),
          order.payer ? h("div", { class: "message", id: "order-payer" }, t("paid_by", { payer: order.payer })) : null,
          order.code && order.state === "FAILED" ? h("div", { class: "rc" }, t("result_code", { code: order.code })) : null),
        h("div", { class: "card" },
          money(order.amount_text, order.currency, { id: "order-amount" }),
          facts([[t("merchant"), merchant], [t("wallet"), pick(order.wallet_name), "order-wallet"],
            [t("trade_no"), order.out_trade_no],
            [t("time"), when(order.paid_at || order.expires_at)]])),
        order.state === "PAID" ? null : notice(t("order_not_paid"), "info"),
        h("div", { class: "actions" },
          button(pick(this.app.texts.actions.new_sale), () => this.app.go("#/"),
            { kind: "primary", big: true, id: "new-sale" }))),
    );
  }

  async cancel(timedOut = false) {
    if (this.closing) return;
    this.closing = true;
    this.timedOut = timedOut;
    try {
      this.order = await post(`${this.path}/cancel`);
      if (this.active) this.draw();
    } catch (error) {
      this.closing = false;
      this.app.showError(error);
    }
  }
}
