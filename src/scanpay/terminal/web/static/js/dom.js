// Building the page without HTML strings: every value goes in as text, so a
// note, an operator's name or a host message can never become markup.

/**
 * Make an element. `attrs`: attributes, plus `class`, `dataset`, `on` (event
 * handlers) and `hidden`; children: nodes, strings (as text), arrays, null.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "on") {
      for (const [type, handler] of Object.entries(value)) el.addEventListener(type, handler);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "class") {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    } else if (key === "value") {
      el.value = value;
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replace everything inside `el` with `children`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// The merchant's business timezone (the terminal's, from the host at activation):
// every time on the screen is in it, as on the receipts and in the merchant portal,
// whatever zone the browser's own clock runs in.
let businessZone = null;

/** Show times in `zone` (an IANA name such as "Asia/Shanghai"; null: the browser's). */
export function setTimeZone(zone) {
  businessZone = zone || null;
}

function formatter(options) {
  try {
    return new Intl.DateTimeFormat("en-US", { ...options, timeZone: businessZone || undefined });
  } catch {
    return new Intl.DateTimeFormat("en-US", options); // a zone this browser does not know
  }
}

function toDate(moment) {
  return typeof moment === "string" ? new Date(moment) : new Date(moment * 1000);
}

/** Unix seconds (or an ISO time) as the business day's date and time, "2026-11-27 14:03:05". */
export function when(moment) {
  if (!moment) return "";
  const d = toDate(moment);
  if (Number.isNaN(d.getTime())) return String(moment);
  const p = Object.fromEntries(formatter({
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }).formatToParts(d).map((part) => [part.type, part.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/**
 * The business timezone's offset ("GMT+8") when the browser's own clock runs in
 * another zone, where a time could be misread; "" when both agree.
 */
export function zoneNote(moment = Date.now() / 1000) {
  if (!businessZone) return "";
  const d = toDate(moment);
  const offset = (zone) => {
    try {
      return new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "shortOffset" })
        .formatToParts(d).find((part) => part.type === "timeZoneName")?.value || "";
    } catch {
      return "";
    }
  };
  const business = offset(businessZone);
  return business && business !== offset(undefined) ? business : "";
}

/** `when(moment)` followed by the zone when it could be misread ("… GMT+8"). */
export function whenZoned(moment) {
  const text = when(moment);
  const note = text ? zoneNote(moment) : "";
  return note ? `${text} ${note}` : text;
}
