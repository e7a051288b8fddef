/* Registers the field app's service worker (/sw.js, scope /field/) through workbox-window. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("field-config").textContent);
  var out = document.getElementById("field-sw-state");
  function state(s) { if (out) out.setAttribute("data-state", s); }
  if (!("serviceWorker" in navigator) || !window.workbox) { state("unsupported"); return; }
  if (navigator.serviceWorker.controller) state("controlled");
  var wb = new window.workbox.Workbox(cfg.swUrl, { scope: cfg.scope });
  wb.addEventListener("controlling", function () { state("controlled"); });
  wb.addEventListener("activated", function () { if (navigator.serviceWorker.controller) state("controlled"); });
  wb.register().then(function () {
    return navigator.serviceWorker.ready;
  }).then(function () {
    if (navigator.serviceWorker.controller) state("controlled");
    else if (out.getAttribute("data-state") !== "controlled") state("ready");
  }).catch(function () { state("failed"); });
})();
