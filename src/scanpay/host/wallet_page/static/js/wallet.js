// The customer's wallet page: log in, show the one-time payment code, confirm a
// payment waiting for the PIN, scan or paste a merchant's QR and pay it, history.
// Every value goes into the page as text (never as HTML).

const WORDS = {
  title: ["scanpay 钱包", "scanpay wallet"],
  switch_lang: ["English", "中文"],
  account: ["钱包账号", "Wallet account"],
  pin: ["支付密码（6 位数字）", "PIN (6 digits)"],
  login: ["登录", "Log in"],
  logout: ["退出", "Log out"],
  balance: ["余额", "Balance"],
  tab_pay: ["付款码", "Pay code"],
  tab_scan: ["扫一扫", "Scan to pay"],
  tab_history: ["账单", "History"],
  show_code: ["向收银员出示付款码", "Show this code to the cashier"],
  refresh_in: ["{n} 秒后自动刷新", "Refreshes in {n} s"],
  new_code: ["刷新付款码", "New code"],
  copy: ["复制数字", "Copy the digits"],
  copied: ["已复制", "Copied"],
  code_note: ["付款码仅可使用一次，每分钟更新", "Each code pays once and changes every minute"],
  pending_title: ["有一笔付款等待您确认", "A payment is waiting for your PIN"],
  confirm_pay: ["确认付款", "Confirm payment"],
  merchant: ["商户", "Merchant"],
  amount: ["金额", "Amount"],
  note: ["备注", "Note"],
  time_left: ["剩余 {n} 秒", "{n} s left"],
  scan_hint: ["对准商户收款码，自动识别", "Aim at the merchant's QR; it reads by itself"],
  camera_start: ["打开摄像头", "Start camera"],
  camera_none: ["没有可用的摄像头", "No camera available"],
  from_image: ["从图片识别", "Read from an image"],
  paste: ["或粘贴收款码内容", "Or paste the QR code's text"],
  check: ["查看", "Check"],
  not_merchant: ["没有读到商户收款码", "No merchant QR code found"],
  pay_to: ["付款给", "Pay to"],
  pin_needed: ["该金额需要支付密码", "This amount needs your PIN"],
  pay: ["付款", "Pay"],
  back: ["返回", "Back"],
  not_payable: ["该订单不能支付：{status}", "This order cannot be paid: {status}"],
  order_PAID: ["已经支付过了", "it is already paid"],
  order_EXPIRED: ["已过期，请商户重新出示收款码", "it has expired; ask the shop for a new code"],
  order_CLOSED: ["商户已关闭该订单", "the shop closed it"],
  order_CREATED: ["该商户暂时不能收款", "the shop cannot take payments now"],
  paid: ["已付款 {amount}，收款方 {merchant}", "Paid {amount} to {merchant}"],
  no_history: ["还没有账单", "No payments yet"],
  refunded: ["已退回 +{amount}", "+{amount} refunded to you"],
  session_over: ["登录已过期，请重新登录", "Your session ended; please log in again"],
  network: ["无法连接服务器", "The server cannot be reached"],
  expires: ["有效期至", "Valid until"],
  // What went wrong, for the person holding the phone (never the host's developer words).
  account_empty: ["请输入钱包账号", "Enter your wallet account"],
  account_digits: ["钱包账号只含数字（最多 16 位）", "The wallet account is digits only (up to 16)"],
  pin_empty: ["请输入 6 位支付密码", "Enter your 6-digit PIN"],
  pin_digits: ["支付密码是 6 位数字", "The PIN is 6 digits"],
  page_error: ["页面出了点问题，请刷新后重试", "Something went wrong on this page; reload it and try again"],
  server_error: ["服务器暂时出了问题，请稍后再试", "The server has a problem; try again in a moment"],
  code_expired: ["付款码已过期，请点“刷新付款码”", "This code has expired; tap “New code”"],
  image_too_large: ["图片太大（最大 4 MB）", "The picture is too large (4 MB at most)"],
  not_an_image: ["无法读取这张图片", "This picture cannot be read"],
  // A payment's outcome in the history, and on a card that waited for the PIN.
  out_waiting: ["等待您确认", "Waiting for your PIN"],
  out_paid: ["已付款", "Paid"],
  out_partly_refunded: ["已付款，部分退回", "Paid, partly refunded"],
  out_refunded: ["已全额退回", "Refunded in full"],
  out_timed_out: ["已超时，未扣款", "Timed out, not charged"],
  out_declined: ["未成功，未扣款", "Declined, not charged"],
  out_cancelled: ["已取消，未扣款", "Cancelled, not charged"],
  out_cancelled_returned: ["已取消，款项已退回", "Cancelled, money returned"],
  pending_timed_out_title: ["付款已超时", "The payment timed out"],
  pending_timed_out: ["您没有在时限内确认，这笔付款未完成，未扣款", "You did not confirm in time: the payment was not made and nothing was taken"],
  pending_cancelled_title: ["付款已取消", "The payment was cancelled"],
  pending_cancelled: ["收银员取消了这笔付款，未扣款", "The cashier cancelled this payment; nothing was taken"],
  dismiss: ["知道了", "OK"],
};

