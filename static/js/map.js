/* 一张图: units by class, red line, basins, leads, targets; search; unit cards; siting drawing.
 * Data: units, overlays, leads and targets as vector tiles (/api/v1/tiles/{layer}/{z}/{x}/{y}.pbf, Leaflet.VectorGrid
 * through maptiles.js); hover and click ask /api/v1/zoning/units/at/, a lead or target marker's click the leads or
 * targets API; search asks /api/v1/zoning/units/ (code prefix, name part); the district outlines come from the
 * page module's JSON endpoint named in #map-config.
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
  // The first view is the plan's extent (one aggregate on the server, given with the page), set before any
  // layer is added so no tile of another view is fetched.
  if (cfg.bounds) map.fitBounds([[cfg.bounds[1], cfg.bounds[0]], [cfg.bounds[3], cfg.bounds[2]]], { padding: [10, 10] });
  else map.setView([43.88, 125.32], 9);
  if (cfg.basemapUrl) {
    L.tileLayer(cfg.basemapUrl, { attribution: cfg.basemapAttribution || "", maxZoom: 18 }).addTo(map);
  }
  var state = { selected: null, drawMode: null, vertices: [], loaded: {} };
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

  // Units and overlays are vector tiles made by the server (geometry generalised per zoom, attributes
  // trimmed to the style's): nothing is downloaded for what is off screen. The tiles take no pointer
  // events; a hover or click asks the server for the unit at the point (units/at/), so an overlay drawn
  // above (a basin covers many units) never catches them. Leads and targets are tiles too (markers that
  // take clicks), above the district outlines and the selected unit (overlayPane, 400).
  var T = window.SupervisionMapTiles;
  var unitsLayer = T.units(map, cfg.plan).addTo(map);
  var overlaysLayer = T.overlays(map, cfg.plan).addTo(map);

  // The selected unit: its outline, fetched once with its card (the tiles hold no selectable shapes).
  var selectedLayer = L.geoJSON(null, { interactive: false, style: { color: "#000", weight: 3, fill: false } }).addTo(map);
  function unitUrl(code) {
    return "/api/v1/zoning/units/" + encodeURIComponent(cfg.plan) + "/" + encodeURIComponent(code) + "/";
  }
  function openUnit(code, fit) {
    var url = cfg.unitCardUrl.replace("__plan__", encodeURIComponent(cfg.plan)).replace("__code__", encodeURIComponent(code));
    if (window.htmx) {
      window.htmx.ajax("GET", url, { target: "#unit-card", swap: "innerHTML" });
    } else {
      window.location.href = url;
      return;
    }
    state.selected = code;
    getJSON(unitUrl(code)).then(function (f) {
      if (state.selected !== code) return;
      selectedLayer.clearLayers();
      selectedLayer.addData(f);
      if (fit) map.fitBounds(selectedLayer.getBounds(), { maxZoom: 13 });
    }).catch(function () { selectedLayer.clearLayers(); });
  }
  window.supervisionMap.openUnit = openUnit;

  function unitsAt(latlng) {
    return getJSON(withParams("/api/v1/zoning/units/at/", { plan: cfg.plan, lon: round6(latlng.lng), lat: round6(latlng.lat) }));
  }

  // Hover: the unit's code and name in a tooltip (text nodes), asked for once the pointer rests.
  var tooltip = L.tooltip({ sticky: true, direction: "top", offset: [0, -8] });
  var hoverTimer = null, hoverSeq = 0;
  map.on("mousemove", function (e) {
    if (state.drawMode) return;
    clearTimeout(hoverTimer);
    var seq = ++hoverSeq;
    hoverTimer = setTimeout(function () {
      unitsAt(e.latlng).then(function (units) {
        if (seq !== hoverSeq) return;
        if (!units.length) { map.closeTooltip(tooltip); return; }
        var box = document.createElement("div");
        units.forEach(function (u, i) {
          if (i) box.appendChild(document.createElement("br"));
          box.appendChild(textNode(u.code + " " + u.name));
        });
        tooltip.setLatLng(e.latlng).setContent(box);
        if (!map.hasLayer(tooltip)) map.openTooltip(tooltip);
      }).catch(function () {});
    }, 120);
  });
  map.on("mouseout", function () { clearTimeout(hoverTimer); hoverSeq++; map.closeTooltip(tooltip); });
  // Click: the server is asked what lies under it, in order: a lead, a target (while their layers are
  // shown; a cluster zooms in), else the unit at the point opens its card. While drawing, the click is
  // a vertex instead.
  map.on("click", function (e) {
    if (state.drawMode) return;
    var asks = [];
    if (leads && map.hasLayer(leads)) asks.push(function () { return T.pointClick(map, cfg.leadsUrl, e.latlng, { plan: cfg.plan }, T.leadPopup); });
    if (targets && map.hasLayer(targets)) asks.push(function () { return T.pointClick(map, cfg.targetsUrl, e.latlng, null, T.targetPopup); });
    var chain = Promise.resolve(false);
    asks.forEach(function (ask) { chain = chain.then(function (done) { return done || ask(); }); });
    chain.then(function (done) {
      if (done) return;
      return unitsAt(e.latlng).then(function (units) { if (units.length) openUnit(units[0].code); });
    }).catch(function (err) { setStatus(String(err)); });
  });

  // Leads (the user's scope, as the leads API; clustered by the server below zoom 12) and targets.
  // Every lead drawn is recorded (id -> count) so a page test can tell which leads the map shows.
  state.leadsSeen = {};
  var leads = cfg.leadsUrl ? T.points(map, "leads", {
    params: { plan: cfg.plan },
    colour: "#c62828",
    seen: function (p) { state.leadsSeen[p.id] = p.count || 1; },
  }) : null;
  var targets = cfg.targetsUrl ? T.points(map, "targets", {
    colour: "#1f6fb2",
  }) : null;

  var overlayControl = {};
  overlayControl[cfg.labels.units] = unitsLayer;
  overlayControl[cfg.labels.redLine + " · " + cfg.labels.basins] = overlaysLayer;
  if (leads) overlayControl[cfg.labels.leads] = leads.addTo(map);
  if (targets) overlayControl[cfg.labels.targets] = targets;
  L.control.layers(null, overlayControl, { collapsed: window.innerWidth < 900 }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);

  // Context without a basemap: the plan's districts, outlined and named (text, never HTML).
  var districts = L.geoJSON(null, {
    interactive: false,
    style: { color: "#37474f", weight: 1.2, dashArray: "4 3", fill: false },
    onEachFeature: function (f, layer) {
      if (f.properties && f.properties.name) {
        layer.bindTooltip(textNode(f.properties.name), { permanent: true, direction: "center", className: "district-label", interactive: false });
      }
    },
  });
  if (cfg.districtsUrl && !cfg.basemapUrl) districts.addTo(map);

  setStatus(cfg.labels.loading);
  var jobs = [];
  if (cfg.districtsUrl && !cfg.basemapUrl) {
    jobs.push(getJSON(withParams(cfg.districtsUrl, { plan: cfg.plan })).then(function (fc) { districts.addData(fc); }));
  }
  if (leads) jobs.push(T.loaded(leads));
  // The first tiles of the units drawn (or failed) count as loaded too.
  jobs.push(T.loaded(unitsLayer));
  // One layer failing to load must not keep the others off the map.
  jobs = jobs.map(function (j) { return j.catch(function (err) { setStatus(String(err)); }); });
  Promise.all(jobs).then(function () {
    setStatus(cfg.labels.units + " " + (cfg.unitCount || 0));
    state.leadIds = Object.keys(state.leadsSeen).map(Number);
    document.getElementById("map").setAttribute("data-loaded", "true");
  }).catch(function (err) { setStatus(String(err)); });

  // --- search by unit code (prefix) or name (part), asked of the unit API: the map holds no unit list ---
  var search = document.getElementById("unit-search");
  var results = document.getElementById("search-results");
  var searchTimer = null, searchSeq = 0;
  function unitHits(params) {
    params.plan = cfg.plan; params.page_size = 30;
    return getJSON(withParams(cfg.unitsUrl, params)).then(function (page) {
      return page.features || (page.results && page.results.features) || [];
    });
  }
  function showHits(hits) {
    results.innerHTML = "";
    if (!hits.length) { var none = textNode(cfg.labels.noMatch, "li"); none.className = "muted small"; results.appendChild(none); return; }
    hits.forEach(function (f) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = code(f) + " " + f.properties.name;
      b.addEventListener("click", function () { openUnit(code(f), true); });
      li.appendChild(b); results.appendChild(li);
    });
  }
  if (search) {
    search.addEventListener("input", function () {
      var q = search.value.trim();
      clearTimeout(searchTimer);
      var seq = ++searchSeq;
      if (!q) { results.innerHTML = ""; return; }
      searchTimer = setTimeout(function () {
        Promise.all([unitHits({ code: q }), unitHits({ name: q })]).then(function (both) {
          if (seq !== searchSeq) return;
          var seen = {}, hits = [];
          both[0].concat(both[1]).forEach(function (f) { if (!seen[code(f)]) { seen[code(f)] = true; hits.push(f); } });
          showHits(hits.slice(0, 30));
        }).catch(function (err) { setStatus(String(err)); });
      }, 200);
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
