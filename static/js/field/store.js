/* The device side of field work offline: IndexedDB (package, outbox, results) and the sync.
 * Loaded by the field page and by the service worker (Background Sync), so it uses only what
 * both have: indexedDB, fetch, FormData, navigator.locks. Exposes self.FieldStore.
 *
 * Exactly once: every record and photo gets a UUID on the device (client_id) and is PUT to
 * an idempotent endpoint. A record leaves the outbox only when the server answered it:
 * 201 (stored) or 200 (already stored: a resend) -> "synced"; 409 -> "conflict" with the
 * server's version; another 4xx -> "refused" with the reason. A network failure or 5xx
 * keeps it queued for the next try. */
(function (root) {
  "use strict";
  var DB_NAME = "field-offline";
  var DB_VERSION = 1;
  var dbPromise = null;

  function req(r) {
    return new Promise(function (resolve, reject) {
      r.onsuccess = function () { resolve(r.result); };
      r.onerror = function () { reject(r.error); };
    });
  }

  function open() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var r = root.indexedDB.open(DB_NAME, DB_VERSION);
        r.onupgradeneeded = function () {
          var db = r.result;
          // meta: the package, the CSRF token, the last sync; outbox: queued records (with photo blobs);
          // results: what the server answered for each client_id.
          db.createObjectStore("meta", { keyPath: "key" });
          var out = db.createObjectStore("outbox", { keyPath: "client_id" });
          out.createIndex("queued_at", "queued_at");
          db.createObjectStore("results", { keyPath: "client_id" });
        };
        r.onsuccess = function () { resolve(r.result); };
        r.onerror = function () { reject(r.error); };
      });
    }
    return dbPromise;
  }

  function tx(store, mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(store, mode);
        var out = fn(t.objectStore(store));
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }

  function get(store, key) { return tx(store, "readonly", function (s) { return s.get(key); }); }
  function put(store, value) { return tx(store, "readwrite", function (s) { s.put(value); }); }
  function del(store, key) { return tx(store, "readwrite", function (s) { s.delete(key); }); }
  function all(store) { return tx(store, "readonly", function (s) { return s.getAll(); }); }

  function uuid() {
    if (root.crypto && root.crypto.randomUUID) return root.crypto.randomUUID();
    var b = root.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function getMeta(key) { return get("meta", key).then(function (row) { return row ? row.value : null; }); }
  function setMeta(key, value) { return put("meta", { key: key, value: value }); }

  /* Queue a record: {kind: answer|finding|photo, ...fields}; returns it with its client_id. */
  function enqueue(record) {
    record.client_id = record.client_id || uuid();
    record.queued_at = new Date().toISOString();
    return put("outbox", record).then(function () { return record; });
  }

  function outbox() {
    return all("outbox").then(function (rows) {
      return rows.sort(function (a, b) { return a.queued_at < b.queued_at ? -1 : 1; });
    });
  }

  function url(template, clientId) { return template.replace("00000000-0000-0000-0000-000000000000", clientId); }

  function request(cfg, csrf, rec) {
    var headers = { "X-CSRFToken": csrf || "", Accept: "application/json" };
    var place = { latitude: rec.latitude, longitude: rec.longitude, accuracy_m: rec.accuracy_m, recorded_at: rec.recorded_at };
    if (rec.kind === "photo") {
      var fd = new FormData();
      fd.append("file", rec.blob, rec.filename || "photo.jpg");
      ["inspection", "item", "lead", "caption"].forEach(function (k) {
        if (rec[k] !== undefined && rec[k] !== null && rec[k] !== "") fd.append(k, rec[k]);
      });
      Object.keys(place).forEach(function (k) { if (place[k] !== undefined && place[k] !== null) fd.append(k, place[k]); });
      return fetch(url(cfg.photoUrl, rec.client_id), { method: "PUT", credentials: "same-origin", headers: headers, body: fd });
    }
    var body = rec.kind === "answer"
      ? { inspection: rec.inspection, item: rec.item, result: rec.result, note: rec.note || "" }
      : { lead: rec.lead, finding: rec.finding };
    Object.keys(place).forEach(function (k) { if (place[k] !== undefined && place[k] !== null) body[k] = place[k]; });
    headers["Content-Type"] = "application/json";
    return fetch(url(rec.kind === "answer" ? cfg.answerUrl : cfg.findingUrl, rec.client_id), {
      method: "PUT", credentials: "same-origin", headers: headers, body: JSON.stringify(body),
    });
  }

  function summary(rec) {
    var copy = {};
    Object.keys(rec).forEach(function (k) { if (k !== "blob") copy[k] = rec[k]; });
    return copy;
  }

  /* Send every queued record once; resolves {sent, synced, conflicts, refused, left}. */
  function flushNow(cfg) {
    var stats = { sent: 0, synced: 0, conflicts: 0, refused: 0, left: 0 };
    return Promise.all([outbox(), getMeta("csrf"), getMeta("user")]).then(function (r) {
      // Only the signed-in person's records: another's wait until they sign in again on this device.
      var user = cfg.user || r[2];
      var rows = r[0].filter(function (rec) { return !rec.user || rec.user === user; }), csrf = r[1];
      var chain = Promise.resolve(false);
      rows.forEach(function (rec) {
        chain = chain.then(function (stop) {
          if (stop) { stats.left += 1; return true; }
          stats.sent += 1;
          return request(cfg, csrf, rec).then(function (resp) {
            return resp.json().catch(function () { return null; }).then(function (body) {
              // Server trouble, a lost session or CSRF (no coded JSON reply): keep it queued, try later.
              if (resp.status >= 500 || resp.status === 401 || (resp.status === 403 && !(body && body.code))) {
                stats.left += 1; return true;
              }
              var state = resp.status === 200 || resp.status === 201 ? "synced" : resp.status === 409 ? "conflict" : "refused";
              stats[state === "synced" ? "synced" : state === "conflict" ? "conflicts" : "refused"] += 1;
              var result = { client_id: rec.client_id, state: state, status: resp.status, body: body || {}, record: summary(rec), at: new Date().toISOString() };
              return put("results", result).then(function () { return del("outbox", rec.client_id); }).then(function () { return false; });
            });
          }, function () { stats.left += 1; return true; }); // offline again: stop here, keep the rest queued
        });
      });
      return chain.then(prune).then(function () { return setMeta("lastSync", { at: new Date().toISOString(), stats: stats }); })
        .then(function () { return stats; });
    });
  }

  /* Forget synced results after a week (conflicts and refusals stay until the person has seen them). */
  function prune() {
    var cutoff = new Date(Date.now() - 7 * 864e5).toISOString();
    return all("results").then(function (rows) {
      return Promise.all(rows.filter(function (r) { return r.state === "synced" && r.at < cutoff; })
        .map(function (r) { return del("results", r.client_id); }));
    });
  }

  /* One sync at a time across the page and the service worker. */
  function flush(cfg) {
    if (root.navigator && root.navigator.locks) {
      return root.navigator.locks.request("field-sync", function () { return flushNow(cfg); });
    }
    return flushNow(cfg);
  }

  root.FieldStore = {
    open: open, get: get, put: put, del: del, all: all, uuid: uuid,
    getMeta: getMeta, setMeta: setMeta, enqueue: enqueue, outbox: outbox, flush: flush,
  };
})(self);
