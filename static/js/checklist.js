/* The online checklist: the device's position (navigator.geolocation) goes with each record and photo.
 *
 * The position is watched once the person asks for it (or at once when the browser already has the
 * permission); every htmx request from a form marked data-place carries latitude, longitude,
 * accuracy_m and recorded_at (the fix's time). The words come from the page (data- attributes).
 */
(function () {
  "use strict";
  var box = document.getElementById("geo");
  if (!box || !("geolocation" in navigator)) {
    return;
  }
  var text = document.getElementById("geo-text");
  var button = document.getElementById("geo-locate");
  var fix = null;
  var watching = false;

  function show(message) {
    text.textContent = message;
  }

  function onFix(position) {
    var c = position.coords;
    fix = {
      latitude: c.latitude.toFixed(7),
      longitude: c.longitude.toFixed(7),
      accuracy_m: c.accuracy != null ? c.accuracy.toFixed(1) : "",
      recorded_at: new Date(position.timestamp || Date.now()).toISOString(),
    };
    box.dataset.located = "1";
    show(
      box.dataset.label + ": " + c.latitude.toFixed(6) + ", " + c.longitude.toFixed(6) +
      (c.accuracy != null ? " ±" + Math.round(c.accuracy) + " m" : "") +
      " · " + new Date(position.timestamp || Date.now()).toLocaleTimeString()
    );
  }

  function onError() {
    if (!fix) {
      show(box.dataset.denied);
    }
  }

  function start() {
    if (watching) {
      return;
    }
    watching = true;
    show(box.dataset.waiting);
    navigator.geolocation.watchPosition(onFix, onError, { enableHighAccuracy: true, maximumAge: 30000, timeout: 30000 });
  }

  button.addEventListener("click", start);
  if (navigator.permissions && navigator.permissions.query) {
    navigator.permissions.query({ name: "geolocation" }).then(function (status) {
      if (status.state === "granted") {
        start();
      }
    }).catch(function () {});
  }

  // Every record and photo form marked data-place sends the latest fix with it.
  document.body.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt && event.detail.elt.closest ? event.detail.elt.closest("form[data-place]") : null;
    if (!form || !fix) {
      return;
    }
    Object.keys(fix).forEach(function (key) {
      if (fix[key] !== "") {
        event.detail.parameters[key] = fix[key];
      }
    });
  });
  // Forms sent without htmx (no script support for it) carry the fix in hidden inputs.
  document.body.addEventListener("submit", function (event) {
    var form = event.target;
    if (!fix || !form.matches || !form.matches("form[data-place]") || form.hasAttribute("hx-post")) {
      return;
    }
    Object.keys(fix).forEach(function (key) {
      var input = form.querySelector('input[type=hidden][name="' + key + '"]');
      if (!input) {
        input = document.createElement("input");
        input.type = "hidden";
        input.name = key;
        form.appendChild(input);
      }
      input.value = fix[key];
    });
  });
})();
