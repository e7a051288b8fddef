/* Service worker of the field app (scope /field/), built on Workbox from the npm registry.
 * /sw.js (a Django view) loads workbox-sw with modulePathPrefix=/static/vendor/workbox/ and
 * sets self.FIELD_SW = {precache, page, staticUrl}; this file holds the routes.
 * Modules are touched at the top level so importScripts runs during the first evaluation. */
/* global workbox */
(function () {
  "use strict";
  var cfg = self.FIELD_SW;
  var core = workbox.core, routing = workbox.routing, strategies = workbox.strategies;
  var precaching = workbox.precaching, expiration = workbox.expiration, cacheable = workbox.cacheableResponse;

  core.setCacheNameDetails({ prefix: "field" });
  self.skipWaiting();
  core.clientsClaim();

  // The app shell: CSS, Leaflet, Workbox window, the field scripts, icons, manifest.
  precaching.precacheAndRoute(cfg.precache, { ignoreURLParametersMatching: [/.*/] });
  precaching.cleanupOutdatedCaches();

  // Never keep a login redirect or an error page in place of the field page.
  var onlyOk = {
    cacheWillUpdate: function (args) {
      var r = args.response;
      return r && r.ok && !r.redirected ? r : null;
    },
  };

  // The field page: fresh when online, from the cache offline ("take offline" stores it too).
  routing.registerRoute(
    function (o) { return o.request.mode === "navigate" && o.url.pathname.indexOf(cfg.page) === 0; },
    new strategies.NetworkFirst({
      cacheName: "field-pages",
      networkTimeoutSeconds: 8,
      matchOptions: { ignoreVary: true, ignoreSearch: true },
      plugins: [onlyOk],
    })
  );

  // Evidence chips and field photos: stored by "take offline", served from the cache first.
  routing.registerRoute(
    function (o) {
      return o.url.origin === self.location.origin &&
        (o.url.pathname.indexOf("/desk/evidence/") === 0 || o.url.pathname.indexOf("/field/photos/") === 0);
    },
    new strategies.CacheFirst({ cacheName: "field-data", matchOptions: { ignoreVary: true }, plugins: [onlyOk] })
  );

  // Basemap tiles (another host when BASEMAP_URL is set): cache first, bounded.
  routing.registerRoute(
    function (o) { return o.request.destination === "image" && o.url.origin !== self.location.origin; },
    new strategies.CacheFirst({
      cacheName: "field-tiles",
      plugins: [
        new cacheable.CacheableResponsePlugin({ statuses: [0, 200] }),
        new expiration.ExpirationPlugin({ maxEntries: 3000, purgeOnQuotaError: true }),
      ],
    })
  );

  // Any other static asset the page asks for.
  routing.registerRoute(
    function (o) { return o.url.origin === self.location.origin && o.url.pathname.indexOf(cfg.staticUrl) === 0; },
    new strategies.StaleWhileRevalidate({ cacheName: "field-static", plugins: [onlyOk] })
  );

  // Background Sync where the browser has it: flush the outbox from here, then tell the pages.
  self.addEventListener("sync", function (event) {
    if (event.tag !== "field-outbox") return;
    event.waitUntil(
      self.FieldStore.flush(cfg.urls).then(function (stats) {
        return self.clients.matchAll({ type: "window" }).then(function (clients) {
          clients.forEach(function (c) { c.postMessage({ type: "field-synced", stats: stats }); });
        });
      })
    );
  });
})();
