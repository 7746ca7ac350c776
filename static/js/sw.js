/* Portevoix service worker, served at /sw.js (notifications/pwa.py), which puts
   self.PORTEVOIX_SW = {version, precache, offlineUrl, logoutUrl, staticUrl, iconUrl} before
   this code. Pages: network first, then the copy kept from the last visit, then the offline
   page. Static files: cache first (their names change with their content in production).
   Never cached: anything but GET, the API, uploaded files, other origins. */
"use strict";

var CONFIG = self.PORTEVOIX_SW || {
  version: "dev",
  precache: ["/offline/"],
  offlineUrl: "/offline/",
  logoutUrl: "/accounts/logout/",
  staticUrl: "/static/",
  iconUrl: "",
};
var PREFIX = "portevoix-";
var SHELL_CACHE = PREFIX + "shell-" + CONFIG.version;
var PAGES_CACHE = PREFIX + "pages-" + CONFIG.version;
var MAX_PAGES = 30;
var NEVER = ["/api/", "/media/", "/s/", "/sw.js", "/django-admin/"];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE).then(function (cache) {
      // The offline page must be there; a missing static file must not stop the install.
      return cache.add(new Request(CONFIG.offlineUrl, { cache: "reload" })).then(function () {
        return Promise.all(
          CONFIG.precache
            .filter(function (url) { return url !== CONFIG.offlineUrl; })
            .map(function (url) { return cache.add(url).catch(function () {}); })
        );
      });
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(
        names
          .filter(function (name) {
            return name.indexOf(PREFIX) === 0 && name !== SHELL_CACHE && name !== PAGES_CACHE;
          })
          .map(function (name) { return caches.delete(name); })
      );
    }).then(function () { return self.clients.claim(); })
  );
});

function sameOrigin(url) {
  return url.origin === self.location.origin;
}

function storable(response) {
  var control = response.headers.get("Cache-Control") || "";
  var type = response.headers.get("Content-Type") || "";
  return response.ok && response.type === "basic" && control.indexOf("no-store") === -1 &&
    type.indexOf("text/html") === 0;
}

function keepPage(request, response) {
  return caches.open(PAGES_CACHE).then(function (cache) {
    return cache.put(request, response).then(function () {
      return cache.keys();
    }).then(function (keys) {
      // Oldest first: drop what is past the limit.
      return Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_PAGES)).map(function (key) {
        return cache.delete(key);
      }));
    });
  });
}

function offlineAnswer(request) {
  return caches.open(PAGES_CACHE).then(function (cache) {
    return cache.match(request);
  }).then(function (kept) {
    return kept || caches.match(CONFIG.offlineUrl);
  }).then(function (answer) {
    return answer || new Response("Offline", {
      status: 503,
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  });
}

function networkFirst(event) {
  var request = event.request;
  return fetch(request).then(function (response) {
    if (storable(response)) {
      event.waitUntil(keepPage(request, response.clone()).catch(function () {}));
    }
    return response;
  }, function () {
    return offlineAnswer(request);
  });
}

function cacheFirst(request) {
  return caches.match(request).then(function (hit) {
    if (hit) {
      return hit;
    }
    return fetch(request).then(function (response) {
      if (response.ok && response.type === "basic") {
        var copy = response.clone();
        caches.open(SHELL_CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (!sameOrigin(url)) {
    return;
  }
  if (request.method !== "GET") {
    // Signing out (a POST) forgets the pages kept for the person who was signed in.
    if (url.pathname === CONFIG.logoutUrl) {
      event.waitUntil(caches.delete(PAGES_CACHE));
    }
    return;
  }
  if (NEVER.some(function (prefix) { return url.pathname.indexOf(prefix) === 0; })) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(event));
  } else if (url.pathname.indexOf(CONFIG.staticUrl) === 0) {
    event.respondWith(cacheFirst(request));
  }
});

/* --- Web push ------------------------------------------------------------------------- */

/* The page a notification opens: a path or URL of this origin only; anything else (another
   site, a javascript: URL, garbage) opens the notification centre instead. */
function notificationTarget(raw) {
  var fallback = new URL("/notifications/", self.location.origin).href;
  if (typeof raw !== "string" || raw === "") {
    return fallback;
  }
  try {
    var url = new URL(raw, self.location.origin);
    return sameOrigin(url) ? url.href : fallback;
  } catch (error) {
    return fallback;
  }
}
self.portevoixNotificationTarget = notificationTarget; // read by tests/e2e/test_pwa.py

self.addEventListener("push", function (event) {
  var data = {};
  if (event.data) {
    try {
      data = event.data.json();
    } catch (error) {
      data = { body: event.data.text() };
    }
  }
  var options = {
    body: typeof data.body === "string" ? data.body : "",
    data: { url: notificationTarget(data.url) },
  };
  if (CONFIG.iconUrl) {
    options.icon = CONFIG.iconUrl;
    options.badge = CONFIG.iconUrl;
  }
  var title = typeof data.title === "string" && data.title ? data.title : "Portevoix";
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = notificationTarget(event.notification.data && event.notification.data.url);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i += 1) {
        if (windows[i].url === target && "focus" in windows[i]) {
          return windows[i].focus();
        }
      }
      // Reuse an open window of the app rather than piling up new ones.
      for (var j = 0; j < windows.length; j += 1) {
        if ("navigate" in windows[j] && sameOrigin(new URL(windows[j].url))) {
          return windows[j].navigate(target).then(function (client) {
            return client ? client.focus() : self.clients.openWindow(target);
          });
        }
      }
      return self.clients.openWindow(target);
    })
  );
});
