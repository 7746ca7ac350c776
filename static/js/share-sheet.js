/* The share sheet: a Share button with data-sheet-url opens <dialog id="share-sheet"> over
   the page and fills it with htmx; without JavaScript (or <dialog>) the button is a plain
   link to the full share page. Loaded with defer on every page (CSP: no inline script). */
(function () {
  "use strict";

  var FOCUSABLE =
    'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), ' +
    'select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
  var opener = null;
  var pending = null; // {url, deadline, timer} while a share link's tab is open
  var focusOnReturn = false;

  function sheet() {
    return document.getElementById("share-sheet");
  }

  function sheetBody() {
    return document.getElementById("share-sheet-body");
  }

  function focusables(root) {
    return Array.prototype.filter.call(root.querySelectorAll(FOCUSABLE), function (el) {
      return el.offsetParent !== null || el === document.activeElement;
    });
  }

  function focusInto() {
    var dialog = sheet();
    if (!dialog || !dialog.open) {
      return;
    }
    var target = dialog.querySelector("#share-sheet-body [data-sheet-focus]") || focusables(dialog)[0];
    if (target) {
      target.focus();
    }
  }

  function showMessage(text, busy) {
    var body = sheetBody();
    if (!body) {
      return;
    }
    var p = document.createElement("p");
    p.textContent = text || "";
    p.setAttribute("data-sheet-focus", "");
    p.tabIndex = -1;
    if (busy) {
      p.setAttribute("aria-busy", "true");
    }
    body.replaceChildren(p);
  }

  function stopWaiting() {
    if (pending && pending.timer) {
      clearTimeout(pending.timer);
    }
    pending = null;
  }

  function load(url) {
    var dialog = sheet();
    showMessage(dialog.getAttribute("data-loading-label"), true);
    if (!window.htmx) {
      window.location.href = opener ? opener.getAttribute("href") : url;
      return;
    }
    window.htmx.ajax("GET", url, { target: "#share-sheet-body", swap: "innerHTML" }).then(focusInto);
  }

  function open(trigger) {
    var dialog = sheet();
    if (!dialog || typeof dialog.showModal !== "function") {
      return false;
    }
    stopWaiting();
    opener = trigger;
    dialog.showModal();
    focusInto();
    load(trigger.getAttribute("data-sheet-url"));
    return true;
  }

  function close() {
    var dialog = sheet();
    if (dialog && dialog.open) {
      dialog.close();
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) {
      return;
    }
    var trigger = target.closest("[data-sheet-url]");
    if (trigger && !trigger.hasAttribute("aria-disabled")) {
      if (open(trigger)) {
        event.preventDefault();
      }
      return;
    }
    var dialog = sheet();
    if (!dialog || !dialog.open) {
      return;
    }
    if (target === dialog || (target.closest("[data-sheet-close]") && dialog.contains(target))) {
      // A click on the backdrop (the dialog itself, outside its article) closes too.
      event.preventDefault();
      close();
      return;
    }
    // One suggestion is the current one.
    var fill = target.closest(".share-sheet-alternatives [data-fill-target]");
    if (fill) {
      Array.prototype.forEach.call(fill.parentNode.querySelectorAll("[aria-pressed]"), function (b) {
        b.setAttribute("aria-pressed", b === fill ? "true" : "false");
      });
    }
  });

  // A link styled as a button answers Space as a button does.
  document.addEventListener("keydown", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (event.key === " " && target && target.matches("a[data-sheet-url]")) {
      event.preventDefault();
      target.click();
      return;
    }
    var dialog = sheet();
    if (event.key !== "Tab" || !dialog || !dialog.open) {
      return;
    }
    // Keep Tab inside the sheet (showModal alone lets it reach the browser's own UI).
    var items = focusables(dialog);
    if (!items.length) {
      event.preventDefault();
      return;
    }
    var first = items[0];
    var last = items[items.length - 1];
    var inside = dialog.contains(document.activeElement);
    if (event.shiftKey && (document.activeElement === first || !inside)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
      event.preventDefault();
      first.focus();
    }
  });

  document.addEventListener(
    "close",
    function (event) {
      if (event.target !== sheet()) {
        return;
      }
      stopWaiting();
      focusOnReturn = false;
      var body = sheetBody();
      if (body) {
        body.replaceChildren();
      }
      if (opener && document.contains(opener)) {
        opener.focus();
      }
      opener = null;
    },
    true
  );

  // --- share links: the network opens in a new tab; "Did you post it?" waits here -------

  function showPrompt(html) {
    var body = sheetBody();
    stopWaiting();
    if (!body || !sheet().open) {
      return;
    }
    body.innerHTML = html;
    if (window.htmx) {
      window.htmx.process(body);
    }
    if (document.visibilityState === "visible" && document.hasFocus()) {
      focusInto();
    } else {
      focusOnReturn = true;
    }
  }

  function poll() {
    if (!pending) {
      return;
    }
    var current = pending;
    fetch(current.url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (pending !== current) {
          return;
        }
        if (response.status === 200) {
          return response.text().then(showPrompt);
        }
        if (Date.now() < current.deadline) {
          current.timer = setTimeout(poll, 700);
        }
      })
      .catch(function () {
        if (pending === current && Date.now() < current.deadline) {
          current.timer = setTimeout(poll, 1500);
        }
      });
  }

  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (!submitter || !submitter.hasAttribute("data-sheet-link")) {
      return;
    }
    // The form goes on to the new tab (formtarget); this tab asks for the share it made.
    stopWaiting();
    pending = { url: submitter.getAttribute("data-sheet-link"), deadline: Date.now() + 60000, timer: null };
    pending.timer = setTimeout(poll, 400);
  });

  function onReturn() {
    if (document.visibilityState !== "visible") {
      return;
    }
    if (pending) {
      // Back from the network's tab before the prompt came: ask now, and again for a while.
      clearTimeout(pending.timer);
      pending.deadline = Math.max(pending.deadline, Date.now() + 30000);
      poll();
    } else if (focusOnReturn) {
      focusOnReturn = false;
      focusInto();
    }
  }
  document.addEventListener("visibilitychange", onReturn);
  window.addEventListener("focus", onReturn);

  // --- htmx inside the sheet ----------------------------------------------------------------

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "share-sheet-body") {
      focusInto();
    }
  });
  document.addEventListener("htmx:responseError", function (event) {
    var dialog = sheet();
    var target = event.detail && event.detail.target;
    if (dialog && dialog.open && target && target.id === "share-sheet-body") {
      showMessage(dialog.getAttribute("data-error-label"), false);
      focusInto();
    }
  });
  document.addEventListener("htmx:sendError", function (event) {
    var dialog = sheet();
    var target = event.detail && event.detail.target;
    if (dialog && dialog.open && target && target.id === "share-sheet-body") {
      showMessage(dialog.getAttribute("data-error-label"), false);
      focusInto();
    }
  });
})();
