/* The unified social credit code check (GB 32100-2015), as the server does it
   (scanpay.host.domain.uscc): 18 characters of the alphabet below; the last is
   alphabet[(31 - sum(value(c_i) * 3^i mod 31) mod 31) mod 31] over the first 17.
   A classic script: it defines window.scanpayUscc and checks every input
   marked data-uscc as it is typed. */
(function (global) {
  "use strict";
  var ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  var WEIGHTS = [];
  for (var i = 0, w = 1; i < 17; i++, w = (w * 3) % 31) WEIGHTS.push(w);

  function normalize(text) {
    return String(text).trim().toUpperCase();
  }

  /* The check character of 17 characters, or null when they are not 17 of the alphabet. */
  function checkCharacter(first17) {
    if (first17.length !== 17) return null;
    var total = 0;
    for (var i = 0; i < 17; i++) {
      var value = ALPHABET.indexOf(first17.charAt(i));
      if (value < 0) return null;
      total += value * WEIGHTS[i];
    }
    return ALPHABET.charAt((31 - (total % 31)) % 31);
  }

  /* True when text (already normalised) is a valid code: the server's is_valid_uscc. */
  function isValid(text) {
    if (text.length !== 18) return false;
    for (var i = 0; i < 18; i++) if (ALPHABET.indexOf(text.charAt(i)) < 0) return false;
    return checkCharacter(text.slice(0, 17)) === text.charAt(17);
  }

  /* What to tell the person typing: {state: ok|bad|short|chars|empty, expected, missing}. */
  function explain(raw) {
    var text = normalize(raw);
    if (!text) return { state: "empty" };
    for (var i = 0; i < text.length; i++) {
      if (ALPHABET.indexOf(text.charAt(i)) < 0) return { state: "chars" };
    }
    if (text.length < 18) return { state: "short", missing: 18 - text.length };
    if (text.length > 18) return { state: "chars" };
    var expected = checkCharacter(text.slice(0, 17));
    return expected === text.charAt(17) ? { state: "ok" } : { state: "bad", expected: expected };
  }

  global.scanpayUscc = { ALPHABET: ALPHABET, WEIGHTS: WEIGHTS, normalize: normalize,
    checkCharacter: checkCharacter, isValid: isValid, explain: explain };

  function attach(input) {
    var out = document.getElementById(input.id + "-check");
    function show() {
      var r = explain(input.value);
      var message = "";
      if (r.state === "ok") message = input.dataset.ok;
      else if (r.state === "bad") message = input.dataset.bad.replace("{expected}", r.expected);
      else if (r.state === "short") message = input.dataset.short.replace("{n}", r.missing);
      else if (r.state === "chars") message = input.dataset.chars;
      input.setCustomValidity(r.state === "ok" || r.state === "empty" ? "" : message);
      input.classList.toggle("valid", r.state === "ok");
      input.classList.toggle("invalid", r.state === "bad" || r.state === "chars");
      if (out) { out.textContent = message; out.className = "hint uscc-" + r.state; }
    }
    input.addEventListener("input", show);
    if (input.value) show();
  }

  if (typeof document !== "undefined") {
    document.addEventListener("DOMContentLoaded", function () {
      var inputs = document.querySelectorAll("input[data-uscc]");
      for (var i = 0; i < inputs.length; i++) attach(inputs[i]);
    });
  }
})(typeof window !== "undefined" ? window : globalThis);
