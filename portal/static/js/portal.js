// The portal works without this file; it only adds copy buttons, a print button, a live
// countdown and a show-password toggle. Loaded from the app (CSP script-src 'self'), never
// inline.
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "visually-hidden";
      document.body.appendChild(area);
      area.select();
      try {
        document.execCommand("copy") ? resolve() : reject(new Error("copy refused"));
      } catch (err) {
        reject(err);
      } finally {
        document.body.removeChild(area);
      }
    });
  }

  function setUpCopy(button) {
    // The status right after the button (the amount's), else the one beside it (the code's).
    var next = button.nextElementSibling;
    var status = next && next.getAttribute("role") === "status"
      ? next : button.parentNode.querySelector(".copy-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(button.getAttribute("data-copy")).then(function () {
        if (status) {
          status.textContent = button.getAttribute("data-copied");
          window.setTimeout(function () { status.textContent = ""; }, 4000);
        }
      }, function () {
        // Copying is not allowed here: the code stays on screen to copy by hand.
      });
    });
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function setUpCountdown(element) {
    var expires = Date.parse(element.getAttribute("data-expires"));
    if (isNaN(expires)) { return; }
    function tick() {
      var seconds = Math.floor((expires - Date.now()) / 1000);
      // Only in the last two days, when minutes start to matter.
      if (seconds <= 0 || seconds > 2 * 86400) { element.hidden = true; return; }
      var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
      element.textContent = "(" + h + ":" + pad(m) + ":" + pad(s) + ")";
      element.hidden = false;
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  // A button beside a password field that shows or hides what was typed.
  function setUpReveal(input) {
    var wrap = document.createElement("div");
    wrap.className = "reveal-wrap";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "reveal";
    button.setAttribute("aria-controls", input.id);
    button.textContent = input.getAttribute("data-show");
    button.addEventListener("click", function () {
      var shown = input.type === "text";
      input.type = shown ? "password" : "text";
      button.textContent = input.getAttribute(shown ? "data-show" : "data-hide");
      input.focus();
    });
    wrap.appendChild(button);
    // Never submit the password as visible text in a form that is being sent.
    if (input.form) {
      input.form.addEventListener("submit", function () { input.type = "password"; });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), setUpCopy);
    Array.prototype.forEach.call(document.querySelectorAll("input[data-reveal]"), setUpReveal);
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
    Array.prototype.forEach.call(document.querySelectorAll(".countdown[data-expires]"), setUpCountdown);
  });
})();
