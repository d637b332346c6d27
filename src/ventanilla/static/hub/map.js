/* The optional map (only when the operator configured MAP_TILE_URL): the services listed on the page as
   dots on Leaflet tiles. It never shows or centres on the reader's position (a tile server would see
   it); when tiles fail to load, the map is removed and the list, always on the page, is what remains. */
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box || !window.L) return;
  var marks = [];
  document.querySelectorAll("[data-lat][data-lon]").forEach(function (el) {
    var link = el.querySelector("a");
    var lat = parseFloat(el.dataset.lat), lon = parseFloat(el.dataset.lon);
    if (!isNaN(lat) && !isNaN(lon)) marks.push({ at: [lat, lon], link: link });
  });
  if (!marks.length) return;
  box.hidden = false;
  var map = L.map(box, { scrollWheelZoom: false });
  var loaded = 0, failed = 0;
  var tiles = L.tileLayer(box.dataset.tiles, { maxZoom: 18 });
  tiles.on("tileload", function () { loaded += 1; });
  tiles.on("tileerror", function () {
    failed += 1;
    if (failed >= 3 && !loaded) {
      map.remove();
      box.hidden = true;
      var note = box.nextElementSibling;
      if (note && note.classList.contains("map-failed")) note.hidden = false;
    }
  });
  tiles.addTo(map);
  var bounds = [];
  marks.forEach(function (m) {
    var dot = L.circleMarker(m.at, { radius: 7, color: "#0b5f8a", fillOpacity: 0.8 }).addTo(map);
    if (m.link) {
      var a = document.createElement("a");
      a.href = m.link.href;
      a.textContent = m.link.textContent;
      dot.bindPopup(a);
    }
    bounds.push(m.at);
  });
  if (bounds.length === 1) map.setView(bounds[0], 15);
  else map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15 });
})();
