/* Leaflet layers of the server's vector tiles (/api/v1/tiles/{layer}/{z}/{x}/{y}.pbf), drawn with the
   vendored Leaflet.VectorGrid; shared by the one map, the public map, the desk, lead and unit minimaps.
   Needs vendor/leaflet and vendor/leaflet.vectorgrid loaded first. Builds layers, adds nothing by itself.
   - units and overlays: canvas tiles that take no pointer events (a page asks /api/v1/zoning/units/at/
     for the unit under a click, so a basin drawn over many units never catches them);
   - leads (clustered by the server below zoom 12, with a `count`) and targets: canvas tiles too; a click
     asks the page's point layer for what lies within a few pixels (`pointClick`: /map/leads.json?bbox=,
     scoped as the tiles), zooms in on a cluster or opens the nearest one's popup (text nodes). */
(function () {
  "use strict";
  var L = window.L;
  var CLASS_COLOURS = { priority: "#2e9e44", key: "#e8732c", general: "#e6c229" };
  var OVERLAY_STYLES = {
    red_line: { color: "#d62828", weight: 2, fill: true, fillColor: "#d62828", fillOpacity: 0.15 },
    basin: { color: "#2f7fd1", weight: 2, dashArray: "6 4", fill: false },
    other: { color: "#666", weight: 1, dashArray: "2 3", fill: false },
  };
  var HIDDEN = { weight: 0, fill: false, opacity: 0, fillOpacity: 0 };
  // 512 px tiles of the zoom above (as MapLibre draws them): a 1280 x 800 view takes about 6-9 tiles a
  // layer instead of 20-24, so a first view is a third of the requests. A tile drawn at map zoom z is
  // the server's tile z - 1 (its geometry generalised for that zoom, which is a pixel of this one at
  // 512 px): unit codes come from map zoom 9, leads are clustered below map zoom 13.
  var GRID = { tileSize: 512, minNativeZoom: 1, maxNativeZoom: 19 };
  var CLUSTER_BELOW_MAP_ZOOM = 13;
  var CODES_FROM_MAP_ZOOM = 9;
  function grid(options) { return Object.assign({}, GRID, options); }
  // VectorGrid puts the grid's own zoom in the URL (it has no zoomOffset): a 512 px grid at zoom z
  // is the server's 256 px tiling at z - 1, with the same x and y.
  var Protobuf512 = L.VectorGrid.Protobuf.extend({
    _getVectorTilePromise: function (coords) {
      return L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(this, { x: coords.x, y: coords.y, z: coords.z - 1 });
    },
  });
  function protobuf(url, options) { return new Protobuf512(url, grid(options)); }

  function url(layer, params) {
    var query = Object.keys(params || {})
      .filter(function (k) { return params[k] !== undefined && params[k] !== null && params[k] !== ""; })
      .map(function (k) {
        var v = params[k];
        return (Array.isArray(v) ? v : [v]).map(function (one) { return encodeURIComponent(k) + "=" + encodeURIComponent(one); }).join("&");
      })
      .join("&");
    return "/api/v1/tiles/" + layer + "/{z}/{x}/{y}.pbf" + (query ? "?" + query : "");
  }

  function pane(map, name, zIndex, pointer) {
    if (!map.getPane(name)) {
      var p = map.createPane(name);
      p.style.zIndex = zIndex;
      if (!pointer) p.style.pointerEvents = "none";
    }
    return name;
  }

  /* The plan's units coloured by class. options.highlight: a unit code drawn as a thick outline
     (tiles carry codes from zoom 8), options.faint: the others drawn lighter (context on a minimap). */
  function units(map, plan, options) {
    var o = options || {};
    return protobuf(url("units", { plan: plan }), {
      pane: pane(map, "units", 250, false),
      interactive: false,
      rendererFactory: L.canvas.tile,
      vectorTileLayerStyles: {
        units: function (p) {
          if (o.highlight && p.code === o.highlight) {
            return { color: o.highlightColor || "#1f6fb2", weight: 3, dashArray: "6 4", fill: true, fillColor: CLASS_COLOURS[p["class"]] || "#999", fillOpacity: 0.35 };
          }
          return { color: "#555", weight: 0.6, fill: true, fillColor: CLASS_COLOURS[p["class"]] || "#999", fillOpacity: o.faint ? 0.18 : 0.45 };
        },
      },
    });
  }

  /* The plan's overlays; options.kinds limits the kinds drawn (e.g. ["red_line"]). */
  function overlays(map, plan, options) {
    var o = options || {};
    return protobuf(url("overlays", { plan: plan }), {
      pane: pane(map, "overlays", 260, false),
      interactive: false,
      rendererFactory: L.canvas.tile,
      vectorTileLayerStyles: {
        overlays: function (p) {
          if (o.kinds && o.kinds.indexOf(p.kind) < 0) return HIDDEN;
          return OVERLAY_STYLES[p.kind] || OVERLAY_STYLES.other;
        },
      },
    });
  }

  function radius(count) { return count > 1 ? Math.min(18, 6 + 2.5 * Math.log(count)) : 6; }

  /* Markers of a scoped point layer ("leads" or "targets"). options: params (the API's filters), colour
     (function of the properties or a string), seen(props) called per drawn feature. The markers take no
     pointer events either: a page asks the server what is under a click (`near` + `pointsAt`). */
  function points(map, layer, options) {
    var o = options || {};
    var styles = {};
    styles[layer] = function (p) {
      if (o.seen) o.seen(p);
      var fill = typeof o.colour === "function" ? o.colour(p) : (o.colour || "#c62828");
      return { radius: radius(p.count || 1), color: "#fff", weight: 1.5, fill: true, fillColor: fill, fillOpacity: 0.9 };
    };
    return protobuf(url(layer, o.params), {
      pane: pane(map, layer, layer === "leads" ? 420 : 410, false),
      interactive: false,
      rendererFactory: L.canvas.tile,
      vectorTileLayerStyles: styles,
    });
  }

  /* The box of `px` screen pixels around a clicked point, as the bbox parameter (lon/lat). */
  function near(map, latlng, px) {
    var p = map.latLngToContainerPoint(latlng);
    var sw = map.containerPointToLatLng([p.x - px, p.y + px]);
    var ne = map.containerPointToLatLng([p.x + px, p.y - px]);
    return [sw.lng, sw.lat, ne.lng, ne.lat].map(function (v) { return Math.round(v * 1e6) / 1e6; }).join(",");
  }

  /* The features of a page's point layer (/map/leads.json, /map/targets.json) within px of a click. */
  function pointsAt(map, path, latlng, px, params) {
    var u = new URL(path, window.location.origin);
    u.searchParams.set("bbox", near(map, latlng, px));
    Object.keys(params || {}).forEach(function (k) {
      var v = params[k];
      (Array.isArray(v) ? v : [v]).forEach(function (one) { if (one !== null && one !== undefined && one !== "") u.searchParams.append(k, one); });
    });
    return getJSON(u.pathname + u.search).then(function (fc) { return fc.features || []; });
  }

  function getJSON(path) {
    return fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(r.status + " " + path);
      return r.json();
    });
  }

  function text(value, tag) {
    var el = document.createElement(tag || "span");
    el.textContent = value == null ? "" : String(value);
    return el;
  }

  /* A lead's popup (the properties of /map/leads.json): title linking to its page, status, overdue. */
  function leadPopup(map, p, latlng) {
    var box = document.createElement("div");
    box.className = "lead-popup";
    box.setAttribute("data-lead", String(p.id));
    var a = text("#" + p.id + " " + p.title, "a");
    a.href = String(p.url || "").charAt(0) === "/" ? p.url : "#";
    var strong = document.createElement("strong");
    strong.appendChild(a);
    box.appendChild(strong);
    box.appendChild(document.createElement("br"));
    box.appendChild(text(p.status_label));
    if (p.overdue) { box.appendChild(document.createTextNode(" ")); var b = text(p.overdue_label); b.className = "badge overdue"; box.appendChild(b); }
    L.popup().setLatLng(latlng).setContent(box).openOn(map);
  }

  /* A target's popup (the properties of /map/targets.json). */
  function targetPopup(map, p, latlng) {
    var box = document.createElement("div");
    box.className = "target-popup";
    box.setAttribute("data-target", String(p.id));
    box.appendChild(text(p.name));
    box.appendChild(document.createElement("br"));
    box.appendChild(text(p.credit_code, "small"));
    L.popup().setLatLng(latlng).setContent(box).openOn(map);
  }

  /* A click on a point layer: below zoom 12 (clusters) zoom in on it, else the popup of the nearest.
     Resolves true when something was under the click. */
  function pointClick(map, path, latlng, params, popup) {
    var clustered = map.getZoom() < CLUSTER_BELOW_MAP_ZOOM;
    return pointsAt(map, path, latlng, clustered ? 16 : 8, params).then(function (features) {
      if (!features.length) return false;
      if (clustered) { map.setView(latlng, Math.min(map.getZoom() + 2, 18)); return true; }
      popup(map, features[0].properties, latlng);
      return true;
    });
  }

  /* Resolve once the layer's first tiles are drawn (or failed): a page marks itself loaded then. */
  function loaded(layer) {
    return new Promise(function (resolve) { layer.once("load", resolve); layer.once("tileerror", resolve); });
  }

  window.SupervisionMapTiles = {
    url: url, units: units, overlays: overlays, points: points, loaded: loaded, near: near, pointsAt: pointsAt,
    pointClick: pointClick, leadPopup: leadPopup, targetPopup: targetPopup, getJSON: getJSON, text: text,
    CLASS_COLOURS: CLASS_COLOURS, CODES_FROM_MAP_ZOOM: CODES_FROM_MAP_ZOOM,
  };
})();
