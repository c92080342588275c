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
  not_payable: ["该订单不能支付（{status}）", "This order cannot be paid ({status})"],
  paid: ["已付款 {amount}，收款方 {merchant}", "Paid {amount} to {merchant}"],
  no_history: ["还没有账单", "No payments yet"],
  refunded: ["已退 {amount}", "refunded {amount}"],
  session_over: ["登录已过期，请重新登录", "Your session ended; please log in again"],
  network: ["无法连接服务器", "The server cannot be reached"],
  expires: ["有效期至", "Valid until"],
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

function when(iso) {
  if (!iso) return "";
  const d = typeof iso === "number" ? new Date(iso * 1000) : new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getMonth() + 1}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
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
    onLoggedOut = () => {
      if (this.me) this.toast(t("session_over"), "error");
      this.me = null;
      this.stopAll();
      this.drawLogin();
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
    return pick(error?.texts) || String(error?.message || error);
  }

  drawBar() {
    this.bar.replaceChildren(
      h("div", { class: "brand" }, t("title"),
        this.me ? h("small", { id: "who" }, `${this.me.name} · ${this.me.account}`) : null),
      h("button", { type: "button", id: "lang-switch", on: { click: () => this.switchLang() } }, t("switch_lang")),
      this.me ? h("button", { type: "button", id: "logout", on: { click: () => this.logout() } }, t("logout")) : null,
    );
    document.title = t("title");
  }

  switchLang() {
    setLang(lang === "en" ? "zh-CN" : "en");
    this.drawBar();
    if (this.me) this.draw();
    else this.drawLogin();
  }

  stopAll() {
    for (const id of this.timers) clearInterval(id);
    this.timers = [];
    this.stopCamera();
  }

  // ---------------------------------------------------------------- login

  drawLogin(error = null) {
    this.drawBar();
    const account = h("input", { id: "account", class: "text", inputmode: "numeric", autocomplete: "username",
      maxlength: "16" });
    const pin = h("input", { id: "pin", class: "text pin", type: "password", inputmode: "numeric",
      autocomplete: "current-password", maxlength: "6" });
    const form = h("form", { class: "card stack", id: "login-form",
      on: { submit: async (event) => {
        event.preventDefault();
        try {
          const answer = await call("POST", "/wallet/v1/session", { account: account.value.trim(), pin: pin.value });
          csrf = answer.csrf;
          await this.loggedIn();
        } catch (err) {
          this.drawLogin(this.errorText(err));
        }
      } } },
      h("h1", {}, t("title")),
      error ? h("div", { class: "notice error", id: "login-error", role: "alert" }, error) : null,
      h("label", { class: "field" }, h("span", {}, t("account")), account),
      h("label", { class: "field" }, h("span", {}, t("pin")), pin),
      h("button", { type: "submit", class: "btn primary wide", id: "login-submit" }, t("login")));
    this.main.replaceChildren(form);
    account.focus();
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
    this.stopAll();
    this.drawLogin();
  }

  async loggedIn() {
    this.me = await call("GET", "/wallet/v1/me");
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
    if (changed) {
      this.lastPaymentKey = key;
      const top = me.history[0];
      if (top && top.status === "SUCCESS") {
        this.toast(t("paid", { amount: `${top.currency} ${top.amount_text}`, merchant: top.merchant_name }), "success");
      }
      // The code on screen may just have been used: show a fresh one.
      await this.newCode();
    }
    if (changed || pendingChanged || balanceChanged) this.draw();
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
      if (el) el.textContent = t("refresh_in", { n: Math.max(0, left - 5) });
    }
    for (const node of document.querySelectorAll("[data-deadline]")) {
      const left = Math.max(0, Math.ceil(Number(node.dataset.deadline) - Date.now() / 1000));
      node.textContent = t("time_left", { n: left });
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
      ...me.pending.map((p) => this.drawPending(p)),
      this.notice ? h("div", { class: ["notice", this.notice.tone], id: "wallet-notice", role: "status" },
        this.notice.text) : null,
      tabs,
      body,
    ];
    this.main.replaceChildren(...parts.filter(Boolean));
    this.tick();
  }

  drawPending(payment) {
    const pin = h("input", { class: "text pin", type: "password", inputmode: "numeric", maxlength: "6",
      id: `pending-pin-${payment.payment_id}`, autocomplete: "off", "aria-label": t("pin") });
    return h("form", { class: "card pending stack", id: "pending",
      on: { submit: async (event) => {
        event.preventDefault();
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
      h("dl", { class: "facts" },
        h("dt", {}, t("merchant")), h("dd", { id: "pending-merchant" }, payment.merchant_name),
        h("dt", {}, t("amount")), h("dd", { class: "amount", id: "pending-amount" }, `${payment.currency} ${payment.amount_text}`),
        payment.description ? [h("dt", {}, t("note")), h("dd", {}, payment.description)] : null),
      payment.pin_deadline ? h("div", { class: "muted",
        "data-deadline": String(Date.parse(payment.pin_deadline) / 1000) }) : null,
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
      items.map((p) => h("li", { "data-payment": p.payment_id, "data-status": p.status },
        h("div", {}, h("b", {}, p.merchant_name), " ", h("span", { class: ["badge", p.status] }, pick(p.message) || p.status)),
        h("div", { class: "amt" }, `-${p.currency} ${p.amount_text}`),
        h("div", { class: "sub" }, when(p.paid_at || p.created_at), p.description ? ` · ${p.description}` : ""),
        h("div", { class: "sub amt" }, p.refunded_amount ? t("refunded", { amount: p.refunded_text }) : "")))));
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
    try {
      const answer = await call("POST", "/wallet/v1/me/scan", form);
      if (answer.text) await this.check(answer.text);
      else this.toast(t("not_merchant"), "error");
    } catch (error) {
      this.toast(this.errorText(error), "error");
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
      on: { submit: (event) => { event.preventDefault(); this.pay(p.pin_required ? pin.value : null); } } },
      h("h2", {}, t("pay_to")),
      h("dl", { class: "facts" },
        h("dt", {}, t("merchant")), h("dd", { id: "preview-merchant" }, [p.merchant_name, p.merchant_city].filter(Boolean).join(", ")),
        h("dt", {}, t("amount")), h("dd", { class: "amount", id: "preview-amount" }, `${p.currency} ${p.amount_text}`),
        p.description ? [h("dt", {}, t("note")), h("dd", { id: "preview-note" }, p.description)] : null,
        h("dt", {}, t("expires")), h("dd", {}, when(p.expires_at))),
      p.payable ? null : h("div", { class: "notice error", id: "not-payable" }, t("not_payable", { status: p.status })),
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
