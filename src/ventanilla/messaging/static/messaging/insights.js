/* Message insights, drawn from the numbers the page already shows in its tables (the JSON element
   "insights-data"): a chart above each table (Chart.js) and, when the operator configured map tiles,
   one circle per municipality (Leaflet). Without JavaScript, or when a library fails to load, the
   tables stay the whole content. Hidden small numbers (null) are drawn as nothing and labelled "<5". */
(function () {
  "use strict";
  var source = document.getElementById("insights-data");
  if (!source) return;
  var data;
  try { data = JSON.parse(source.textContent); } catch (e) { return; }
  var rtl = document.documentElement.dir === "rtl";

  function charts() {
    if (!window.Chart || !data.tables) return;
    document.querySelectorAll("[data-chart]").forEach(function (section) {
      var table = data.tables[section.dataset.chart];
      var grid = section.querySelector("table");
      if (!table || !table.labels.length || !grid) return;
      var shown = table.conversations.concat(table.messages).some(function (v) { return v !== null; });
      if (!shown) return; // every count hidden as a small number: nothing to draw
      var heads = grid.querySelectorAll("thead th");
      var box = document.createElement("div");
      box.className = "insights-chart";
      var canvas = document.createElement("canvas");
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", table.title);
      box.appendChild(canvas);
      section.insertBefore(box, grid);
      var weekly = section.dataset.chart === "week";
      new window.Chart(canvas, {
        type: weekly ? "line" : "bar",
        data: {
          labels: table.labels,
          datasets: [
            { label: heads[1] ? heads[1].textContent : "", data: table.conversations, backgroundColor: "#0b5f8a", borderColor: "#0b5f8a" },
            { label: heads[2] ? heads[2].textContent : "", data: table.messages, backgroundColor: "#9cc3d8", borderColor: "#9cc3d8" }
          ]
        },
        options: {
          indexAxis: weekly ? "x" : "y",
          maintainAspectRatio: false,
          animation: false,
          locale: document.documentElement.lang,
          plugins: {
            tooltip: {
              rtl: rtl,
              callbacks: {
                label: function (item) {
                  return item.dataset.label + ": " + (item.raw === null ? "<5" : item.raw);
                }
              }
            },
            legend: { rtl: rtl }
          },
          scales: weekly ? { y: { beginAtZero: true, ticks: { precision: 0 } } }
                         : { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { reverse: false } }
        }
      });
    });
  }

  function map() {
    var box = document.getElementById("insights-map");
    if (!box || !window.L || !data.areas || !data.areas.length) return;
    box.hidden = false;
    var note = box.parentNode.querySelector(".map-note");
    if (note) note.hidden = false;
    var leaflet = window.L.map(box, { scrollWheelZoom: false });
    var loaded = 0, failed = 0;
    var tiles = window.L.tileLayer(box.dataset.tiles, { maxZoom: 12 });
    tiles.on("tileload", function () { loaded += 1; });
    tiles.on("tileerror", function () {
      failed += 1;
      if (failed >= 3 && !loaded) {
        leaflet.remove();
        box.hidden = true;
        if (note) note.hidden = true;
        var failure = box.parentNode.querySelector(".map-failed");
        if (failure) failure.hidden = false;
      }
    });
    tiles.addTo(leaflet);
    var largest = 1;
    data.areas.forEach(function (a) { if (a.conversations !== null && a.conversations > largest) largest = a.conversations; });
    var bounds = [];
    data.areas.forEach(function (a) {
      // Area follows the count; hidden small numbers get the smallest circle.
      var count = a.conversations === null ? 0 : a.conversations;
      var radius = 5 + 25 * Math.sqrt(count / largest);
      var circle = window.L.circleMarker([a.lat, a.lon], {
        radius: radius, color: "#0b5f8a", weight: 1, fillOpacity: 0.45
      }).addTo(leaflet);
      circle.bindTooltip(a.label + ": " + (a.conversations === null ? "<5" : a.conversations));
      bounds.push([a.lat, a.lon]);
    });
    if (bounds.length === 1) leaflet.setView(bounds[0], 9);
    else leaflet.fitBounds(bounds, { padding: [30, 30], maxZoom: 10 });
  }

  charts();
  map();
})();
