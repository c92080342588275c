// A keyboard-wedge (USB scanner gun) parser. A scanner "types" its code much
// faster than a person and ends it with Enter; this tells the two apart.
//
// Pure: WedgeParser gets (key, time in ms) pairs and decides; attachWedge()
// connects it to a document's keydown events. It never takes keys from a text
// field (the PIN field, the amount, the note, the paste box): those keep every
// keystroke, scanner or not.
//
// A scan is one burst: characters no more than `maxGap` apart, ended by the
// gun's terminator (Enter, or Tab when configured). On a busy till the keys of
// one burst do not always arrive evenly: the USB stack or the browser can hold
// them back for a moment, then deliver the rest at full speed. So once a burst
// is known to be the gun's (its first `minBurst` characters came fast), a gap
// of up to `maxStall` does not start a new scan, provided the keys then keep
// coming fast again: two slow gaps in a row are a person, not a stalled gun.
// A stall right before the terminator is tolerated the same way.
//
// A burst that never gets its terminator (it stops for longer than `maxStall`,
// or slows down to typing speed) is dropped, not completed: a gun always sends
// its terminator, so a burst without one lost its end somewhere, and a code read
// without its end could be a different code. Nothing happens on screen and the
// cashier scans again.

export const DEFAULTS = Object.freeze({
  maxGap: 80, // ms between two keys of one scan; a person types slower
  maxStall: 1000, // ms a gun's burst may stall once before its keys come fast again
  minBurst: 3, // characters that must come fast before a burst counts as the gun's
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
    this.keys = 0; // keys of the burst so far, stripped ones included
    this.last = null; // time of the last key of the burst
    this.run = 0; // keys that came fast since the burst began (until it is the gun's)
    this.gun = false; // the burst began fast enough to be the gun's: it may stall
    this.stalled = false; // the last key came after a stall: the next must come fast
    this.overflow = false; // a burst longer than maxLength: ignored to its end
  }

  /** Whether a key at `time` carries on the burst (else the burst is over). */
  continues(time) {
    if (this.last === null) return false;
    const gap = time - this.last;
    if (gap <= this.options.maxGap) return true;
    return this.gun && !this.stalled && gap <= this.options.maxStall;
  }

  /** Count a key of the burst, at `time`, that came `fast` after the previous one. */
  step(time, fast) {
    this.keys += 1;
    if (this.keys > 1) this.stalled = !fast;
    if (!this.gun) {
      this.run = fast ? this.run + 1 : 1;
      this.gun = this.run >= this.options.minBurst;
    }
    this.last = time;
  }

  /**
   * One keystroke: `key` as KeyboardEvent.key, `time` in ms. Returns
   * `{scan, consume}`: `scan` is the code when this key completed one (else
   * null); `consume` says the key is part of a scan and should not reach the page.
   */
  push(key, time) {
    const { maxGap, minLength, maxLength, terminators } = this.options;
    if (MODIFIERS.has(key)) {
      // Shift for capitals: neither part of the code nor a break in the burst.
      return { scan: null, consume: false };
    }
    const fast = this.last !== null && time - this.last <= maxGap;
    const continuing = this.continues(time);
    // A burst that stopped without its terminator is dropped (see the top of the file).
    if (!continuing) this.reset();
    const ended = terminators.includes(key);
    if (this.overflow) {
      if (ended) this.reset();
      else this.step(time, fast);
      return { scan: null, consume: false };
    }
    if (ended) {
      const text = cleanScan(this.buffer);
      this.reset();
      if (continuing && text.length >= minLength) return { scan: text, consume: true };
      return { scan: null, consume: false };
    }
    if (typeof key !== "string" || key.length !== 1) {
      // A named key (arrows, Escape, F-keys, "Unidentified"): a control key inside a
      // fast burst is stripped; otherwise (typed slowly, or right after a stall,
      // where a person's Escape should not vanish) it ends whatever was collected.
      if (fast) {
        this.step(time, fast);
        return { scan: null, consume: true };
      }
      this.reset();
      return { scan: null, consume: false };
    }
    if (cleanScan(key) !== "" || key === " ") this.buffer += key;
    this.step(time, fast);
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
