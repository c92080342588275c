// A keyboard-wedge (USB scanner gun) parser. A scanner "types" its code much
// faster than a person and ends it with Enter; this tells the two apart.
//
// Pure: WedgeParser gets (key, time in ms) pairs and decides; attachWedge()
// connects it to a document's keydown events. It never takes keys from a text
// field (the PIN field, the amount, the note, the paste box): those keep every
// keystroke, scanner or not.

export const DEFAULTS = Object.freeze({
  maxGap: 80, // ms between two keys of one scan; a person types slower
  minLength: 6, // shorter bursts are not a code
  maxLength: 1024,
  terminators: ["Enter"], // what ends a scan ("Tab" too, for scanners set up so)
});

// Keys a scanner sends around characters that are not part of the code.
const MODIFIERS = new Set([
  "Shift", "Control", "Alt", "AltGraph", "Meta", "CapsLock", "NumLock", "ScrollLock",
  "Fn", "OS", "Hyper", "Super",
]);

/** Drop control characters (C0, DEL, C1) and surrounding blanks. */
export function cleanScan(text) {
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, "").trim();
}

/** True when a keystroke on `target` belongs to a field the user types into. */
export function isTextEntry(target) {
  if (!target || typeof target !== "object") return false;
  if (target.isContentEditable) return true;
  const tag = String(target.tagName || "").toUpperCase();
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = String(target.type || "text").toLowerCase();
  return !["button", "submit", "reset", "checkbox", "radio", "range", "color", "file", "image"]
    .includes(type);
}

export class WedgeParser {
  constructor(options = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.reset();
  }

  reset() {
    this.buffer = "";
    this.last = null; // time of the last key of the burst
    this.overflow = false; // a burst longer than maxLength: ignored to its end
  }

  /**
   * One keystroke: `key` as KeyboardEvent.key, `time` in ms. Returns
   * `{scan, consume}`: `scan` is the code when this key completed one (else
   * null); `consume` says the key is part of a scan and should not reach the page.
   */
  push(key, time) {
    const { maxGap, minLength, maxLength, terminators } = this.options;
    const fast = this.last !== null && time - this.last <= maxGap;
    if (MODIFIERS.has(key)) {
      // Shift for capitals: neither part of the code nor a break in the burst.
      return { scan: null, consume: false };
    }
    if (this.overflow) {
      if (fast && !terminators.includes(key)) {
        this.last = time;
        return { scan: null, consume: false };
      }
      const ended = terminators.includes(key);
      this.reset();
      if (ended) return { scan: null, consume: false };
    }
    if (terminators.includes(key)) {
      const text = cleanScan(this.buffer);
      this.reset();
      if (fast && text.length >= minLength) return { scan: text, consume: true };
      return { scan: null, consume: false };
    }
    if (typeof key !== "string" || key.length !== 1) {
      // A named key (arrows, Escape, F-keys, "Unidentified"): a control key inside a
      // fast burst is stripped; typed slowly it ends whatever was collected.
      if (fast && this.buffer) {
        this.last = time;
        return { scan: null, consume: true };
      }
      this.reset();
      return { scan: null, consume: false };
    }
    if (!fast) this.buffer = "";
    const continuing = fast && this.buffer.length > 0;
    if (cleanScan(key) !== "" || key === " ") this.buffer += key;
    this.last = time;
    if (this.buffer.length > maxLength) {
      this.buffer = "";
      this.overflow = true;
      return { scan: null, consume: false };
    }
    return { scan: null, consume: continuing };
  }
}

/**
 * Listen for scanner-gun codes on `doc`. `onScan(text)` gets each code;
 * `isActive()` says whether codes are wanted now. Keys typed into text fields
 * are never looked at. Returns a function that stops listening.
 */
export function attachWedge(doc, { onScan, isActive = () => true, options = {} }) {
  const parser = new WedgeParser(options);
  const listener = (event) => {
    if (event.isComposing || isTextEntry(event.target) || !isActive()) {
      parser.reset();
      return;
    }
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    const { scan, consume } = parser.push(event.key, event.timeStamp);
    if (consume) event.preventDefault();
    if (scan !== null) onScan(scan);
  };
  doc.addEventListener("keydown", listener, true);
  return () => doc.removeEventListener("keydown", listener, true);
}
