// The cashier screen's entry point: the routes and the start.

import { App } from "./app.js";
import { h, mount } from "./dom.js";
import { initLang } from "./i18n.js";
import { DayScreen } from "./screens/day.js";
import { HomeScreen } from "./screens/home.js";
import { LoginScreen } from "./screens/login.js";
import { OrderScreen } from "./screens/order.js";
import { RefundScreen } from "./screens/refund.js";
import { SaleScreen } from "./screens/sale.js";
import { SalesScreen } from "./screens/sales.js";
import { TerminalScreen } from "./screens/terminal.js";

const NO = "([^/]+)";

const routes = [
  [/^#\/login$/, LoginScreen, false],
  [/^#\/?$/, HomeScreen, true],
  [new RegExp(`^#/sale/${NO}$`), SaleScreen, true],
  [new RegExp(`^#/order/${NO}$`), OrderScreen, true],
  [new RegExp(`^#/refund/${NO}$`), RefundScreen, true],
  [/^#\/sales$/, SalesScreen, true],
  [/^#\/day$/, DayScreen, true],
  [/^#\/terminal$/, TerminalScreen, true],
];

async function boot() {
  let language = null;
  try {
    const response = await fetch("/api/terminal", { credentials: "same-origin" });
    language = (await response.json()).config?.language ?? null;
  } catch {
    language = null;
  }
  initLang(language);
  const app = new App(routes);
  window.scanpayApp = app; // for the browser tests and for debugging
  try {
    await app.start();
  } catch (error) {
    mount(document.getElementById("main"),
      h("div", { class: "notice error", role: "alert" }, String(error?.message || error)));
  }
}

boot();
