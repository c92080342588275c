// The app shell: who is logged in, the top bar, banners, routing between
// screens, toasts, the receipt viewer, and the scanner gun listener.

import { ApiError, api, get, whenLoggedOut } from "./api.js";
import { h, mount, setTimeZone } from "./dom.js";
import { lang, pick, setLang, t } from "./i18n.js";
import { errorText, notice } from "./ui.js";
import { attachWedge } from "./wedge.js";

export class App {
  constructor(routes) {
    this.routes = routes; // [[RegExp, ScreenClass, needsLogin]]
    this.main = document.getElementById("main");
    this.bar = document.getElementById("bar");
    this.modal = document.getElementById("modal");
    this.operator = null;
    this.operators = [];
    this.terminal = null;
    this.texts = null;
    this.screen = null;
    whenLoggedOut(() => {
      if (this.operator) this.toast(t("session_over"), "error", { keep: true });
      this.operator = null;
      this.go("#/login");
    });
    attachWedge(document, {
      isActive: () => Boolean(this.screen?.wantsScans?.()),
      onScan: (text) => this.screen?.scanned?.(text, "scanner"),
    });
  }

  async start() {
    const [terminal, texts] = await Promise.all([get("/api/terminal"), get("/api/texts")]);
    this.terminal = terminal;
    this.texts = texts;
    setTimeZone(terminal.config?.timezone); // times in the merchant's business zone
    try {
      this.operator = (await get("/api/session")).operator;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      this.operator = null;
    }
    window.addEventListener("hashchange", () => this.route());
    await this.route();
  }

  go(hash) {
    if (location.hash === hash) this.route();
    else location.hash = hash;
  }

  async route() {
    const hash = location.hash || "#/";
    if (this.screen) {
      this.screen.leave();
      this.dropToasts(this.screen);
    }
    this.screen = null;
    document.body.classList.remove("fullscreen");
    for (const [pattern, Screen, needsLogin] of this.routes) {
      const match = hash.match(pattern);
      if (!match) continue;
      if (needsLogin && !this.operator) {
        this.go("#/login");
        return;
      }
      this.refreshTerminal();
      const screen = new Screen(this, ...match.slice(1).map(decodeURIComponent));
      this.screen = screen;
      this.drawBar();
      mount(this.main, h("p", { class: "loading" }, t("loading")));
      try {
        await screen.enter();
      } catch (error) {
        if (error?.name === "AbortError") return;
        if (this.screen === screen) {
          mount(this.main, notice(error instanceof ApiError ? this.errorText(error)
            : String(error?.message || error), "error", { id: "screen-error" }));
        }
        return;
      }
      if (this.screen === screen) screen.draw();
      return;
    }
    this.go(this.operator ? "#/" : "#/login");
  }

  /** Terminal state for the banners (training, blocked); refreshed on every screen. */
  async refreshTerminal() {
    try {
      this.terminal = await get("/api/terminal");
    } catch {
      return;
    }
    this.drawBanners();
  }

  drawBanners() {
    const training = document.getElementById("training-banner");
    training.hidden = !this.terminal?.training;
    training.textContent = t("training_banner");
    const blocked = document.getElementById("blocked-banner");
    const reason = this.terminal?.sales_blocked ? pick(this.terminal.block_reason) : "";
    blocked.hidden = !reason;
    blocked.textContent = reason ? t("sales_blocked", { reason }) : "";
  }

  drawBar() {
    const config = this.terminal?.config || {};
    const current = location.hash || "#/";
    const link = (hash, key) =>
      h("a", { class: "nav", href: hash, "aria-current": current === hash ? "page" : null,
        dataset: { nav: key } }, t(key));
    mount(
      this.bar,
      h("div", { class: "brand" }, config.merchant_name || t("app_title"),
        h("small", {}, `${t("app_title")} · ${config.terminal_id || ""}`)),
      this.operator
        ? h("nav", { "aria-label": "main" },
          link("#/", "nav_sale"), link("#/sales", "nav_sales"),
          link("#/day", "nav_day"), link("#/terminal", "nav_terminal"))
        : null,
      h("button", { type: "button", id: "lang-switch", lang: lang() === "en" ? "zh-CN" : "en",
        on: { click: () => this.switchLang() } }, t("switch_lang")),
      this.operator
        ? h("span", { class: "who", id: "who" }, `${this.operator.name} · `,
          t(`role_${this.operator.role}`))
        : null,
      this.operator
        ? h("button", { type: "button", id: "logout", on: { click: () => this.logout() } }, t("logout"))
        : null,
    );
    document.title = `${config.merchant_name ? config.merchant_name + " · " : ""}${t("app_title")}`;
  }

  switchLang() {
    setLang(lang() === "en" ? "zh-CN" : "en");
    this.drawBar();
    this.drawBanners();
    if (this.screen?.ready) this.screen.draw();
  }

  async logout() {
    try {
      await api("DELETE", "/api/session");
    } catch {
      /* gone already */
    }
    this.operator = null;
    this.go("#/login");
  }

  /** A short message over the screen. It belongs to the screen that raised it and
   * goes when that screen does (an error about the amount is not about the next
   * screen); `keep` for a message about the move itself ("log in again"). */
  toast(text, tone = "info", { keep = false } = {}) {
    const box = document.getElementById("toasts");
    const item = h("div", { class: ["toast", tone], role: tone === "error" ? "alert" : "status" }, text);
    item.owner = keep ? null : this.screen;
    box.appendChild(item);
    setTimeout(() => item.remove(), tone === "error" ? 7000 : 4000);
  }

  dropToasts(screen) {
    for (const item of document.querySelectorAll("#toasts .toast")) {
      if (item.owner === screen) item.remove();
    }
  }

  /** An error of the agent as a toast, in the screen's language. */
  showError(error) {
    if (error?.name === "AbortError") return;
    const text = error instanceof ApiError ? this.errorText(error) : String(error?.message || error);
    this.toast(text, "error");
  }

  errorText(error) {
    return errorText(error, this.texts);
  }

  /** Show a page of the agent (a receipt, a Z-report) in a dialog. */
  showPage(title, url) {
    const frame = h("iframe", { src: url, title, id: "page-frame" });
    mount(this.modal,
      h("div", { class: "modal-body stack" },
        h("h2", {}, title), frame,
        h("div", { class: "actions" },
          h("button", { type: "button", class: "btn", id: "print-page",
            on: { click: () => frame.contentWindow?.print() } }, t("print")),
          h("button", { type: "button", class: "btn primary", id: "close-modal",
            on: { click: () => this.modal.close() } }, t("close")))));
    this.modal.showModal();
  }
}

/** A screen: `enter()` loads what it needs, `draw()` renders it (again after a
 * language switch), `leave()` stops its timers, polls and camera. */
export class Screen {
  constructor(app) {
    this.app = app;
    this.ready = false;
    this.controller = new AbortController();
    this.timers = [];
  }

  get signal() {
    return this.controller.signal;
  }

  get active() {
    return this.app.screen === this && !this.signal.aborted;
  }

  async enter() {}

  draw() {}

  leave() {
    this.controller.abort();
    for (const id of this.timers) clearInterval(id);
    this.timers = [];
  }

  every(ms, fn) {
    const id = setInterval(fn, ms);
    this.timers.push(id);
    return id;
  }

  render(...children) {
    this.ready = true;
    mount(this.app.main, ...children);
  }
}
