// Recent sales with their state; a tap opens one (reprint, refund).

import { get } from "../api.js";
import { Screen } from "../app.js";
import { h, when, zoneNote } from "../dom.js";
import { pick, t } from "../i18n.js";
import { button, notice } from "../ui.js";

export class SalesScreen extends Screen {
  async enter() {
    this.sales = await get("/api/sales?limit=100", { signal: this.signal });
  }

  draw() {
    const rows = this.sales.map((sale) => {
      // A show-to-pay sale (the customer scanned the till's QR) opens on its order screen.
      const order = sale.kind === "order";
      const open = () => this.app.go(`#/${order ? "order" : "sale"}/${encodeURIComponent(sale.out_trade_no)}`);
      return h("tr", { dataset: { no: sale.out_trade_no, state: sale.state, kind: sale.kind || "sale" }, tabindex: "0",
        on: { click: open, keydown: (e) => { if (e.key === "Enter") open(); } } },
        h("td", {}, when(sale.created_at)),
        h("td", { class: "num" }, `${sale.currency} ${sale.amount_text}`),
        h("td", {}, h("span", { class: ["badge", sale.state] }, pick(sale.state_label)),
          order ? [" ", h("span", { class: "badge shown-qr" }, pick(sale.show_to_pay) || t("shown_qr"))] : null,
          sale.training ? [" ", h("span", { class: "badge training" }, t("training"))] : null),
        order ? h("td", { class: "wallet" }, pick(sale.wallet_name))
          : h("td", { class: "code" }, sale.code
            ? [pick(sale.wallet_name ?? sale.code.scheme_name), " ", h("span", { class: "mono" }, sale.code.number ?? sale.code.masked)]
            : ""),
        h("td", { class: "mono muted trade-no" }, sale.out_trade_no),
        h("td", {}, sale.operator_id));
    });
    this.render(
      h("section", { class: "stack", dataset: { screen: "sales" } },
        h("div", { class: "row" }, h("h1", { class: "grow" }, t("recent_sales")),
          button(t("refresh"), () => this.app.route(), { id: "refresh" })),
        rows.length
          ? h("table", { class: "list", id: "sales-table" },
            h("thead", {}, h("tr", {},
              // The zone once in the heading, when the browser's clock runs in another.
              h("th", {}, zoneNote() ? `${t("time")} (${zoneNote()})` : t("time")),
              h("th", { class: "num" }, t("amount")), h("th", {}, t("state")),
              h("th", {}, t("code")), h("th", {}, t("trade_no")), h("th", {}, t("operator")))),
            h("tbody", {}, rows))
          : notice(t("no_sales"))),
    );
  }
}