const LANG_KEY = "scanpay.wallet.lang";
let lang = "en";

function initLang() {
  let saved = null;
  try {
    saved = localStorage.getItem(LANG_KEY);
  } catch {
    saved = null;
  }
  const browser = (navigator.language || "").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
  setLang(saved === "zh-CN" || saved === "en" ? saved : browser, false);
}

function setLang(value, remember = true) {
  lang = value === "zh-CN" ? "zh-CN" : "en";
  document.documentElement.lang = lang;
  if (remember) {
    try {
      localStorage.setItem(LANG_KEY, lang);
    } catch {
      /* the choice lasts for this page */
    }
  }
}

function t(key, values = {}) {
  const pair = WORDS[key];
  let text = pair ? pair[lang === "zh-CN" ? 0 : 1] : key;
  for (const [name, value] of Object.entries(values)) text = text.split(`{${name}}`).join(value);
  return text;
}

function pick(texts) {
  if (!texts) return "";
  return texts[lang] ?? texts.en ?? "";
}

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "on") for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    else if (key === "class") el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "value") el.value = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  const add = (items) => {
    for (const child of items) {
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) add(child);
      else if (child instanceof Node) el.appendChild(child);
      else el.appendChild(document.createTextNode(String(child)));
    }
  };
  add(children);
  return el;
}

// The host's business timezone (from /wallet/v1/me): times are shown as the shop's
// receipts and portal show them, with the zone added when the phone's clock runs in
// another one (a time could be misread then).
let zone = null;

function offsetName(d, timeZone) {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "shortOffset" })
      .formatToParts(d).find((part) => part.type === "timeZoneName")?.value || "";
  } catch {
    return "";
  }
}

