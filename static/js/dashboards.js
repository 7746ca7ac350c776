/* Dashboards: draws the trend charts from the numbers the server embeds (a JSON script
   block, translated labels included) and keeps them in step with htmx updates.
   Loaded as an external file (CSP: script-src 'self'). */
(function () {
  "use strict";

  var COLOURS = ["#1d4ed8", "#15803d", "#b45309", "#7c3aed"];
  var charts = [];

  function draw(root) {
    if (typeof window.Chart === "undefined") {
      return;
    }
    charts.forEach(function (chart) { chart.destroy(); });
    charts = [];
    (root || document).querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source) {
        return;
      }
      var data = JSON.parse(source.textContent);
      var chart = new window.Chart(canvas, {
        type: "line",
        data: {
          labels: data.labels,
          datasets: data.datasets.map(function (set, index) {
            return {
              label: set.label,
              data: set.data,
              borderColor: COLOURS[index % COLOURS.length],
              backgroundColor: COLOURS[index % COLOURS.length],
              tension: 0.1,
              pointRadius: data.labels.length > 40 ? 0 : 2
            };
          })
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          interaction: { mode: "index", intersect: false },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
      canvas.setAttribute("data-drawn", String(data.labels.length));
      charts.push(chart);
    });
  }

  // Typing a date means a custom period; runs before htmx sends the form (capture phase).
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.form || !input.form.hasAttribute("data-dashboard-filters")) {
      return;
    }
    if (input.name === "start" || input.name === "end") {
      var period = input.form.querySelector("select[name=period]");
      if (period) {
        period.value = "custom";
      }
    }
  }, true);

  document.addEventListener("htmx:afterSwap", function () {
    draw(document);
    // The report link and the picker's dates follow the new period.
    document.querySelectorAll("[data-report-link]").forEach(function (link) {
      link.setAttribute("href", link.getAttribute("href").split("?")[0] + window.location.search);
    });
    var body = document.querySelector("[data-dashboard-body]");
    var form = document.querySelector("form[data-dashboard-filters]");
    if (body && form) {
      ["start", "end"].forEach(function (name) {
        var value = body.getAttribute("data-" + name);
        var input = form.querySelector("input[name=" + name + "]");
        if (value && input) {
          input.value = value;
        }
      });
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target instanceof Element && event.target.closest("[data-print]")) {
      window.print();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  } else {
    draw(document);
  }
})();
