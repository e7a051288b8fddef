/* OpenLayers vector-tile layers for the server's tiles (/api/v1/tiles/{layer}/{z}/{x}/{y}.pbf) and the
   click look-up (/api/v1/zoning/units/at/). Needs vendor/ol/ol.js loaded first; builds layers, draws nothing
   by itself: a map page calls SupervisionTiles.layer("units", {plan: "…"}) and adds the result to its map. */
(function () {
  "use strict";
  var ol = window.ol;
  var API = "/api/v1/";
  var CLASS_COLOURS = { priority: "#2e7d32", key: "#c62828", general: "#f9a825" };
  var KIND_COLOURS = { red_line: "#d32f2f", basin: "#1565c0", other: "#6a1b9a" };

  function tileUrl(layer, params) {
    var query = Object.keys(params || {})
      .filter(function (k) { return params[k] !== undefined && params[k] !== null && params[k] !== ""; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); })
      .join("&");
    return API + "tiles/" + layer + "/{z}/{x}/{y}.pbf" + (query ? "?" + query : "");
  }

  function polygonStyle(colour, width) {
    var fill = new ol.style.Fill({ color: colour + "55" });
    var stroke = new ol.style.Stroke({ color: colour, width: width });
    return new ol.style.Style({ fill: fill, stroke: stroke });
  }

  var unitStyles = {};
  function unitStyle(feature) {
    var cls = feature.get("class");
    if (!unitStyles[cls]) unitStyles[cls] = polygonStyle(CLASS_COLOURS[cls] || "#607d8b", 1);
    return unitStyles[cls];
  }

  var overlayStyles = {};
  function overlayStyle(feature) {
    var kind = feature.get("kind");
    if (!overlayStyles[kind]) {
      overlayStyles[kind] = new ol.style.Style({
        stroke: new ol.style.Stroke({ color: KIND_COLOURS[kind] || "#455a64", width: 2, lineDash: [6, 4] }),
      });
    }
    return overlayStyles[kind];
  }

  function pointStyle(feature, colour) {
    var count = feature.get("count") || 1;
    var radius = count > 1 ? Math.min(22, 7 + 3 * Math.log(count)) : 6;
    return new ol.style.Style({
      image: new ol.style.Circle({
        radius: radius,
        fill: new ol.style.Fill({ color: colour }),
        stroke: new ol.style.Stroke({ color: "#fff", width: 1.5 }),
      }),
      text: count > 1 ? new ol.style.Text({ text: String(count), fill: new ol.style.Fill({ color: "#fff" }) }) : undefined,
    });
  }

  var STYLES = {
    units: unitStyle,
    overlays: overlayStyle,
    leads: function (f) { return pointStyle(f, "#1f6fb2"); },
    targets: function (f) { return pointStyle(f, "#37474f"); },
  };

  /* A VectorTile layer of one server layer: "units" and "overlays" need {plan}; "leads" may take {plan}. */
  function layer(name, params, options) {
    return new ol.layer.VectorTile(Object.assign({
      declutter: name === "leads" || name === "targets",
      style: STYLES[name],
      source: new ol.source.VectorTile({
        format: new ol.format.MVT(),
        url: tileUrl(name, params),
        maxZoom: 18,
      }),
    }, options || {}));
  }

  /* The units of a plan under a map coordinate (EPSG:3857), as the API returns them. */
  function unitsAt(plan, coordinate) {
    var lonLat = ol.proj.toLonLat(coordinate);
    var url = API + "zoning/units/at/?plan=" + encodeURIComponent(plan) + "&lon=" + lonLat[0] + "&lat=" + lonLat[1];
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error("units/at " + r.status);
      return r.json();
    });
  }

  window.SupervisionTiles = { layer: layer, tileUrl: tileUrl, unitsAt: unitsAt };
})();
