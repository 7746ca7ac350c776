/* Portevoix front-end behaviour. Loaded as an external file (CSP: script-src 'self'),
   so no inline handlers are needed anywhere. Safe to load with `defer`, before or after htmx. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // (a) Send Django's CSRF token with every htmx request.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  // (b) <select data-autosubmit> submits its form on change (e.g. the language switch).
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-autosubmit")) {
      return;
    }
    var form = select.form;
    if (!form) {
      return;
    }
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit(); // fires submit listeners (htmx, validation)
    } else {
      form.submit();
    }
  });

  // (c) <button data-copy-target="#id" data-copied-label="Copied!"> copies the target's text.
  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy failed"));
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return fallbackCopy(text);
      });
    }
    return fallbackCopy(text);
  }

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-copy-target]") : null;
    if (!button) {
      return;
    }
    var target;
    try {
      target = document.querySelector(button.getAttribute("data-copy-target"));
    } catch (e) {
      target = null; // invalid selector
    }
    if (!target) {
      return;
    }
    event.preventDefault();
    var text = "value" in target && typeof target.value === "string" ? target.value : target.textContent;
    copyText((text || "").trim()).then(function () {
      var label = button.getAttribute("data-copied-label");
      if (!label) {
        return;
      }
      if (!button.hasAttribute("data-original-label")) {
        button.setAttribute("data-original-label", button.textContent);
      }
      button.textContent = label;
      clearTimeout(button._pvCopyTimer);
      button._pvCopyTimer = setTimeout(function () {
        button.textContent = button.getAttribute("data-original-label");
        button.removeAttribute("data-original-label");
      }, 2000);
    }).catch(function () {
      /* Clipboard unavailable: leave the text selectable for manual copy. */
    });
  });

  // (d) <button data-fill-target="#id" data-fill-text="..."> puts a suggested caption into a
  // textarea and tells htmx the text changed (the live compliance check follows).
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-fill-target]") : null;
    if (!button) {
      return;
    }
    var target = document.querySelector(button.getAttribute("data-fill-target"));
    if (!target || !("value" in target)) {
      return;
    }
    event.preventDefault();
    target.value = button.getAttribute("data-fill-text") || "";
    target.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // (e) A table or code block that scrolls inside its own box can be scrolled with the
  // keyboard: it takes the focus (WCAG 2.1.1) while, and only while, it overflows.
  function markScrollableBoxes(root) {
    var boxes = (root || document).querySelectorAll(".table-wrap, pre");
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        if (!box.hasAttribute("tabindex")) {
          box.setAttribute("tabindex", "0");
          box.setAttribute("data-scroll-focus", "");
        }
      } else if (box.hasAttribute("data-scroll-focus")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scroll-focus");
      }
    });
  }
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () { markScrollableBoxes(document); }, 150);
  });
  document.addEventListener("htmx:afterSettle", function (event) { markScrollableBoxes(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { markScrollableBoxes(document); });
  } else {
    markScrollableBoxes(document);
  }
})();
