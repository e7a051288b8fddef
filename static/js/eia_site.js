/* The EIA approval form's site map: click to place a point (fills 经度/纬度) or draw a polygon
   (fills the WKT/GeoJSON field with a GeoJSON polygon). Config in data attributes (CSP: no inline script). */
(function () {
  "use strict";
  var L = window.L;
  var el = document.getElementById("eia-site-map");
  if (!L || !el) return;
  var lon = document.getElementById("eia-lon");
  var lat = document.getElementById("eia-lat");
  var geom = document.getElementById("eia-geom");
  var map = L.map(el, { attributionControl: !!el.dataset.basemapUrl }).setView([43.88, 125.32], 9);
  if (el.dataset.basemapUrl) {
    L.tileLayer(el.dataset.basemapUrl, { attribution: el.dataset.basemapAttribution || "", maxZoom: 18 }).addTo(map);
  }
  var mode = "point";
  var vertices = [];
  var shown = L.layerGroup().addTo(map);
  function round(v) { return Math.round(v * 1e6) / 1e6; }
  function redraw() {
    shown.clearLayers();
    if (mode === "point" && lon.value && lat.value) {
      L.circleMarker([Number(lat.value), Number(lon.value)], { radius: 8, color: "#c62828" }).addTo(shown);
    } else if (vertices.length) {
      L.polygon(vertices, { color: "#c62828", weight: 2 }).addTo(shown);
    }
  }
  function setMode(next) {
    mode = next;
    vertices = [];
    el.setAttribute("data-mode", next);
    redraw();
  }
  map.on("click", function (e) {
    if (mode === "point") {
      lon.value = round(e.latlng.lng);
      lat.value = round(e.latlng.lat);
      geom.value = "";
    } else {
      vertices.push([round(e.latlng.lat), round(e.latlng.lng)]);
      if (vertices.length >= 3) {
        var ring = vertices.map(function (v) { return [v[1], v[0]]; });
        ring.push(ring[0]);
        geom.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
        lon.value = "";
        lat.value = "";
      }
    }
    redraw();
  });
  document.getElementById("eia-draw-point").addEventListener("click", function () { setMode("point"); });
  document.getElementById("eia-draw-polygon").addEventListener("click", function () { setMode("polygon"); });
  document.getElementById("eia-draw-clear").addEventListener("click", function () {
    lon.value = ""; lat.value = ""; geom.value = ""; setMode(mode);
  });
  redraw();
})();
