// The plan diff map: changed units coloured by kind; the previous outline of a reshaped unit dashed.
(function () {
  "use strict";
  var features = JSON.parse(document.getElementById("diff-features").textContent);
  var basemap = JSON.parse(document.getElementById("diff-basemap").textContent);
  var colours = {
    added: "#2a9d8f",
    removed: "#e63946",
    reclassified: "#f4a261",
    reshaped: "#457b9d",
    reshaped_before: "#457b9d",
  };
  var map = L.map("diff-map");
  if (basemap.url) {
    L.tileLayer(basemap.url, { attribution: basemap.attribution || "" }).addTo(map);
  }
  var layer = L.geoJSON(features, {
    style: function (f) {
      var before = f.properties.change === "reshaped_before" || f.properties.change === "removed";
      return {
        color: colours[f.properties.change] || "#333",
        weight: 2,
        dashArray: before ? "6 4" : null,
        fillOpacity: before ? 0.05 : 0.35,
      };
    },
    onEachFeature: function (f, l) {
      l.bindTooltip(f.properties.change + " · " + f.properties.code + " " + f.properties.name);
    },
  }).addTo(map);
  if (features.features.length) {
    map.fitBounds(layer.getBounds());
  } else {
    map.setView([43.9, 125.3], 8);
  }
})();
