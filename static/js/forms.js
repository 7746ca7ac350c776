/* Forms that help: after a refused submit, focus moves to the error summary at the top
   (read out by screen readers, seen first by everyone); its links and the highlighted
   words of a refused caption take the person to the place to fix. Loaded as a file
   (CSP: script-src 'self'), with `defer`. */
(function () {
  "use strict";
  // Included by base.html and by some pages directly: run once.
  if (window.portevoixForms) {
    return;
  }
  window.portevoixForms = true;

  function focusSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  }

  // Select `text` inside the field (a textarea or an input) and focus it.
  function selectIn(field, text) {
    field.focus();
    if (!text || typeof field.setSelectionRange !== "function") {
      return;
    }
    var at = field.value.indexOf(text);
    if (at < 0) {
      at = field.value.toLowerCase().indexOf(text.toLowerCase());
    }
    if (at >= 0) {
      field.setSelectionRange(at, at + text.length);
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }
    var link = target.closest("[data-error-link]");
    if (link) {
      var field = document.getElementById(link.getAttribute("data-error-link"));
      if (field) {
        event.preventDefault();
        field.scrollIntoView({ block: "center" });
        field.focus();
      }
      return;
    }
    var jump = target.closest("[data-fix-field]");
    if (jump) {
      var input = document.getElementById(jump.getAttribute("data-fix-field"));
      if (input) {
        event.preventDefault();
        input.scrollIntoView({ block: "center" });
        selectIn(input, jump.getAttribute("data-fix-text"));
      }
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusSummary);
  } else {
    focusSummary();
  }
})();
