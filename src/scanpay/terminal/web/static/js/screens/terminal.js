// The terminal: who it is, its self-test, training mode.

import { api, get } from "../api.js";
import { Screen } from "../app.js";
import { h, when } from "../dom.js";
import { lang, pick, t } from "../i18n.js";
import { button, facts, notice, supervisorApproval } from "../ui.js";

export class TerminalScreen extends Screen {
  async enter() {
    if (!this.app.operators.length) this.app.operators = await get("/api/operators", { signal: this.signal });
    this.report = await get("/api/selftest", { signal: this.signal });
    this.terminal = await get("/api/terminal", { signal: this.signal });
    this.error = null;
  }

  draw() {
    const c = this.terminal.config;
    const report = this.report;
    this.approval = supervisorApproval(this.app, this.approval);
    const training = this.terminal.training;
    this.render(
      h("section", { class: "stack", dataset: { screen: "terminal" } },
        h("h1", {}, t("terminal_title")),
        this.error ? notice(this.error, "error", { id: "terminal-error" }) : null,
        h("div", { class: "two-col" },
          h("div", { class: "stack" },
            h("div", { class: "card" },
              facts([
                [t("terminal_id"), c.terminal_id, "terminal-id"],
                [t("merchant"), `${c.merchant_name} (${c.merchant_id})`],
                [t("host"), c.host_url],
                [t("version"), this.terminal.software_version],
                [t("training_mode"), training ? t("on") : t("off"), "training-state"],
              ]),
              this.terminal.in_doubt ? notice(t("in_doubt", { n: this.terminal.in_doubt }), "warn") : null),
            h("div", { class: "card stack", id: "selftest" },
              h("div", { class: "row" },
                h("h2", { class: "grow" }, `${t("selftest")}: `,
                  h("span", { class: ["badge", report.status], id: "selftest-status" }, t(`status_${report.status}`))),
                button(t("run_selftest"), () => this.refresh(), { id: "run-selftest" }),
                h("a", { class: "btn", href: `/status?lang=${encodeURIComponent(lang())}`, target: "_blank",
                  rel: "noopener" }, t("status_page"))),
              h("p", { class: "muted" }, when(report.at)),
              report.block_reason ? notice(pick(report.block_reason), "error") : null,
              h("ul", { class: "checks" }, report.checks.map((check) =>
                h("li", { dataset: { check: check.name, status: check.status } },
                  h("span", { class: ["badge", check.status] }, t(`status_${check.status}`)),
                  h("span", { class: "name" }, pick(check.label) || check.name),
                  h("span", {}, pick(check.message))))))),
          h("div", { class: "card compact-pad stack" },
            h("h2", {}, t("training_mode")),
            this.approval.element,
            button(training ? t("training_off") : t("training_on"), () => this.setTraining(!training),
              { kind: training ? "" : "primary", id: "training-toggle" })))),
    );
  }

  async refresh() {
    try {
      this.report = await get("/api/selftest?refresh=1", { signal: this.signal });
    } catch (error) {
      this.app.showError(error);
    }
    if (this.active) this.draw();
  }

  async setTraining(enabled) {
    const body = { enabled };
    const supervisor = this.approval.value();
    if (supervisor) body.supervisor = supervisor;
    this.approval.clear();
    try {
      await api("PUT", "/api/training", body);
      this.terminal = await get("/api/terminal");
      this.error = null;
      await this.app.refreshTerminal();
    } catch (error) {
      this.error = this.app.errorText(error);
    }
    if (this.active) this.draw();
  }
}
