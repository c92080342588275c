// On-screen keypads: the amount (with a decimal point) and PINs (digits only).

import { h } from "./dom.js";
import { t } from "./i18n.js";

/**
 * The amount text after pressing `key` ("0"-"9", "00", ".", "back", "clear").
 * At most `exponent` decimals, no leading zeros, at most 10 integer digits.
 */
export function typeAmount(text, key, exponent = 2) {
  if (key === "clear") return "";
  if (key === "back") return text.slice(0, -1);
  if (key === ".") {
    if (exponent === 0 || text.includes(".")) return text;
    return (text || "0") + ".";
  }
  if (!/^\d{1,2}$/.test(key)) return text;
  let next = text;
  for (const digit of key) {
    const [whole, fraction] = next.split(".");
    if (fraction !== undefined) {
      if (fraction.length >= exponent) break;
      next += digit;
    } else if (whole === "0") {
      next = digit;
    } else if (whole.length < 10) {
      next += digit;
    }
  }
  return next === "00" ? "0" : next;
}

/** A keypad; `onKey(key)` gets "0".."9", "00", ".", "back", "clear". */
export function keypad(onKey, { decimal = true, label = "keypad" } = {}) {
  const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9",
    decimal ? "." : "clear", "0", decimal ? "00" : "back"];
  const names = { back: "⌫", clear: "C" };
  const pad = h("div", { class: "keypad", role: "group", "aria-label": label });
  for (const key of keys) {
    pad.appendChild(
      h(
        "button",
        {
          type: "button",
          class: ["key", names[key] ? "key-fn" : null],
          dataset: { key },
          "aria-label": key === "back" ? t("delete") : key === "clear" ? t("clear") : key,
          on: { click: () => onKey(key) },
        },
        names[key] || key,
      ),
    );
  }
  if (decimal) {
    pad.appendChild(
      h("button", { type: "button", class: "key key-fn", dataset: { key: "back" },
        "aria-label": t("delete"), on: { click: () => onKey("back") } }, "⌫"),
    );
    pad.appendChild(
      h("button", { type: "button", class: "key key-fn key-wide", dataset: { key: "clear" },
        on: { click: () => onKey("clear") } }, t("clear")),
    );
  }
  return pad;
}
