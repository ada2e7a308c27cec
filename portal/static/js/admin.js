/* Back office: the till preview of receipt footers, and confirmations before drastic changes.
 * Loaded from the app only (CSP script-src 'self'); everything works without it. */
(function () {
  "use strict";

  var WIDTH = 40;
  var MAXIMUM = 120;

  /* A sentence the page carries in the reader's language (data-too-long, data-unprintable on
   * the error line, rendered by the server's catalog), with its {braces} filled in. */
  function worded(holder, name, values) {
    return (holder.getAttribute(name) || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  /* The same layout as portal/services/receipt.py: cut every 40 characters, pad each line. */
  function layout(text, words) {
    var lines = [];
    var splits = [];
    var error = null;
    if (text.length > MAXIMUM) {
      error = worded(words, "data-too-long", { length: text.length, max: MAXIMUM });
    }
    for (var i = 0; i < text.length && !error; i += 1) {
      var c = text.charAt(i);
      if (c < " " || c > "~") {
        error = worded(words, "data-unprintable", { position: i + 1, char: JSON.stringify(c) });
      }
    }
    if (error) {
      return { lines: [], splits: [], error: error };
    }
    for (var start = 0; start < text.length; start += WIDTH) {
      lines.push(text.slice(start, start + WIDTH));
    }
    for (var n = 0; n + 1 < lines.length; n += 1) {
      if (lines[n].charAt(lines[n].length - 1) !== " " && lines[n + 1].charAt(0) !== " ") {
        splits.push(n + 1);
      }
    }
    return {
      lines: lines.map(function (line) { return line + new Array(WIDTH - line.length + 1).join(" "); }),
      splits: splits,
      error: null
    };
  }

  function redraw(source, preview) {
    var text = source.value || source.getAttribute("data-till-default") || "";
    var error = preview.querySelector("[data-till-error]");
    var result = layout(text, error);
    var paper = preview.querySelector("[data-till-lines]");
    var count = preview.querySelector("[data-till-count]");
    var splits = preview.querySelector("[data-till-splits]");
    var splitLines = preview.querySelector("[data-till-split-lines]");
    paper.textContent = result.lines.map(function (line) { return "|" + line + "|\n"; }).join("");
    count.textContent = String(text.length);
    error.textContent = result.error || "";
    error.hidden = !result.error;
    splits.hidden = result.splits.length === 0;
    splitLines.textContent = result.splits.join(", ");
    preview.classList.toggle("till-bad", Boolean(result.error));
  }

  function bindFooter(source) {
    var preview = document.getElementById(source.getAttribute("data-till-source"));
    if (!preview) { return; }
    source.addEventListener("input", function () { redraw(source, preview); });
    redraw(source, preview);
  }

  function bindInfo(source) {
    var preview = document.getElementById(source.getAttribute("data-till-info-source"));
    var shown = preview && preview.querySelector("[data-till-info]");
    if (!shown) { return; }
    var fallback = source.getAttribute("placeholder") || "";
    source.addEventListener("input", function () { shown.textContent = source.value || fallback; });
  }

  function bindConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  }

  /* A running job's page: read it again and update the facts in place; reload once it ends,
   * for the result. No reload while it runs, so the focus and the reading position stay. */
  function poll(facts) {
    var every = parseInt(facts.getAttribute("data-poll"), 10) || 2000;
    window.setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(facts.id);
          if (!fresh || !fresh.hasAttribute("data-poll")) {
            window.location.reload();
            return;
          }
          facts.innerHTML = fresh.innerHTML;
          facts.setAttribute("data-state", fresh.getAttribute("data-state") || "");
          poll(facts);
        })
        .catch(function () { poll(facts); });
    }, every);
  }

  /* A table wider than the screen (a phone) scrolls in a box of its own; when it does, the
   * box can take the focus, named after the table's heading, so the keyboard scrolls it too. */
  function scrollable(table) {
    var box = document.createElement("div");
    var section = table.closest("section");
    var heading = (section && section.querySelector("h2")) || document.querySelector("h1");
    box.className = "table-scroll";
    table.parentNode.insertBefore(box, table);
    box.appendChild(table);
    function fit() {
      if (box.scrollWidth > box.clientWidth) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", heading ? heading.textContent.trim() : table.id);
      } else {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    }
    fit();
    window.addEventListener("resize", fit);
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.list, table.mix"), scrollable);
    Array.prototype.forEach.call(document.querySelectorAll("[data-poll]"), poll);
    Array.prototype.forEach.call(document.querySelectorAll("[data-till-source]"), bindFooter);
    Array.prototype.forEach.call(document.querySelectorAll("[data-till-info-source]"), bindInfo);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), bindConfirm);
  });
}());
