// One sale, from scanning to its result. What to show comes from the agent
// (`sale.screen`: id, tone, title, message, next action, buttons, countdown):
// this screen keeps no state machine of its own.

import { ApiError, get, post } from "../api.js";
import { Screen } from "../app.js";
import { CameraScanner, cameraAvailable } from "../camera.js";
import { h, whenZoned } from "../dom.js";
import { lang, pick, t } from "../i18n.js";
import { button, facts, formatMinor, money, notice, secondsLeft, toneIcon } from "../ui.js";

const PROGRESS = new Set(["sending", "querying", "reversing", "waiting_customer"]);

export class SaleScreen extends Screen {
  constructor(app, no) {
    super(app);
    this.no = no;
    this.sale = null;
    this.merchant = null; // a merchant-presented code that was scanned (never charged)
    this.scanError = null;
    this.busy = false;
    this.camera = null;
    this.cameraState = "off"; // off | starting | on | none
    // Kept across redraws (a language switch, an error): the camera keeps
    // running and a half-typed code stays in its field.
    this.video = h("video", { id: "camera-video", muted: true, playsinline: true, autoplay: true });
    this.guidance = h("div", { class: "guidance", id: "guidance", "aria-live": "polite" });
    this.cameraNote = h("div", { class: "off", id: "camera-off" });
    this.cameraBox = h("div", { class: "camera-box", id: "camera-box" }, this.video,
      h("div", { class: "viewfinder" }), this.guidance, this.cameraNote);
    this.cameraButton = h("button", { type: "button", class: "btn grow", id: "camera-toggle",
      on: { click: () => this.toggleCamera() } });
    this.codeInput = h("input", { id: "code-input", class: "text", autocomplete: "off", spellcheck: "false" });
    this.lastQuality = null;
  }

  get path() {
    return `/api/sales/${encodeURIComponent(this.no)}`;
  }

  async enter() {
    // Opened: asked of the host first, so a refund made in the portal shows here too.
    this.sale = await get(`${this.path}?refresh=true`, { signal: this.signal });
    this.hostChecked = this.sale.host_checked;
    this.follow();
  }

  leave() {
    super.leave();
    this.stopCamera();
  }

  /** Scanner-gun codes are wanted while the sale waits for a code. */
  wantsScans() {
    return this.active && this.sale?.screen?.id === "scan" && !this.merchant && !this.busy;
  }

  // ------------------------------------------------------------------ following

