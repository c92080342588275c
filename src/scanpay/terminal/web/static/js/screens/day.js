// The day's totals, the day close (supervisor) and its Z-report.

import { get, post } from "../api.js";
import { Screen } from "../app.js";
import { h, when } from "../dom.js";
import { lang, pick, t } from "../i18n.js";
import { button, formatMinor, notice, supervisorApproval } from "../ui.js";

export class DayScreen extends Screen {
  async enter() {
    if (!this.app.operators.length) this.app.operators = await get("/api/operators", { signal: this.signal });
    await this.load();
    this.result = null;
    this.error = null;
  }

  async load() {
    const [totals, closes] = await Promise.all([
      get("/api/day/totals", { signal: this.signal }),
      get("/api/day/closes", { signal: this.signal }),
    ]);
    this.totals = totals;
    this.closes = closes;
  }

  draw() {
    const d = this.totals;
    const cur = d.currency;
    const m = (minor) => `${cur} ${formatMinor(minor, cur)}`;
    const tile = (label, value, id) => h("div", { class: "tile", id }, h("span", { class: "muted" }, label), h("b", {}, value));
    this.approval = supervisorApproval(this.app, this.approval);
    const r = this.result;
    this.render(
      h("section", { class: "stack", dataset: { screen: "day" } },
        h("h1", {}, `${t("day_title")} · ${d.date}`),
        this.error ? notice(this.error, "error", { id: "day-error" }) : null,
        d.host_checked === false ? notice(t("day_not_checked"), "warn", { id: "day-unchecked" }) : null,
        h("div", { class: "two-col" },
          h("div", { class: "stack" },
            r ? this.drawResult(r) : null,
            h("div", { class: "tiles", id: "totals" },
              tile(t("payments"), `${d.count} · ${m(d.total)}`, "tile-payments"),
              tile(t("refunds_total"), `${d.refund_count} · ${m(d.refund_total)}`, "tile-refunds"),
              tile(t("net"), m(d.net), "tile-net"),
              tile(t("declined"), String(d.declined), "tile-declined"),
              tile(t("cancelled"), String(d.cancelled), "tile-cancelled"),
              tile(t("reversed"), String(d.reversed), "tile-reversed"),
              tile(t("training_sales"), `${d.training_count} · ${m(d.training_total)}`, "tile-training")),
            d.by_wallet.length
              ? h("table", { class: "list" },
                h("thead", {}, h("tr", {}, h("th", {}, t("by_wallet")), h("th", { class: "num" }, t("count")),
                  h("th", { class: "num" }, t("total")))),
                h("tbody", {}, d.by_wallet.map((w) => h("tr", { dataset: { wallet: w.wallet } },
                  h("td", {}, pick(w.label) || t("other_wallet")),
                  h("td", { class: "num" }, String(w.count)), h("td", { class: "num" }, m(w.total))))))
              : null,
            this.closes.length
              ? [h("h2", {}, t("past_closes")),
                h("ul", { id: "closes" }, this.closes.slice(-10).reverse().map((c) =>
                  h("li", {}, `${c.date || c.day || ""} · ${when(c.at || c.closed_at)} `,
                    button(t("zreport"), () => this.showZ(c.date || c.day), { kind: "", action: "zreport" }))))]
              : null),
          h("form", { class: "card compact-pad stack", id: "close-form",
            on: { submit: (event) => { event.preventDefault(); this.close(); } } },
            this.approval.element,
            button(t("close_day"), null, { kind: "primary", big: true, id: "close-day", type: "submit" })))),
    );
  }

  drawResult(r) {
    const diffs = r.differences || [];
    return h("div", { class: "card stack", id: "close-result" },
      h("h2", {}, t("day_closed")),
      notice(r.host_error ? t("host_error", { reason: pick(r.host_error_message) || t("host_unreachable") })
        : r.matched ? t("matched") : t("not_matched"),
      r.host_error ? "warn" : r.matched ? "success" : "error", { id: "close-verdict" }),
      diffs.length
        ? h("ul", { id: "differences" }, diffs.map((x) => h("li", {}, pick(x.message) || t("difference_unknown"))))
        : null,
      h("div", { class: "actions" },
        button(t("zreport"), () => this.showZ(r.totals.date), { kind: "primary", id: "show-zreport" })));
  }

  showZ(day) {
    this.app.showPage(t("zreport"), `/api/day/${encodeURIComponent(day)}/zreport?lang=${encodeURIComponent(lang())}`);
  }

  async close() {
    const body = {};
    const supervisor = this.approval.value();
    if (supervisor) body.supervisor = supervisor;
    this.approval.clear();
    try {
      this.result = await post("/api/day/close", body);
      this.error = null;
      await this.load();
    } catch (error) {
      this.error = this.app.errorText(error);
    }
    if (this.active) this.draw();
  }
}
