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
    var g = L.geoJSON(c.site, {
      style: { color: "#c62828", weight: 2, fillOpacity: 0.3 },
      pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 8, color: "#c62828", fillOpacity: 0.8 }); },
    }).addTo(m);
    m.fitBounds(g.getBounds(), { maxZoom: 15 });
  }
})();
