/* Small maps: the desk (its filtered leads), the lead page (the lead's unit, red lines and patch) and the
   unit page (the unit among its neighbours). Bulk layers are the server's vector tiles (maptiles.js): the
   leads on the desk, the units and overlays around a lead or a unit. Only the one lead's unit outline,
   red lines and patch come with the lead page (lead-map-config). No basemap tiles unless configured. */
(function () {
  "use strict";
  var L = window.L;
  var T = window.SupervisionMapTiles;
  function base(map, cfg) {
    if (cfg.basemapUrl) L.tileLayer(cfg.basemapUrl, { attribution: cfg.basemapAttribution || "", maxZoom: 18 }).addTo(map);
  }
  function fit(map, bounds, maxZoom) {
    // bounds: [min lon, min lat, max lon, max lat]
    if (bounds) map.fitBounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]], { padding: [20, 20], maxZoom: maxZoom });
  }

  var deskCfg = document.getElementById("desk-map-config");
  if (deskCfg && document.getElementById("desk-map")) {
    var cfg = JSON.parse(deskCfg.textContent);
    var map = L.map("desk-map", { attributionControl: !!cfg.basemapUrl });
    if (cfg.bounds) fit(map, cfg.bounds, 13); else map.setView([43.88, 125.32], 9);
    base(map, cfg);
    var seen = {};
    var leads = T.points(map, "leads", {
      params: cfg.tileParams,
      colour: function (p) { return p.count > 1 ? "#6d4c41" : "#1f6fb2"; },
      seen: function (p) { seen[p.id] = p.count || 1; },
    }).addTo(map);
    // A click asks the desk's lead layer (the same filters) for the lead under it.
    map.on("click", function (e) { T.pointClick(map, cfg.leadsUrl, e.latlng, null, T.leadPopup).catch(function () {}); });
    var el = document.getElementById("desk-map");
    T.loaded(leads).then(function () {
      el.setAttribute("data-leads", Object.keys(seen).join(","));
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
    L.geoJSON(c.site, {
      style: { color: "#c62828", weight: 2, fillOpacity: 0.3 },
      pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 8, color: "#c62828", fillOpacity: 0.8 }); },
    }).addTo(drawn);
    m.fitBounds(drawn.getBounds(), { padding: [12, 12], maxZoom: 16 });
    // Context from tiles, once the view is set: the plan's units around the lead, faint (the lead's own
    // unit and the red lines meeting it are drawn over them from the page's data).
    var context = [];
    if (c.plan) context.push(T.units(m, c.plan, { faint: true }).addTo(m));
    var el2 = document.getElementById("lead-map");
    el2.setAttribute("data-unit", c.unit ? c.unit.code : "");
    el2.setAttribute("data-red-lines", (c.redLines || []).map(function (r) { return r.code; }).join(","));
    Promise.all(context.map(T.loaded)).then(function () { el2.setAttribute("data-loaded", "true"); });
  }

  var unitCfg = document.getElementById("unit-map-config");
  if (unitCfg && document.getElementById("unit-map")) {
    var uc = JSON.parse(unitCfg.textContent);
    var um = L.map("unit-map", { attributionControl: !!uc.basemapUrl });
    fit(um, uc.bounds, 15);
    // Deep enough for the tiles to carry unit codes, which the highlight needs.
    if (um.getZoom() < T.CODES_FROM_MAP_ZOOM) um.setZoom(T.CODES_FROM_MAP_ZOOM);
    base(um, uc);
    var unitLayer = T.units(um, uc.plan, { highlight: uc.code, highlightColor: "#000" }).addTo(um);
    T.overlays(um, uc.plan).addTo(um);
    T.loaded(unitLayer).then(function () { document.getElementById("unit-map").setAttribute("data-loaded", "true"); });
  }
})();
