// Pieces several screens share: buttons, messages, facts, PIN entry, approvals.

import { h } from "./dom.js";
import { pick, t } from "./i18n.js";
import { keypad } from "./keypad.js";

const ZERO_DECIMALS = new Set(["JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG"]);
const THREE_DECIMALS = new Set(["BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD"]);

/** Digits after the decimal point of a currency's amounts. */
export function exponent(currency) {
  if (ZERO_DECIMALS.has(currency)) return 0;
  if (THREE_DECIMALS.has(currency)) return 3;
  return 2;
}

/** Minor units as text, "1234" CNY -> "12.34". */
export function formatMinor(minor, currency) {
  const e = exponent(currency);
  const sign = minor < 0 ? "-" : "";
  const digits = String(Math.abs(minor)).padStart(e + 1, "0");
  return e ? `${sign}${digits.slice(0, -e)}.${digits.slice(-e)}` : `${sign}${digits}`;
}

/** "CNY 12.34" as the big amount of a screen. */
export function money(amountText, currency, attrs = {}) {
  return h("div", { class: "money", ...attrs }, h("small", {}, currency), h("span", { class: "value" }, amountText));
}

export function button(label, onClick, { kind = "", id = null, action = null, big = false, type = "button" } = {}) {
  return h(
    "button",
    { type, id, class: ["btn", kind, big ? "big" : null], dataset: action ? { action } : undefined,
      on: onClick ? { click: onClick } : undefined },
    label,
  );
}

/** A definition list of [label, value] pairs (empty values left out). */
export function facts(pairs, attrs = {}) {
  const dl = h("dl", { class: "facts", ...attrs });
  for (const [label, value, id] of pairs) {
    if (value === null || value === undefined || value === "") continue;
    dl.append(h("dt", {}, label), h("dd", { id: id || null }, value));
  }
  return dl;
}

export function notice(text, tone = "info", attrs = {}) {
  return h("div", { class: ["notice", tone], role: tone === "error" ? "alert" : "status", ...attrs }, text);
}

/** What an error answer says, in the screen's language. */
export function errorText(error, texts) {
  if (!error) return "";
  if (error.code === "code_refused" && error.detail?.message && texts?.errors?.code_refused) {
    return pick(texts.errors.code_refused).split("{reason}").join(pick(error.detail.message));
  }
  return pick(error.texts) || error.message || String(error);
}

/** A PIN field with an on-screen keypad. `.input` is the <input>. */
export function pinEntry({ id = "pin", label = t("pin"), onEnter = null } = {}) {
  const input = h("input", {
    id, class: "text", type: "password", inputmode: "numeric", autocomplete: "off",
    maxlength: "8", pattern: "[0-9]*", "aria-label": label,
  });
  if (onEnter) {
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        onEnter();
      }
    });
  }
  input.addEventListener("input", () => {
    input.value = input.value.replace(/\D/g, "").slice(0, 8);
  });
  const pad = keypad((key) => {
    if (key === "back") input.value = input.value.slice(0, -1);
    else if (key === "clear") input.value = "";
    else if (/^\d$/.test(key) && input.value.length < 8) input.value += key;
  }, { decimal: false, label });
  const element = h("div", { class: "pin-entry stack" },
    h("label", { class: "field" }, h("span", {}, label), input), pad);
  return { element, input };
}

/**
 * A supervisor's approval: nothing to type when a supervisor is logged in,
 * else a choice of supervisor and their PIN. `value()` gives what the API takes;
 * `previous` is the approval this one replaces on a redraw (its input is kept).
 */
export function supervisorApproval(app, previous = null) {
  const me = app.operator;
  if (me?.role === "supervisor") {
    return {
      element: notice(t("approve_as", { name: me.name }), "info", { id: "approved-by" }),
      value: () => null,
      clear: () => {},
    };
  }
  const supervisors = app.operators.filter((op) => op.role === "supervisor");
  let chosen = previous?.chosen?.() || supervisors[0]?.operator_id || "";
  const choice = h("div", { class: "row", role: "radiogroup", "aria-label": t("supervisor") });
  const drawChoice = () => {
    choice.replaceChildren(
      ...supervisors.map((op) =>
        h("button", {
          type: "button", class: ["btn", op.operator_id === chosen ? "primary" : null],
          role: "radio", "aria-checked": String(op.operator_id === chosen),
          dataset: { supervisor: op.operator_id },
          on: { click: () => { chosen = op.operator_id; drawChoice(); } },
        }, `${op.name} (${op.operator_id})`),
      ),
    );
  };
  drawChoice();
  const pin = pinEntry({ id: "supervisor-pin", label: t("supervisor_pin") });
  // A redraw (a language switch, a refreshed report) keeps what was typed.
  pin.input.value = previous?.value?.()?.pin || "";
  return {
    chosen: () => chosen,
    element: h("div", { class: "stack supervisor" }, h("h3", {}, t("supervisor")), choice, pin.element),
    value: () => ({ operator_id: chosen, pin: pin.input.value }),
    clear: () => { pin.input.value = ""; },
  };
}

/** Seconds left until `deadline` (unix seconds), never negative. */
export function secondsLeft(deadline) {
  return Math.max(0, Math.ceil(deadline - Date.now() / 1000));
}

const ICONS = { success: "✓", error: "✕", warning: "!", info: "i", progress: "…" };

export function toneIcon(tone) {
  return h("div", { class: "icon", "aria-hidden": "true" }, ICONS[tone] || "i");
}
