/* Frankly dashboard charts. Reads the data of each chart from a
   <script type="application/json" data-chart="KIND" data-canvas="ID"> block (never executed,
   so the page needs no inline script) and draws it with Chart.js (the global `Chart`).
   Works the same in a self-contained report file that inlines Chart.js and this script. */
(function () {
  "use strict";
  var COLORS = {negative: "#c93c3c", neutral: "#7b8190", positive: "#23895a",
                mixed: "#a26a12", volume: "#2f5bd3", urgent: "#b8328a"};

  function alpha(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
  }

  function pct(v) { return v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%"; }

  var percentAxis = {min: 0, max: 1, ticks: {callback: function (v) { return pct(v); }}};
  var timeAxis = {ticks: {maxRotation: 0, autoSkip: true, maxTicksLimit: 10}};
  var base = {responsive: true, maintainAspectRatio: false, animation: false,
              interaction: {mode: "index", intersect: false},
              plugins: {legend: {position: "bottom", labels: {boxWidth: 12}}}};

  function merge(a, b) { return Object.assign({}, a, b); }

  var builders = {
    // Items per period (bars); a withheld period is a gap.
    volume: function (d) {
      return {type: "bar", data: {labels: d.periods, datasets: [{
        label: "Items", data: d.volume, backgroundColor: alpha(COLORS.volume, 0.75)}]},
        options: merge(base, {scales: {x: timeAxis, y: {beginAtZero: true, ticks: {precision: 0}}},
                              plugins: {legend: {display: false}}})};
    },
    // Share of each label per period, each with its 95% interval as a band.
    shares: function (d) {
      var sets = [];
      d.labels.forEach(function (label) {
        var s = d.shares[label], c = COLORS[label] || "#444";
        sets.push({label: label + " 95% low", data: s.low, borderWidth: 0, pointRadius: 0,
                   fill: false, spanGaps: false, _band: true});
        sets.push({label: label + " 95% interval", data: s.high, borderWidth: 0,
                   pointRadius: 0, backgroundColor: alpha(c, 0.15), fill: "-1",
                   spanGaps: false, _band: true});
        sets.push({label: label, data: s.share, borderColor: c, backgroundColor: c,
                   borderWidth: 2, pointRadius: d.periods.length > 60 ? 0 : 2,
                   fill: false, spanGaps: false});
      });
      return {type: "line", data: {labels: d.periods, datasets: sets},
        options: merge(base, {scales: {x: timeAxis, y: percentAxis}, plugins: {
          legend: {position: "bottom", labels: {boxWidth: 12, filter: function (item, data) {
            return !data.datasets[item.datasetIndex]._band; }}},
          tooltip: {filter: function (item) { return !item.dataset._band; },
                    callbacks: {label: function (ctx) {
                      var s = d.shares[ctx.dataset.label], i = ctx.dataIndex;
                      return ctx.dataset.label + ": " + pct(s.share[i]) + " (95% CI " +
                        pct(s.low[i]) + "–" + pct(s.high[i]) + ")"; }}}}})};
    },
    // Negative share of mentions per category: this range and the one before (when given).
    aspects: function (d, canvas) {
      // A bar per category: the box grows with them (CSSOM, which the page's CSP allows).
      canvas.parentNode.style.height = (90 + 30 * d.categories.length) + "px";
      var sets = [{label: "Negative share (this range)", data: d.share,
                   backgroundColor: alpha(COLORS.negative, 0.8)}];
      if (d.previous) {
        sets.push({label: "Previous range", data: d.previous,
                   backgroundColor: alpha(COLORS.neutral, 0.5)});
      }
      return {type: "bar", data: {labels: d.categories, datasets: sets},
              options: merge(base, {indexAxis: "y", scales: {x: percentAxis},
                                    interaction: {mode: "nearest", axis: "y", intersect: false},
                                    plugins: {legend: {position: "bottom"}, tooltip: {callbacks: {
                                      label: function (ctx) {
                                        return ctx.dataset.label + ": " + pct(ctx.raw); }}}}})};
    },
    // The series the alert tests read: negative share (line) and urgent items (bars).
    alerts: function (d) {
      return {type: "bar", data: {labels: d.periods, datasets: [
        {type: "line", label: "Negative share", data: d.negative_share, yAxisID: "share",
         borderColor: COLORS.negative, backgroundColor: COLORS.negative, pointRadius: 2},
        {type: "bar", label: "Urgent items", data: d.urgent, yAxisID: "count",
         backgroundColor: alpha(COLORS.urgent, 0.55)}
      ]}, options: merge(base, {scales: {
        x: timeAxis, share: merge(percentAxis, {position: "left"}),
        count: {position: "right", beginAtZero: true, ticks: {precision: 0},
                grid: {drawOnChartArea: false}}}})};
    }
  };

  function draw() {
    if (typeof Chart === "undefined") { return; }
    var drawn = [];
    document.querySelectorAll('script[type="application/json"][data-chart]').forEach(
      function (block) {
        var canvas = document.getElementById(block.getAttribute("data-canvas"));
        var build = builders[block.getAttribute("data-chart")];
        if (!canvas || !build) { return; }
        drawn.push(new Chart(canvas, build(JSON.parse(block.textContent), canvas)));
      });
    window.franklyCharts = drawn;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
