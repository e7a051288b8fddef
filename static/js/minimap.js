/* Small maps on the desk (filtered leads) and the lead page (the lead's geometry). No tiles unless configured. */
(function () {
  "use strict";
  var L = window.L;
  function base(map, cfg) {
    if (cfg.basemapUrl) L.tileLayer(cfg.basemapUrl, { attribution: cfg.basemapAttribution || "", maxZoom: 18 }).addTo(map);
  }
  var deskCfg = document.getElementById("desk-map-config");
  if (deskCfg && document.getElementById("desk-map")) {
    var cfg = JSON.parse(deskCfg.textContent);
    var map = L.map("desk-map", { attributionControl: !!cfg.basemapUrl }).setView([43.88, 125.32], 9);
    base(map, cfg);
    fetch(cfg.leadsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        var layer = L.geoJSON(fc, {
          pointToLayer: function (f, ll) {
            return L.circleMarker(ll, { radius: 6, color: "#fff", weight: 1.5, fillColor: f.properties.overdue ? "#c62828" : "#1f6fb2", fillOpacity: 0.9 });
          },
          onEachFeature: function (f, l) {
            var a = document.createElement("a"); a.href = f.properties.url; a.textContent = "#" + f.properties.id + " " + f.properties.title;
            l.bindPopup(a);
          },
        }).addTo(map);
        if (fc.features.length) map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 13 });
        var el = document.getElementById("desk-map");
        el.setAttribute("data-leads", fc.features.map(function (f) { return f.properties.id; }).join(","));
        el.setAttribute("data-loaded", "true");
      });
  }
  var leadCfg = document.getElementById("lead-map-config");
  if (leadCfg && document.getElementById("lead-map")) {
    var c = JSON.parse(leadCfg.textContent);
    var m = L.map("lead-map", { attributionControl: !!c.basemapUrl }).setView([43.88, 125.32], 9);
    base(m, c);
    var drawn = L.featureGroup().addTo(m);
    function label(layer, text) {
      // Names are data: a text node, never HTML.
      var span = document.createElement("span"); span.textContent = text;
      layer.bindTooltip(span, { sticky: true });
    }
    if (c.unit) {
      var u = L.geoJSON(c.unit.geometry, { style: { color: "#1f6fb2", weight: 2, fill: false, dashArray: "6 4" }, interactive: true });
      label(u, c.unit.code + " " + c.unit.name);
      u.addTo(drawn);
    }
    (c.redLines || []).forEach(function (r) {
      var l = L.geoJSON(r.geometry, { style: { color: "#b71c1c", weight: 1.5, fillColor: "#e53935", fillOpacity: 0.15 } });
      label(l, r.code + " " + r.name);
      l.addTo(drawn);
    });
    var g = L.geoJSON(c.site, {
      style: { color: "#c62828", weight: 2, fillOpacity: 0.3 },
      pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 8, color: "#c62828", fillOpacity: 0.8 }); },
    }).addTo(drawn);
    m.fitBounds(drawn.getBounds(), { padding: [12, 12], maxZoom: 16 });
    var el = document.getElementById("lead-map");
    el.setAttribute("data-unit", c.unit ? c.unit.code : "");
    el.setAttribute("data-red-lines", (c.redLines || []).map(function (r) { return r.code; }).join(","));
    el.setAttribute("data-loaded", "true");
  }
})();
