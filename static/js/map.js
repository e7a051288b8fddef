/* 一张图: units by class, red line, basins, leads, targets; search; unit cards; siting drawing.
 * Data: /api/v1/zoning/units/ (GeoJSON pages) and the page module's JSON endpoints named in #map-config.
 * No external request: tiles only when the operator configures BASEMAP_URL. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  if (!cfg.plan) return;
  // Lead and target layers only for roles that read cases (the page says so on #map).
  if (document.getElementById("map").getAttribute("data-cases") !== "true") { cfg.leadsUrl = null; cfg.targetsUrl = null; }
  var L = window.L;
  var statusEl = document.getElementById("map-status");
  var COLORS = { priority: "#2e9e44", key: "#e8732c", general: "#e6c229" };
  var map = L.map("map", { preferCanvas: true, zoomControl: true, attributionControl: !!cfg.basemapUrl });
  map.setView([43.88, 125.32], 9);
  if (cfg.basemapUrl) {
    L.tileLayer(cfg.basemapUrl, { attribution: cfg.basemapAttribution || "", maxZoom: 18 }).addTo(map);
  }
  var state = { units: [], byCode: {}, drawMode: null, vertices: [], loaded: {} };
  window.supervisionMap = { map: map, state: state };

  // The unit API puts the code in the feature id (id_field); copy it into the properties.
  function code(f) { if (f.properties.code == null) f.properties.code = f.id; return f.properties.code; }

  function setStatus(text) { if (statusEl) statusEl.textContent = text; }

  // Labels are text, never HTML: a unit or overlay named "<img onerror=...>" shows those characters.
  function textNode(text, tag) {
    var el = document.createElement(tag || "span");
    el.textContent = text == null ? "" : String(text);
    return el;
  }

  function withParams(url, params) {
    var u = new URL(url, window.location.origin);
    Object.keys(params).forEach(function (k) { if (params[k] !== undefined && params[k] !== null) u.searchParams.set(k, params[k]); });
    return u.pathname + u.search;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(r.status + " " + url);
      return r.json();
    });
  }

  // Units come in pages of GeoJSON; follow `next` until done.
  function loadAllUnits(url, acc) {
    return getJSON(url).then(function (page) {
      var feats = (page.features || (page.results && page.results.features) || []);
      acc.push.apply(acc, feats);
      if (page.next) {
        var n = new URL(page.next, window.location.origin);
        return loadAllUnits(n.pathname + n.search, acc);
      }
      return acc;
    });
  }

  var selected = null;
  function unitStyle(f) {
    return { color: "#555", weight: 0.6, fillColor: COLORS[f.properties.unit_class] || "#999", fillOpacity: 0.45 };
  }
  var unitsLayer = L.geoJSON(null, {
    style: unitStyle,
    onEachFeature: function (f, layer) {
      code(f);
      layer.bindTooltip(textNode(f.properties.code + " " + f.properties.name), { sticky: true });
      // While drawing, the click reaches the map's own handler (one vertex per click, not two).
      layer.on("click", function () { if (!state.drawMode) openUnit(f.properties.code, layer); });
      state.byCode[f.properties.code] = layer;
    },
  }).addTo(map);

  function openUnit(code, layer) {
    layer = layer || state.byCode[code];
    if (selected) unitsLayer.resetStyle(selected);
    selected = layer || null;
    if (layer) layer.setStyle({ color: "#000", weight: 3 });
    var url = cfg.unitCardUrl.replace("__plan__", encodeURIComponent(cfg.plan)).replace("__code__", encodeURIComponent(code));
    if (window.htmx) {
      window.htmx.ajax("GET", url, { target: "#unit-card", swap: "innerHTML" });
    } else {
      window.location.href = url;
    }
  }
  window.supervisionMap.openUnit = openUnit;

  // Overlays are drawn above the units but take no clicks or hovers (a basin covers many units, and a
  // canvas polygon answers for its whole area even when unfilled): the unit underneath gets them.
  var redLine = L.geoJSON(null, { interactive: false, style: { color: "#d62828", weight: 2, fillColor: "#d62828", fillOpacity: 0.15, interactive: false } });
  var basins = L.geoJSON(null, { interactive: false, style: { color: "#2f7fd1", weight: 2, dashArray: "6 4", fill: false, interactive: false } });
  var other = L.geoJSON(null, { interactive: false, style: { color: "#666", weight: 1, dashArray: "2 3", fill: false, interactive: false } });
  var leads = L.geoJSON(null, {
    pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 6, color: "#fff", weight: 1.5, fillColor: "#c62828", fillOpacity: 0.9 }); },
    style: { color: "#c62828", weight: 2, fillOpacity: 0.3 },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      var box = document.createElement("div");
      var a = textNode("#" + p.id + " " + p.title, "a");
      a.href = String(p.url || "").charAt(0) === "/" ? p.url : "#";
      var strong = document.createElement("strong");
      strong.appendChild(a);
      box.appendChild(strong);
      box.appendChild(document.createElement("br"));
      box.appendChild(textNode(p.status_label));
      if (p.overdue) { box.appendChild(document.createTextNode(" ")); var b = textNode(p.overdue_label); b.className = "badge overdue"; box.appendChild(b); }
      layer.bindPopup(box);
    },
  });
  var targets = L.geoJSON(null, {
    pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 5, color: "#333", weight: 1, fillColor: "#1f6fb2", fillOpacity: 0.9 }); },
    onEachFeature: function (f, layer) {
      var box = document.createElement("div");
      box.appendChild(textNode(f.properties.name));
      box.appendChild(document.createElement("br"));
      box.appendChild(textNode(f.properties.credit_code, "small"));
      layer.bindPopup(box);
    },
  });

  var overlayControl = {};
  overlayControl[cfg.labels.units] = unitsLayer;
  overlayControl[cfg.labels.redLine] = redLine.addTo(map);
  overlayControl[cfg.labels.basins] = basins.addTo(map);
  if (cfg.leadsUrl) overlayControl[cfg.labels.leads] = leads.addTo(map);
  if (cfg.targetsUrl) overlayControl[cfg.labels.targets] = targets;
  L.control.layers(null, overlayControl, { collapsed: window.innerWidth < 900 }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);

  setStatus(cfg.labels.loading);
  var jobs = [
    loadAllUnits(withParams(cfg.unitsUrl, { plan: cfg.plan, page_size: 1000 }), []).then(function (feats) {
      state.units = feats;
      unitsLayer.addData({ type: "FeatureCollection", features: feats });
      if (feats.length) map.fitBounds(unitsLayer.getBounds(), { padding: [10, 10] });
      state.loaded.units = feats.length;
    }),
    getJSON(withParams(cfg.overlaysUrl, { plan: cfg.plan })).then(function (fc) {
      fc.features.forEach(function (f) {
        (f.properties.kind === "red_line" ? redLine : f.properties.kind === "basin" ? basins : other).addData(f);
      });
      state.loaded.overlays = fc.features.length;
    }),
  ];
  if (cfg.leadsUrl) {
    jobs.push(getJSON(withParams(cfg.leadsUrl, { plan: cfg.plan })).then(function (fc) {
      leads.addData(fc); state.loaded.leads = fc.features.length;
      state.leadIds = fc.features.map(function (f) { return f.properties.id; });
    }));
  }
  if (cfg.targetsUrl) {
    jobs.push(getJSON(withParams(cfg.targetsUrl, { plan: cfg.plan })).then(function (fc) {
      targets.addData(fc); state.loaded.targets = fc.features.length;
    }));
  }
  // One layer failing to load must not keep the others off the map.
  jobs = jobs.map(function (j) { return j.catch(function (err) { setStatus(String(err)); }); });
  Promise.all(jobs).then(function () {
    var parts = [cfg.labels.units + " " + (state.loaded.units || 0)];
    if ("leads" in state.loaded) parts.push(cfg.labels.leads + " " + state.loaded.leads);
    setStatus(parts.join(" · "));
    document.getElementById("map").setAttribute("data-loaded", "true");
    redLine.bringToFront(); basins.bringToFront(); leads.bringToFront(); targets.bringToFront();
  }).catch(function (err) { setStatus(String(err)); });

  // --- search by unit code or name (client-side over the loaded units) ---
  var search = document.getElementById("unit-search");
  var results = document.getElementById("search-results");
  if (search) {
    search.addEventListener("input", function () {
      var q = search.value.trim().toLowerCase();
      results.innerHTML = "";
      if (!q) return;
      var hits = state.units.filter(function (f) {
        return f.properties.code.toLowerCase().indexOf(q) >= 0 || f.properties.name.toLowerCase().indexOf(q) >= 0;
      }).slice(0, 30);
      if (!hits.length) { var none = textNode(cfg.labels.noMatch, "li"); none.className = "muted small"; results.appendChild(none); return; }
      hits.forEach(function (f) {
        var li = document.createElement("li");
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = f.properties.code + " " + f.properties.name;
        b.addEventListener("click", function () {
          var layer = state.byCode[f.properties.code];
          if (layer) map.fitBounds(layer.getBounds(), { maxZoom: 13 });
          openUnit(f.properties.code, layer);
        });
        li.appendChild(b); results.appendChild(li);
      });
    });
    search.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); var first = results.querySelector("button"); if (first) first.click(); }
    });
  }

  // --- siting: draw a polygon, pick a point, or type coordinates ---
  var drawLayer = L.layerGroup().addTo(map);
  var geomInput = document.getElementById("site-geometry");
  var lonInput = document.getElementById("site-lon");
  var latInput = document.getElementById("site-lat");
  var finishBtn = document.getElementById("draw-finish");
  function clearDrawing() {
    drawLayer.clearLayers(); state.vertices = []; state.drawMode = null;
    if (geomInput) geomInput.value = "";
    if (finishBtn) finishBtn.disabled = true;
    map.getContainer().style.cursor = "";
  }
  function round6(x) { return Math.round(x * 1e6) / 1e6; }
  function onDrawClick(e) {
    if (state.drawMode === "point") {
      drawLayer.clearLayers();
      L.circleMarker(e.latlng, { radius: 7, color: "#6a1b9a", fillOpacity: 0.8 }).addTo(drawLayer);
      lonInput.value = round6(e.latlng.lng); latInput.value = round6(e.latlng.lat);
      geomInput.value = "";
      state.drawMode = null; map.getContainer().style.cursor = "";
      return;
    }
    if (state.drawMode === "polygon") {
      state.vertices.push([round6(e.latlng.lng), round6(e.latlng.lat)]);
      drawLayer.clearLayers();
      var lls = state.vertices.map(function (v) { return [v[1], v[0]]; });
      L.polyline(lls, { color: "#6a1b9a", weight: 2 }).addTo(drawLayer);
      lls.forEach(function (ll) { L.circleMarker(ll, { radius: 3, color: "#6a1b9a" }).addTo(drawLayer); });
      finishBtn.disabled = state.vertices.length < 3;
    }
  }
  map.on("click", function (e) { if (state.drawMode) onDrawClick(e); });
  var bPoly = document.getElementById("draw-polygon");
  var bPoint = document.getElementById("draw-point");
  if (bPoly) bPoly.addEventListener("click", function () { clearDrawing(); state.drawMode = "polygon"; map.getContainer().style.cursor = "crosshair"; });
  if (bPoint) bPoint.addEventListener("click", function () { clearDrawing(); state.drawMode = "point"; map.getContainer().style.cursor = "crosshair"; });
  if (finishBtn) finishBtn.addEventListener("click", function () {
    if (state.vertices.length < 3) return;
    var ring = state.vertices.concat([state.vertices[0]]);
    geomInput.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
    drawLayer.clearLayers();
    L.polygon(ring.map(function (v) { return [v[1], v[0]]; }), { color: "#6a1b9a", weight: 2, fillOpacity: 0.2 }).addTo(drawLayer);
    lonInput.value = ""; latInput.value = "";
    state.drawMode = null; finishBtn.disabled = true; map.getContainer().style.cursor = "";
  });
  var bClear = document.getElementById("draw-clear");
  if (bClear) bClear.addEventListener("click", function () { clearDrawing(); lonInput.value = ""; latInput.value = ""; });
  [lonInput, latInput].forEach(function (el) { if (el) el.addEventListener("input", function () { geomInput.value = ""; }); });

  // Show the assessed site once the verdict arrives.
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.target.id !== "siting-result") return;
    var v = document.getElementById("siting-verdict");
    if (!v) return;
    try {
      var site = JSON.parse(v.getAttribute("data-site"));
      drawLayer.clearLayers();
      var g = L.geoJSON(site, {
        style: { color: "#6a1b9a", weight: 2, fillOpacity: 0.25 },
        pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 8, color: "#6a1b9a", fillOpacity: 0.8 }); },
      }).addTo(drawLayer);
      map.fitBounds(g.getBounds(), { maxZoom: 11 });
    } catch (err) { /* the verdict is shown either way */ }
  });

  // Industry suggestions from /api/v1/zoning/industries/.
  var ind = document.getElementById("industry-code");
  var list = document.getElementById("industry-list");
  var timer = null;
  if (ind && list) {
    ind.addEventListener("input", function () {
      clearTimeout(timer);
      var q = ind.value.trim();
      if (q.length < 1) return;
      timer = setTimeout(function () {
        getJSON(withParams("/api/v1/zoning/industries/", { q: q })).then(function (rows) {
          list.innerHTML = "";
          (rows.results || rows).slice(0, 30).forEach(function (r) {
            var o = document.createElement("option"); o.value = r.code; o.label = r.code + " " + r.name; list.appendChild(o);
          });
        }).catch(function () {});
      }, 250);
    });
  }
})();