function when(iso) {
  if (!iso) return "";
  const d = typeof iso === "number" ? new Date(iso * 1000) : new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const options = { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  let format;
  try {
    format = new Intl.DateTimeFormat("en-US", { ...options, timeZone: zone || undefined });
  } catch {
    format = new Intl.DateTimeFormat("en-US", options); // a zone this browser does not know
  }
  const p = Object.fromEntries(format.formatToParts(d).map((part) => [part.type, part.value]));
  const text = `${p.month}-${p.day} ${p.hour}:${p.minute}`;
  const theirs = zone ? offsetName(d, zone) : "";
  return theirs && theirs !== offsetName(d, undefined) ? `${text} ${theirs}` : text;
}

function groupDigits(digits) {
  return digits.replace(/(\d{4})(?=\d)/g, "$1 ");
}

// ------------------------------------------------------------------ the host

class HostError extends Error {
  constructor(status, body) {
    super(body?.message?.en || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code || "http";
    this.texts = body?.message || null;
    this.field = body?.field || null;
  }
}

let csrf = null;
let onLoggedOut = () => {};

async function call(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (csrf && method !== "GET") init.headers["X-Wallet-CSRF"] = csrf;
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new HostError(0, { code: "network", message: { "zh-CN": t("network"), en: t("network") } });
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = new HostError(response.status, data);
    if (response.status === 401 && path !== "/wallet/v1/session") onLoggedOut();
    throw error;
  }
  return data;
}

// ------------------------------------------------------------------ the page

class WalletPage {
  constructor() {
    this.main = document.getElementById("main");
    this.bar = document.getElementById("bar");
    this.tab = "pay";
    this.me = null;
    this.code = null;
    this.preview = null;
    this.payload = "";
    this.notice = null;
    this.timers = [];
    this.camera = null;
    this.lastPaymentKey = null;
    this.waits = new Map(); // payment id -> a card that waits (or waited) for the PIN
    this.loginError = null;
    onLoggedOut = () => {
      const wasIn = Boolean(this.me);
      this.me = null;
      this.waits.clear();
      this.stopAll();
      // Said where it stays (a toast is gone in seconds): on the login form.
      this.drawLogin(wasIn ? { key: "session_over" } : null);
    };
  }

  async start() {
    try {
      const session = await call("GET", "/wallet/v1/session");
      csrf = session.csrf;
      await this.loggedIn();
    } catch {
      this.drawLogin();
    }
  }

  toast(text, tone = "info") {
    const box = document.getElementById("toasts");
    const item = h("div", { class: ["toast", tone], role: tone === "error" ? "alert" : "status" }, text);
    box.appendChild(item);
    setTimeout(() => item.remove(), tone === "error" ? 7000 : 4000);
  }

  errorText(error) {
    // The host's words are written for people; an answer without them (a proxy's
    // page, a script error) gets the page's own, never "HTTP 502" or a stack.
    const words = pick(error?.texts);
    if (words) return words;
    return error?.status >= 500 ? t("server_error") : t("page_error");
  }

  drawBar() {
    // replaceChildren would write a null as the text "null": only the parts shown.
    const parts = [
      h("div", { class: "brand" }, t("title"),
        this.me ? h("small", { id: "who" }, `${this.me.name} · ${this.me.account}`) : null),
      h("button", { type: "button", id: "lang-switch", on: { click: () => this.switchLang() } }, t("switch_lang")),
      this.me ? h("button", { type: "button", id: "logout", on: { click: () => this.logout() } }, t("logout")) : null,
    ];
    this.bar.replaceChildren(...parts.filter(Boolean));
    document.title = t("title");
  }

  switchLang() {
    setLang(lang === "en" ? "zh-CN" : "en");
    this.drawBar();
    if (this.me) this.draw();
    else this.drawLogin(this.loginError);
  }

  /** An error kept as what it means, so a language switch shows it in the other language. */
  problem(error) {
    if (error instanceof HostError) {
      return error.texts ? { texts: error.texts, field: error.field } : { text: this.errorText(error) };
    }
    return { text: this.errorText(error) };
  }

  say(problem) {
    if (!problem) return "";
    if (problem.key) return t(problem.key);
    return pick(problem.texts) || problem.text || "";
  }

  stopAll() {
    for (const id of this.timers) clearInterval(id);
    this.timers = [];
    this.stopCamera();
  }

  // ---------------------------------------------------------------- login

  /** What is wrong with an account number and PIN before they are sent (null: nothing). */
  checkLogin(account, pin) {
    if (!account) return { key: "account_empty", field: "account" };
    if (!/^[0-9]{1,16}$/.test(account)) return { key: "account_digits", field: "account" };
    return this.checkPin(pin);
  }

  checkPin(pin) {
    if (!pin) return { key: "pin_empty", field: "pin" };
    if (!/^[0-9]{6}$/.test(pin)) return { key: "pin_digits", field: "pin" };
    return null;
  }

  drawLogin(error = null, typed = null) {
    this.loginError = error;
    this.drawBar();
    const account = h("input", { id: "account", class: "text", inputmode: "numeric", autocomplete: "username",
      maxlength: "16", "aria-invalid": error?.field === "account" ? "true" : null,
      "aria-describedby": error?.field === "account" ? "login-error" : null });
    const pin = h("input", { id: "pin", class: "text pin", type: "password", inputmode: "numeric",
      autocomplete: "current-password", maxlength: "6", "aria-invalid": error?.field === "pin" ? "true" : null,
      "aria-describedby": error?.field === "pin" ? "login-error" : null });
    account.value = typed ?? (error ? this.lastAccount || "" : "");
    const form = h("form", { class: "card stack", id: "login-form", novalidate: true,
      on: { submit: async (event) => {
        event.preventDefault();
        const number = account.value.trim();
        this.lastAccount = number;
        const wrong = this.checkLogin(number, pin.value);
        if (wrong) {
          this.drawLogin(wrong, account.value);
          return;
        }
        try {
          const answer = await call("POST", "/wallet/v1/session", { account: number, pin: pin.value });
          csrf = answer.csrf;
          this.loginError = null;
          await this.loggedIn();
        } catch (err) {
          this.drawLogin(this.problem(err), account.value);
        }
      } } },
      h("h1", {}, t("title")));
    // An error about one field is shown under that field; any other above the form.
    const message = error ? h("div", { class: "notice error", id: "login-error", role: "alert",
      "data-field": error.field || null }, this.say(error)) : null;
    const at = (name) => (error?.field === name ? message : null);
    form.append(...[
      error && !["account", "pin"].includes(error.field) ? message : null,
      h("label", { class: "field" }, h("span", {}, t("account")), account), at("account"),
      h("label", { class: "field" }, h("span", {}, t("pin")), pin), at("pin"),
      h("button", { type: "submit", class: "btn primary wide", id: "login-submit" }, t("login")),
    ].filter(Boolean));
    this.main.replaceChildren(form);
    (error?.field === "pin" ? pin : account).focus();
  }

  async logout() {
    try {
      await call("DELETE", "/wallet/v1/session");
    } catch {
      /* gone already */
    }
    csrf = null;
    this.me = null;
    this.code = null;
    this.waits.clear();
    this.stopAll();
    this.drawLogin();
  }

  async loggedIn() {
    this.me = await call("GET", "/wallet/v1/me");
    zone = this.me.timezone || null;
    this.follow(this.me);
    this.lastPaymentKey = this.paymentKey(this.me);
    await this.newCode();
    this.stopAll();
    this.timers.push(setInterval(() => this.poll(), 2000));
    this.timers.push(setInterval(() => this.tick(), 500));
    this.drawBar();
    this.draw();
  }

  paymentKey(me) {
    const top = me?.history?.[0];
    return top ? `${top.payment_id}:${top.status}` : "";
  }

  async poll() {
    if (!this.me) return;
    let me;
    try {
      me = await call("GET", "/wallet/v1/me");
    } catch {
      return;
    }
    const key = this.paymentKey(me);
    const changed = key !== this.lastPaymentKey;
    const pendingChanged = JSON.stringify(me.pending.map((p) => p.payment_id))
      !== JSON.stringify(this.me.pending.map((p) => p.payment_id));
    const balanceChanged = me.balance !== this.me.balance;
    this.me = me;
    zone = me.timezone || zone;
    const cardsChanged = this.follow(me);
    if (changed) {
      this.lastPaymentKey = key;
      const top = me.history[0];
      if (top && top.status === "SUCCESS") {
        this.toast(t("paid", { amount: `${top.currency} ${top.amount_text}`, merchant: top.merchant_name }), "success");
      }
      // The code on screen may just have been used: show a fresh one.
      await this.newCode();
    }
    if (changed || pendingChanged || balanceChanged || cardsChanged) this.draw();
  }

  /**
   * Keep the cards of payments waiting for the PIN in step with the host: a new one
   * counts down the host's seconds left on this phone's clock (the same deadline as
   * the cashier's screen); one the host stopped waiting for stays, marked timed out
   * or cancelled, until the customer dismisses it (a confirmed one goes). Whether a
   * card changed.
   */
  follow(me) {
    let changed = false;
    const now = Date.now() / 1000;
    for (const payment of me.pending) {
      const known = this.waits.get(payment.payment_id);
      if (known?.state === "waiting") {
        known.payment = payment;
        continue;
      }
      if (known) continue; // marked over already; the host's list may lag a poll behind
      const left = payment.pin_expires_in ?? (payment.pin_deadline
        ? Math.max(0, Date.parse(payment.pin_deadline) / 1000 - now) : null);
      this.waits.set(payment.payment_id, { payment, state: "waiting", ends: left === null ? null : now + left });
      changed = true;
    }
    const listed = new Set(me.pending.map((p) => p.payment_id));
    for (const [id, card] of this.waits) {
      if (card.state !== "waiting" || listed.has(id)) continue;
      const seen = me.history.find((p) => p.payment_id === id);
      const outcome = seen?.outcome;
      if (outcome === "cancelled") card.state = "cancelled";
      else if (outcome === "timed_out" || (card.ends !== null && now >= card.ends)) card.state = "timed_out";
      else if (outcome === "waiting") continue; // the history is a moment ahead of the list
      else this.waits.delete(id); // paid or declined: the notice and the history say so
      changed = true;
    }
    return changed;
  }

  dismiss(id) {
    this.waits.delete(id);
    this.draw();
  }

  async newCode() {
    try {
      this.code = await call("POST", "/wallet/v1/me/code");
    } catch (error) {
      this.toast(this.errorText(error), "error");
    }
  }

  tick() {
    const el = document.getElementById("code-countdown");
    if (this.code) {
      const left = Math.max(0, Math.ceil(this.code.expires_at - Date.now() / 1000));
      if (left <= 5 && !this.refreshing) {
        // Refresh before it expires: a cashier never scans a dead code.
        this.refreshing = true;
        this.newCode().then(() => {
          this.refreshing = false;
          if (this.tab === "pay") this.draw();
        });
      }
      if (el) el.textContent = left > 0 ? t("refresh_in", { n: Math.max(0, left - 5) }) : t("code_expired");
    }
    let over = false;
    for (const node of document.querySelectorAll("[data-deadline]")) {
      const left = Math.max(0, Math.ceil(Number(node.dataset.deadline) - Date.now() / 1000));
      node.textContent = t("time_left", { n: left });
      if (left === 0) over = true;
    }
    // The deadline passed on this phone's clock: the host stopped waiting too.
    if (over) {
      const now = Date.now() / 1000;
      for (const card of this.waits.values()) {
        if (card.state === "waiting" && card.ends !== null && now >= card.ends) card.state = "timed_out";
      }
      this.draw();
    }
  }

  // ---------------------------------------------------------------- main screen

  draw() {
    const me = this.me;
    if (this.tab !== "scan") this.stopCamera();
    const tabs = h("div", { class: "tabs", role: "tablist" },
      ["pay", "scan", "history"].map((name) =>
        h("button", { type: "button", role: "tab", id: `tab-${name}`, "aria-selected": String(this.tab === name),
          on: { click: () => { this.tab = name; this.notice = null; this.draw(); } } }, t(`tab_${name}`))));
    let body;
    if (this.tab === "pay") body = this.drawPay();
    else if (this.tab === "scan") body = this.drawScan();
    else body = this.drawHistory();
    const parts = [
      h("div", { class: "card" },
        h("div", { class: "muted" }, t("balance")),
        h("div", { class: "balance", id: "balance" }, h("small", {}, me.currency), me.balance_text)),
      ...[...this.waits.values()].map((card) => this.drawPending(card)),
      this.notice ? h("div", { class: ["notice", this.notice.tone], id: "wallet-notice", role: "status" },
        this.notice.text) : null,
      tabs,
      body,
    ];
    this.main.replaceChildren(...parts.filter(Boolean));
    this.tick();
  }

  drawPending(card) {
    const payment = card.payment;
    const facts = h("dl", { class: "facts" },
      h("dt", {}, t("merchant")), h("dd", { id: "pending-merchant" }, payment.merchant_name),
      h("dt", {}, t("amount")), h("dd", { class: "amount", id: "pending-amount" }, `${payment.currency} ${payment.amount_text}`),
      payment.description ? [h("dt", {}, t("note")), h("dd", {}, payment.description)] : null);
    if (card.state !== "waiting") {
      // The host stopped waiting: the card stays and says why, until dismissed.
      const [title, text] = card.state === "cancelled"
        ? [t("pending_cancelled_title"), t("pending_cancelled")]
        : [t("pending_timed_out_title"), t("pending_timed_out")];
      return h("div", { class: ["card", "pending", "over", card.state.replace("_", "-"), "stack"], id: "pending",
        "data-payment": payment.payment_id, "data-state": card.state, role: "status" },
        h("h2", { id: "pending-title" }, title),
        facts,
        h("p", { id: "pending-outcome" }, text),
        h("button", { type: "button", class: "btn wide", id: "pending-dismiss",
          on: { click: () => this.dismiss(payment.payment_id) } }, t("dismiss")));
    }
    const pin = h("input", { class: "text pin", type: "password", inputmode: "numeric", maxlength: "6",
      id: `pending-pin-${payment.payment_id}`, autocomplete: "off", "aria-label": t("pin") });
    return h("form", { class: "card pending stack", id: "pending", "data-payment": payment.payment_id,
      "data-state": "waiting", novalidate: true,
      on: { submit: async (event) => {
        event.preventDefault();
        const wrong = this.checkPin(pin.value);
        if (wrong) {
          this.notice = { tone: "error", text: t(wrong.key) };
          this.draw();
          return;
        }
        try {
          const answer = await call("POST", "/wallet/v1/me/confirm", { pin: pin.value, payment_id: payment.payment_id });
          this.notice = { tone: answer.code === "00" ? "success" : "error", text: pick(answer.message) };
          await this.poll();
          this.draw();
        } catch (error) {
          this.notice = { tone: "error", text: this.errorText(error) };
          this.draw();
        }
      } } },
      h("h2", {}, t("pending_title")),
      facts,
      card.ends !== null ? h("div", { class: "muted countdown", id: "pending-countdown",
        "data-deadline": String(card.ends) }) : null,
      h("label", { class: "field" }, h("span", {}, t("pin")), pin),
      h("button", { type: "submit", class: "btn primary wide", id: "confirm-pending" }, t("confirm_pay")));
  }

  drawPay() {
    const code = this.code;
    if (!code) return h("div", { class: "card" }, "…");
    return h("div", { class: "card paycode stack center", id: "paycode" },
      h("h2", {}, t("show_code")),
      h("img", { class: "qr", src: code.qr, alt: "QR", id: "code-qr" }),
      h("img", { class: "barcode", src: code.barcode, alt: "Code 128", id: "code-barcode" }),
      h("div", { class: "digits", id: "code-digits" }, groupDigits(code.digits)),
      h("div", { class: "countdown", id: "code-countdown" }),
      h("div", { class: "muted" }, t("code_note")),
      h("div", { class: "row" },
        h("button", { type: "button", class: "btn", id: "copy-code", on: { click: () => this.copy() } }, t("copy")),
        h("button", { type: "button", class: "btn", id: "new-code",
          on: { click: async () => { await this.newCode(); this.draw(); } } }, t("new_code"))));
  }

  async copy() {
    try {
      await navigator.clipboard.writeText(this.code.digits);
      this.toast(t("copied"), "success");
    } catch {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById("code-digits"));
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
  }

  drawHistory() {
    const items = this.me.history;
    if (!items.length) return h("div", { class: "card muted", id: "history" }, t("no_history"));
    return h("div", { class: "card" }, h("ul", { class: "history", id: "history" },
      items.map((p) => this.drawHistoryItem(p))));
  }

  /**
   * One payment: money that left shows with a minus, money that came back with a
   * plus; a payment that took nothing (declined, timed out, cancelled) shows its
   * amount struck through, without a sign, and says so in words.
   */
  drawHistoryItem(p) {
    const outcome = p.outcome || "paid";
    const spent = ["paid", "partly_refunded", "refunded"].includes(outcome);
    const returned = outcome === "cancelled" && p.paid_at;
    const words = returned ? t("out_cancelled_returned") : t(`out_${outcome}`);
    const money = `${p.currency} ${p.amount_text}`;
    const moment = p.paid_at || p.created_at;
    return h("li", { "data-payment": p.payment_id, "data-status": p.status, "data-outcome": outcome,
      class: spent ? "spent" : "unspent" },
      h("div", {}, h("b", {}, p.merchant_name), " ",
        h("span", { class: ["badge", p.status, `out-${outcome}`], "data-role": "outcome" }, words)),
      spent ? h("div", { class: "amt out" }, `-${money}`)
        : h("div", { class: ["amt", outcome === "waiting" ? "held" : "void"] },
          outcome === "waiting" ? money : h("s", {}, money)),
      h("div", { class: "sub" }, h("time", { class: "when", datetime: moment || null }, when(moment)),
        p.description ? ` · ${p.description}` : ""),
      p.refunded_amount && spent
        ? h("div", { class: "sub amt in" }, t("refunded", { amount: `${p.currency} ${p.refunded_text}` }))
        : h("div", { class: "sub" }));
  }

  // ---------------------------------------------------------------- scan and pay

  drawScan() {
    if (this.preview) return this.drawPreview();
    const video = this.video || (this.video = h("video", { id: "camera-video", muted: true, playsinline: true, autoplay: true }));
    const guidance = this.guidance || (this.guidance = h("div", { class: "guidance", id: "guidance" }, t("scan_hint")));
    const file = h("input", { type: "file", accept: "image/*", id: "scan-image",
      on: { change: () => this.scanImage(file) } });
    const paste = h("textarea", { class: "text", id: "payload", spellcheck: "false", value: this.payload });
    paste.addEventListener("input", () => { this.payload = paste.value; });
    const view = h("div", { class: "card stack", id: "scan" },
      h("div", { class: "camera-box" }, video, guidance),
      h("div", { class: "row" },
        this.camera ? null : h("button", { type: "button", class: "btn", id: "camera-start",
          on: { click: () => this.startCamera() } }, t("camera_start")),
        h("label", { class: "btn file-btn" }, t("from_image"), file)),
      h("form", { class: "stack", on: { submit: (event) => { event.preventDefault(); this.check(paste.value); } } },
        h("label", { class: "field" }, h("span", {}, t("paste")), paste),
        h("button", { type: "submit", class: "btn primary wide", id: "check-payload" }, t("check"))));
    if (this.camera) video.play().catch(() => {});
    return view;
  }

  async startCamera() {
    if (!navigator.mediaDevices?.getUserMedia) {
      this.toast(t("camera_none"), "error");
      return;
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch {
      this.toast(t("camera_none"), "error");
      return;
    }
    this.video.srcObject = this.stream;
    await this.video.play().catch(() => {});
    this.camera = { running: true };
    this.draw();
    const canvas = document.createElement("canvas");
    const running = this.camera;
    while (running.running && this.camera === running) {
      const started = performance.now();
      if (this.video.videoWidth) {
        const scale = Math.min(1, 640 / this.video.videoWidth);
        canvas.width = Math.round(this.video.videoWidth * scale);
        canvas.height = Math.round(this.video.videoHeight * scale);
        canvas.getContext("2d").drawImage(this.video, 0, 0, canvas.width, canvas.height);
        const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
        const form = new FormData();
        form.append("file", blob, "frame.jpg");
        try {
          const answer = await call("POST", "/wallet/v1/me/scan?live=true", form);
          if (!running.running) break;
          if (answer.text) {
            this.stopCamera();
            await this.check(answer.text);
            break;
          }
          this.guidance.textContent = answer.guidance ? pick(answer.guidance.message) : t("scan_hint");
        } catch {
          /* the next frame tries again */
        }
      }
      const rest = 150 - (performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, Math.max(20, rest)));
    }
  }

  stopCamera() {
    if (this.camera) this.camera.running = false;
    this.camera = null;
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    if (this.video) this.video.srcObject = null;
  }

  async scanImage(input) {
    const file = input.files?.[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file, file.name || "image");
    const said = { too_large: "image_too_large", not_an_image: "not_an_image" };
    try {
      const answer = await call("POST", "/wallet/v1/me/scan", form);
      if (answer.text) await this.check(answer.text);
      else this.toast(t(said[answer.error] || "not_merchant"), "error");
    } catch (error) {
      this.toast(error?.status === 413 ? t("image_too_large") : this.errorText(error), "error");
    } finally {
      input.value = "";
    }
  }

  async check(payload) {
    const text = String(payload || "").trim();
    if (!text) return;
    this.payload = text;
    try {
      this.preview = await call("POST", "/wallet/v1/me/preview", { payload: text });
      this.notice = null;
    } catch (error) {
      this.preview = null;
      this.notice = { tone: "error", text: this.errorText(error) };
    }
    this.draw();
  }

  drawPreview() {
    const p = this.preview;
    const pin = h("input", { class: "text pin", type: "password", inputmode: "numeric", maxlength: "6",
      id: "pay-pin", autocomplete: "off", "aria-label": t("pin") });
    return h("form", { class: "card stack", id: "preview",
      novalidate: true,
      on: { submit: (event) => {
        event.preventDefault();
        const wrong = p.pin_required ? this.checkPin(pin.value) : null;
        if (wrong) {
          this.notice = { tone: "error", text: t(wrong.key) };
          this.draw();
          return;
        }
        this.pay(p.pin_required ? pin.value : null);
      } } },
      h("h2", {}, t("pay_to")),
      h("dl", { class: "facts" },
        h("dt", {}, t("merchant")), h("dd", { id: "preview-merchant" }, [p.merchant_name, p.merchant_city].filter(Boolean).join(", ")),
        h("dt", {}, t("amount")), h("dd", { class: "amount", id: "preview-amount" }, `${p.currency} ${p.amount_text}`),
        p.description ? [h("dt", {}, t("note")), h("dd", { id: "preview-note" }, p.description)] : null,
        h("dt", {}, t("expires")), h("dd", {}, when(p.expires_at))),
      p.payable ? null : h("div", { class: "notice error", id: "not-payable" }, t("not_payable", { status: t(`order_${p.status}`) })),
      p.payable && p.pin_required ? h("label", { class: "field" }, h("span", {}, t("pin_needed")), pin) : null,
      h("div", { class: "row" },
        h("button", { type: "button", class: "btn", id: "preview-back",
          on: { click: () => { this.preview = null; this.draw(); } } }, t("back")),
        p.payable ? h("button", { type: "submit", class: "btn primary", id: "pay" }, t("pay")) : null));
  }

  async pay(pin) {
    try {
      const body = { payload: this.payload };
      if (pin) body.pin = pin;
      const answer = await call("POST", "/wallet/v1/me/pay", body);
      const ok = answer.code === "00";
      this.notice = { tone: ok ? "success" : "error", text: pick(answer.message) };
      if (ok || !this.preview?.pin_required || answer.code !== "55") {
        this.preview = null;
        this.payload = "";
      }
      if (ok) this.tab = "history";
      await this.poll();
    } catch (error) {
      this.notice = { tone: "error", text: this.errorText(error) };
    }
    this.draw();
  }
}

initLang();
const page = new WalletPage();
window.scanpayWallet = page; // for the browser tests and for debugging
page.start();