  async follow() {
    // Until the sale is settled; a refund later is seen when the screen is opened again.
    while (this.active && !this.sale.final) {
      try {
        const next = await get(`${this.path}?wait=25&version=${this.sale.version}`, { signal: this.signal });
        if (!this.active) return;
        if (next.version !== this.sale.version) this.update(next);
      } catch (error) {
        if (error?.name === "AbortError" || !this.active) return;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  update(sale) {
    const before = this.sale?.screen?.id;
    this.sale = sale;
    if (sale.screen.id !== "scan") {
      this.merchant = null;
      this.stopCamera();
    }
    if (before !== sale.screen.id || sale.screen.id !== "scan") this.draw();
  }

  // ------------------------------------------------------------------ drawing

  draw() {
    for (const id of this.timers) clearInterval(id);
    this.timers = [];
    const id = this.sale.screen.id;
    let body;
    if (id === "scan") body = this.merchant ? this.drawMerchant() : this.drawScan();
    else if (id === "confirm") body = this.drawConfirm();
    else if (PROGRESS.has(id)) body = this.drawProgress();
    else body = this.drawResult();
    this.render(h("section", { class: "stack", dataset: { screen: this.merchant ? "merchant-code" : id,
      state: this.sale.state } }, body));
    if (id === "scan" && !this.merchant) this.afterScanDrawn();
  }

  head() {
    const sale = this.sale;
    return h("div", { class: "sale-head" },
      money(sale.amount_text, sale.currency, { id: "sale-amount" }),
      sale.training ? h("span", { class: "badge training" }, t("training")) : null,
      sale.note ? h("span", { class: "muted", id: "sale-note" }, sale.note) : null,
      h("span", { class: "muted mono" }, sale.out_trade_no));
  }

  drawScan() {
    const screen = this.sale.screen;
    this.drawCamera();
    // The label says what to do; the hint in the field stays short enough to fit it.
    this.codeInput.placeholder = t("code");
    this.codeInput.setAttribute("aria-label", t("type_code"));
    const form = h("form", { class: "code-form", id: "code-form",
      on: { submit: (event) => { event.preventDefault(); this.submitText(this.codeInput.value, "keyboard"); } } },
      this.codeInput, button(t("use_code"), null, { kind: "primary", id: "use-code", type: "submit" }));
    const file = h("input", { type: "file", accept: "image/*", id: "image-input",
      on: { change: () => this.submitImage(file) } });
    return [
      this.head(),
      h("p", { class: "lead" }, h("b", { id: "screen-message" }, pick(screen.message)), " — ",
        h("span", { id: "screen-action" }, pick(screen.action))),
      this.scanError ? notice(this.scanError, "error", { id: "scan-error" }) : null,
      h("div", { class: "scan-grid" },
        this.cameraBox,
        h("div", { class: "stack" },
          h("div", { class: "scanner-ready", id: "scanner-ready" }, t("scanner_ready")),
          h("label", { class: "field" }, h("span", {}, t("type_code")), form),
          h("div", { class: "row" },
            h("label", { class: "btn file-btn grow", id: "image-button" }, t("scan_image"), file),
            this.cameraButton),
          h("div", { class: "actions" },
            button(pick(this.app.texts.actions.cancel), () => this.act("cancel"),
              { kind: "danger", big: true, id: "cancel", action: "cancel" })))),
    ];
  }

  /** The camera's box and button, updated in place. */
  drawCamera() {
    const state = this.cameraState;
    // The aiming frame and its hints only over a live picture (app.css).
    this.cameraBox.dataset.camera = state;
    this.cameraNote.hidden = state === "on";
    this.cameraNote.textContent = state === "none" ? t("camera_none") : state === "off" ? "" : t("camera_starting");
    this.cameraButton.hidden = !cameraAvailable() || state === "starting";
    this.cameraButton.textContent = state === "on" ? t("camera_stop") : t("camera_start");
    this.drawGuidance();
  }

  toggleCamera() {
    if (this.cameraState === "on") {
      this.stopCamera();
      this.drawCamera();
    } else {
      this.startCamera();
    }
  }

  afterScanDrawn() {
    if (this.cameraState === "on") {
      this.video.play().catch(() => {});
    } else if (this.cameraState === "off" && !this.cameraTried) {
      this.cameraTried = true;
      this.startCamera();
    }
  }

  drawGuidance() {
    const box = this.cameraBox;
    const quality = this.lastQuality;
    let text = t("camera_hint");
    if (quality?.guidance?.length) text = pick(quality.guidance[0].message);
    this.guidance.textContent = text;
    this.guidance.dataset.code = quality?.guidance?.[0]?.code || "";
    box.classList.toggle("found", Boolean(quality?.code_found));
    box.classList.toggle("read", Boolean(quality?.decoded));
  }

  drawMerchant() {
    const m = this.merchant;
    const code = m.code || {};
    const sticker = m.sticker || { verdict: "unavailable" };
    const amount = code.amount ? `${code.currency || ""} ${formatMinor(code.amount, code.currency)}` : t("any_amount");
    return [
      this.head(),
      h("div", { class: "card stack" },
        h("h2", { id: "merchant-title" }, t("merchant_code_title")),
        facts([
          [t("merchant"), [code.merchant_name, code.merchant_city].filter(Boolean).join(", "), "mc-merchant"],
          [t("payee"), code.payee || sticker.payee, "mc-payee"],
          [t("amount"), amount, "mc-amount"],
          [t("network"), pick(code.scheme_name), "mc-network"],
          [t("code"), code.number ?? code.masked, "mc-code"],
        ]),
        notice([h("b", {}, `${t("sticker_check")}: `), sticker.message ? pick(sticker.message) : t(`sticker_${sticker.verdict}`)],
          "", { id: "sticker", class: ["notice", `sticker-${sticker.verdict}`] }),
        notice(t("not_charged"), "info")),
      h("div", { class: "actions" },
        button(pick(this.app.texts.actions.rescan), () => { this.merchant = null; this.cameraTried = false; this.draw(); },
          { kind: "primary", big: true, id: "rescan", action: "rescan" }),
        button(pick(this.app.texts.actions.cancel), () => this.act("cancel"),
          { kind: "danger", big: true, id: "cancel", action: "cancel" })),
    ];
  }

  drawConfirm() {
    const sale = this.sale;
    const screen = sale.screen;
    const code = sale.code || {};
    return [
      h("div", { class: "card stack center" },
        h("h1", { id: "screen-title" }, pick(screen.message)),
        money(sale.amount_text, sale.currency, { id: "sale-amount", class: "money huge" }),
        facts([
          [t("wallet"), pick(sale.wallet_name ?? code.scheme_name), "confirm-wallet"],
          [t("code"), code.number ?? code.masked, "confirm-code"],
          [t("note_label"), sale.note, "sale-note"],
          [t("trade_no"), sale.out_trade_no],
        ], { class: "facts confirm-facts" }),
        sale.training ? h("span", { class: "badge training" }, t("training")) : null,
        h("p", { id: "screen-action" }, pick(screen.action))),
      this.actionButtons(screen.actions),
    ];
  }

  drawProgress() {
    const sale = this.sale;
    const screen = sale.screen;
    const countdown = h("div", { class: "countdown", id: "countdown" });
    if (screen.countdown_to) {
      const tick = () => { countdown.textContent = t("seconds_left", { n: secondsLeft(screen.countdown_to) }); };
      tick();
      this.every(250, tick);
    }
    return h("div", { class: "result-grid" },
      h("div", { class: "stack" },
        h("div", { class: ["result", `tone-${screen.tone}`], id: "result" },
          h("div", { class: "spinner", "aria-hidden": "true" }),
          h("div", { class: "title", id: "result-title" }, pick(screen.title)),
          h("div", { class: "message", id: "result-message" }, pick(screen.message)),
          h("div", { class: "next", id: "result-action" }, pick(screen.action)),
          screen.countdown_to ? countdown : null),
        this.actionButtons(screen.actions)),
      this.details());
  }

  drawResult() {
    const screen = this.sale.screen;
    return h("div", { class: "result-grid" },
      h("div", { class: "stack" },
        h("div", { class: ["result", `tone-${screen.tone}`], id: "result" },
          toneIcon(screen.tone),
          h("div", { class: "title", id: "result-title" }, pick(screen.title)),
          pick(screen.message) === pick(screen.title) ? null
            : h("div", { class: "message", id: "result-message" }, pick(screen.message)),
          h("div", { class: "next", id: "result-action" }, `${t("next_step")}: ${pick(screen.action)}`),
          screen.code ? h("div", { class: "rc", id: "result-code" }, t("result_code", { code: screen.code })) : null),
        this.actionButtons([...screen.actions, "receipt"])),
      this.details());
  }

  details() {
    const sale = this.sale;
    const code = sale.code || {};
    return h("div", { class: "card" },
      money(sale.amount_text, sale.currency, { id: "sale-amount" }),
      sale.training ? h("span", { class: "badge training" }, t("training")) : null,
      this.hostChecked === false ? notice(t("host_not_checked"), "warn", { id: "host-unchecked" }) : null,
      facts([
        [t("state"), pick(sale.state_label), "sale-state"],
        [t("wallet"), pick(sale.wallet_name ?? code.scheme_name), "sale-wallet"],
        [t("code"), code.number ?? code.masked, "sale-code"],
        [t("payer"), sale.payer],
        [t("note_label"), sale.note, "sale-note"],
        [t("refunded"), sale.refunded_amount ? formatMinor(sale.refunded_amount, sale.currency) : null, "refunded"],
        [t("trade_no"), sale.out_trade_no, "trade-no"],
        [t("time"), whenZoned(sale.finished_at || sale.created_at), "sale-time"],
        [t("operator"), sale.operator_id],
      ]));
  }

  actionButtons(actions) {
    const texts = this.app.texts.actions;
    const kinds = { confirm: "go", cancel: "danger", new_sale: "primary", rescan: "" };
    const run = {
      confirm: () => this.act("confirm"),
      cancel: () => this.act("cancel"),
      rescan: () => this.act("rescan"),
      new_sale: () => this.app.go("#/"),
      reprint: () => this.reprint(),
      refund: () => this.app.go(`#/refund/${encodeURIComponent(this.no)}`),
      receipt: () => this.app.showPage(t("view_receipt"),
        `${this.path}/receipt?format=html&language=${encodeURIComponent(lang())}`),
      scan: null,
    };
    return h("div", { class: "actions" },
      actions.filter((a) => run[a]).map((a) =>
        button(a === "receipt" ? t("view_receipt") : pick(texts[a]), run[a],
          { kind: kinds[a] ?? "", big: a === "confirm" || a === "new_sale", id: a.replace("_", "-"), action: a })));
  }

  // ------------------------------------------------------------------ scanning

  async startCamera() {
    if (!cameraAvailable()) {
      this.cameraState = "none";
      this.drawCamera();
      return;
    }
    this.cameraState = "starting";
    this.drawCamera();
    const scanner = new CameraScanner(this.video, (blob) => this.frame(blob));
    this.camera = scanner;
    const ok = await scanner.start();
    if (!this.active || this.camera !== scanner) {
      scanner.stop();
      return;
    }
    this.cameraState = ok ? "on" : "none";
    if (!ok) this.camera = null;
    this.drawCamera();
  }

  stopCamera() {
    if (this.camera) this.camera.stop();
    this.camera = null;
    if (this.cameraState === "on" || this.cameraState === "starting") this.cameraState = "off";
  }

  /** One camera frame to the agent; true stops the camera (a code was read). */
  async frame(blob) {
    if (!this.wantsScans()) return !this.active;
    const form = new FormData();
    form.append("file", blob, "frame.jpg");
    let answer;
    try {
      answer = await post(`${this.path}/frame`, form, { signal: this.signal });
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) return true;
      return !this.active;
    }
    if (!this.active) return true;
    this.lastQuality = answer.quality;
    this.drawGuidance();
    if (answer.read && answer.sale) {
      this.accepted(answer);
      return true;
    }
    if (answer.error) {
      const text = this.app.errorText(new ApiError(422, answer.error));
      if (text !== this.scanError) {
        this.scanError = text;
        this.draw();
      }
    }
    return false;
  }

  /** A code from the scanner gun. */
  scanned(text, source) {
    this.submitText(text, source);
  }

  async submitText(text, source) {
    const value = String(text || "").trim();
    if (!value || this.busy) return;
    this.busy = true;
    try {
      const answer = await post(`${this.path}/scan`, { text: value, source });
      if (this.active) this.accepted(answer);
    } catch (error) {
      if (this.active) this.refused(error);
    } finally {
      this.busy = false;
    }
  }

  async submitImage(input) {
    const file = input.files?.[0];
    if (!file || this.busy) return;
    this.busy = true;
    this.app.toast(t("reading_image"));
    const form = new FormData();
    form.append("file", file, file.name || "image");
    try {
      const answer = await post(`${this.path}/scan-image`, form);
      if (this.active) this.accepted(answer);
    } catch (error) {
      if (this.active) this.refused(error);
    } finally {
      this.busy = false;
      input.value = "";
    }
  }

  accepted(answer) {
    this.scanError = null;
    this.codeInput.value = "";
    if (answer.charged === false) {
      this.merchant = answer;
      this.stopCamera();
      this.sale = answer.sale;
      this.draw();
      return;
    }
    this.stopCamera();
    this.sale = answer.sale;
    this.draw();
  }

  refused(error) {
    this.scanError = `${this.app.errorText(error)} — ${t("scan_again")}`;
    this.codeInput.value = "";
    this.draw();
  }

  // ------------------------------------------------------------------ actions

  async act(action) {
    if (this.busy) return;
    this.busy = true;
    for (const b of this.app.main.querySelectorAll("button[data-action]")) b.disabled = true;
    try {
      const sale = await post(`${this.path}/${action}`);
      if (!this.active) return;
      if (action === "rescan") {
        this.cameraTried = false;
        this.cameraState = "off";
      }
      this.scanError = null;
      this.merchant = null;
      this.sale = sale;
      if (sale.screen.id !== "scan") this.stopCamera();
      this.draw();
    } catch (error) {
      this.app.showError(error);
      if (this.active) this.draw();
    } finally {
      this.busy = false;
    }
  }

  async reprint() {
    try {
      const answer = await post(`${this.path}/reprint`);
      this.app.toast(answer.printed ? t("printed") : t("print_failed"), answer.printed ? "success" : "error");
    } catch (error) {
      this.app.showError(error);
    }
  }
}
