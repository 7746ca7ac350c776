/* The installable app: registers the service worker (/sw.js), offers to install the app
   once, and turns push notifications on or off for this device on the preferences page.
   External file (CSP: script-src 'self'); loaded with defer. */
(function () {
  "use strict";

  var INSTALL_KEY = "portevoix.install-offer"; // "dismissed" or "installed": never offer again

  function remembered() {
    try {
      return window.localStorage.getItem(INSTALL_KEY);
    } catch (error) {
      return "unavailable"; // no storage: do not nag on every page
    }
  }

  function remember(value) {
    try {
      window.localStorage.setItem(INSTALL_KEY, value);
    } catch (error) {
      /* private mode: nothing to keep */
    }
  }

  var registration = null;
  if ("serviceWorker" in navigator) {
    registration = navigator.serviceWorker.register("/sw.js", { scope: "/" });
    registration.catch(function () {
      /* an older browser or a blocked worker: the site works without it */
    });
  }

  /* --- Install offer -------------------------------------------------------------------- */

  var deferredPrompt = null;
  var banner = null;

  function standalone() {
    return window.matchMedia && window.matchMedia("(display-mode: standalone)").matches;
  }

  function hideBanner() {
    if (banner && banner.parentNode) {
      banner.parentNode.removeChild(banner);
    }
    banner = null;
  }

  function dismiss() {
    remember("dismissed");
    deferredPrompt = null;
    hideBanner();
  }

  function showBanner() {
    var template = document.getElementById("pwa-install-template");
    if (banner || !template || !document.body) {
      return;
    }
    banner = template.content.firstElementChild.cloneNode(true);
    banner.querySelector("[data-pwa-install]").addEventListener("click", function () {
      var prompt = deferredPrompt;
      if (!prompt) {
        dismiss();
        return;
      }
      prompt.prompt();
      Promise.resolve(prompt.userChoice).then(function (choice) {
        remember(choice && choice.outcome === "accepted" ? "installed" : "dismissed");
      }, function () {
        remember("dismissed");
      });
      deferredPrompt = null;
      hideBanner();
    });
    banner.querySelector("[data-pwa-dismiss]").addEventListener("click", dismiss);
    banner.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        dismiss();
      }
    });
    document.body.appendChild(banner);
  }

  window.addEventListener("beforeinstallprompt", function (event) {
    if (remembered() || standalone()) {
      return;
    }
    event.preventDefault(); // our banner instead of the browser's, and only once
    deferredPrompt = event;
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", showBanner);
    } else {
      showBanner();
    }
  });

  window.addEventListener("appinstalled", function () {
    remember("installed");
    deferredPrompt = null;
    hideBanner();
  });

  /* --- Push notifications (the preferences page) ---------------------------------------- */

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+")
      .replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) {
          var error = new Error(answer.detail || "HTTP " + response.status);
          error.detail = answer.detail;
          throw error;
        }
        return answer;
      });
    });
  }

  function setupPush(box) {
    var status = box.querySelector("[data-push-status]");
    var enable = box.querySelector("[data-push-enable]");
    var disable = box.querySelector("[data-push-disable]");

    function show(state, text) {
      status.textContent = text || box.getAttribute("data-msg-" + state) || "";
      status.setAttribute("data-state", state);
      enable.hidden = state === "on" || state === "unsupported";
      disable.hidden = state !== "on";
      enable.disabled = state === "working";
      disable.disabled = state === "working";
    }

    var supported = registration && "PushManager" in window && "Notification" in window;
    if (!supported) {
      show("unsupported");
      return;
    }
    if (Notification.permission === "denied") {
      show("denied");
    }

    function currentSubscription() {
      return navigator.serviceWorker.ready.then(function (ready) {
        return ready.pushManager.getSubscription();
      });
    }

    currentSubscription().then(function (subscription) {
      if (subscription && Notification.permission === "granted") {
        // Tell the server again: it forgets a subscription its push service refused.
        return postJson(box.getAttribute("data-subscribe-url"), subscription.toJSON()).then(
          function () { show("on"); }
        );
      }
      return null;
    }).catch(function () {
      /* stays "off"; turning it on again reports any error */
    });

    enable.addEventListener("click", function () {
      show("working");
      Promise.resolve(Notification.requestPermission()).then(function (permission) {
        if (permission !== "granted") {
          show(permission === "denied" ? "denied" : "off");
          return null;
        }
        return navigator.serviceWorker.ready.then(function (ready) {
          return ready.pushManager.getSubscription().then(function (existing) {
            return existing || ready.pushManager.subscribe({
              userVisibleOnly: true,
              applicationServerKey: keyBytes(box.getAttribute("data-public-key")),
            });
          });
        }).then(function (subscription) {
          return postJson(box.getAttribute("data-subscribe-url"), subscription.toJSON());
        }).then(function () {
          show("on");
        });
      }).catch(function (error) {
        show("error", error && error.detail ? error.detail : null);
      });
    });

    disable.addEventListener("click", function () {
      show("working");
      currentSubscription().then(function (subscription) {
        if (!subscription) {
          return null;
        }
        return postJson(box.getAttribute("data-unsubscribe-url"), {
          endpoint: subscription.endpoint,
        }).then(function () {
          return subscription.unsubscribe();
        });
      }).then(function () {
        show("off");
      }).catch(function (error) {
        show("error", error && error.detail ? error.detail : null);
      });
    });
  }

  function init() {
    var box = document.getElementById("push-device");
    if (box) {
      setupPush(box);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
