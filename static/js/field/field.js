/* The field page (/field/): an app shell filled from IndexedDB, so it works with no network.
 * "Take offline" stores the package (inspections, checklists, leads, unit outlines) and caches
 * the page, the evidence chips and the basemap tiles; answers, findings and photos (with GPS
 * and time) queue in the outbox and sync when the network is back (see store.js).
 * No inline script: configuration comes from json_script blocks (#field-config, #field-i18n). */
(function () {
  "use strict";
  var S = window.FieldStore;
  var cfg = JSON.parse(document.getElementById("field-config").textContent);
  var T = JSON.parse(document.getElementById("field-i18n").textContent);
  var maps = [];

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "hidden") e.hidden = !!attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function fmt(s, args) { return s.replace(/%\((\w+)\)s/g, function (_, k) { return args[k] == null ? "" : args[k]; }); }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : ""; }
  function say(text, attrs) {
    var m = $("field-message");
    m.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { m.setAttribute("data-" + k, attrs[k]); });
  }

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  /* Where the device is now (best effort: a record without a fix is still kept). */
  function position() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve({});
      navigator.geolocation.getCurrentPosition(
        function (p) {
          resolve({ latitude: +p.coords.latitude.toFixed(7), longitude: +p.coords.longitude.toFixed(7), accuracy_m: Math.round(p.coords.accuracy) });
        },
        function () { resolve({}); },
        { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
      );
    });
  }

  function queue(record) {
    record.user = cfg.user;
    return position().then(function (pos) {
      record.latitude = pos.latitude; record.longitude = pos.longitude;
      record.accuracy_m = pos.accuracy_m;
      record.recorded_at = new Date().toISOString();
      return S.enqueue(record);
    }).then(function (rec) {
      requestBackgroundSync();
      return render().then(function () {
        if (navigator.onLine) return sync();
        say(T.saved);
      }).then(function () { return rec; });
    });
  }

  function requestBackgroundSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.getRegistration(cfg.scope).then(function (reg) {
      if (reg && reg.sync) reg.sync.register("field-outbox").catch(function () {});
    });
  }

  /* --- Take offline ------------------------------------------------------------------ */
  function takeOffline() {
    say(T.taking);
    var pkg;
    return fetch(cfg.packageUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (p) {
        pkg = p;
        return S.setMeta("package", pkg);
      })
      .then(function () { return S.setMeta("csrf", csrfToken()); })
      .then(function () { return S.setMeta("user", cfg.user); })
      .then(function () {
        if (!window.caches) return 0;
        var own = pkg.assets.filter(function (u) { return u.indexOf("http") !== 0 || u.indexOf(location.origin) === 0; });
        var tiles = pkg.assets.filter(function (u) { return own.indexOf(u) < 0; });
        return Promise.all([
          caches.open("field-pages").then(function (c) { return c.add(new Request(cfg.pageUrl, { credentials: "same-origin" })); }),
          caches.open("field-data").then(function (c) {
            return Promise.all(own.map(function (u) { return c.add(new Request(u, { credentials: "same-origin" })).catch(function () {}); }));
          }),
          caches.open("field-tiles").then(function (c) {
            return Promise.all(tiles.map(function (u) {
              return fetch(u, { mode: "no-cors" }).then(function (r) { return c.put(u, r); }).catch(function () {});
            }));
          }),
        ]).then(function () { return own.length + tiles.length; });
      })
      .then(function (files) {
        if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
        say(fmt(T.taken, { i: pkg.inspections.length, l: pkg.leads.length, a: files }), { taken: pkg.generated_at });
        return render();
      })
      .catch(function (e) { say(T.takeFailed + " " + (e && e.message || "")); });
  }

  /* --- Sync ------------------------------------------------------------------------- */
  var syncing = null, retry = null;
  function sync() {
    if (syncing) return syncing;
    syncing = S.setMeta("csrf", csrfToken())
      .then(function () { return S.setMeta("user", cfg.user); })
      .then(function () { return S.flush(cfg); })
      .then(function (stats) {
        say(fmt(T.syncDone, stats), { sent: stats.sent, synced: stats.synced, conflicts: stats.conflicts, left: stats.left, done: Date.now() });
        // Something stayed queued (server trouble, a flaky network): try again in a minute.
        clearTimeout(retry);
        if (stats.left) retry = setTimeout(function () { if (navigator.onLine) sync(); }, 60000);
        // Refresh the package so the checklist shows the server's state (only when something went).
        if (stats.synced && navigator.onLine) {
          return fetch(cfg.packageUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
            .then(function (r) { return r.ok ? r.json() : null; })
            .then(function (p) { if (p) return S.setMeta("package", p); })
            .catch(function () {});
        }
      })
      .then(render, render)
      .then(function () { syncing = null; }, function () { syncing = null; });
    return syncing;
  }

  /* --- Rendering ------------------------------------------------------------------- */
  function miniMap(container, unit, site, basemap) {
    if (!window.L) return;
    // A view before any vector layer: Leaflet clips paths against the view's bounds.
    var m = L.map(container, { attributionControl: !!(basemap && basemap.url), zoomControl: true, zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false }).setView([43.88, 125.32], 9);
    if (basemap && basemap.url) L.tileLayer(basemap.url, { attribution: basemap.attribution || "", maxZoom: 18 }).addTo(m);
    var layers = [];
    if (unit && unit.geometry) layers.push(L.geoJSON(unit.geometry, { style: { color: "#2e7d32", weight: 2, fillOpacity: 0.08 } }).addTo(m));
    if (site && site.type) {
      layers.push(L.geoJSON(site, {
        style: { color: "#c62828", weight: 2, fillOpacity: 0.3 },
        pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 7, color: "#c62828", fillOpacity: 0.8 }); },
      }).addTo(m));
    } else if (site && site.length === 2) {
      layers.push(L.circleMarker([site[1], site[0]], { radius: 7, color: "#c62828", fillOpacity: 0.8 }).addTo(m));
    }
    var group = L.featureGroup(layers);
    if (layers.length) m.fitBounds(group.getBounds(), { maxZoom: 16, padding: [10, 10], animate: false });
    maps.push(m);
  }

  function navLink(lonlat) {
    if (!lonlat) return null;
    var text = lonlat[1].toFixed(6) + ", " + lonlat[0].toFixed(6);
    return el("span", { class: "muted" }, [T.coordinates + " " + text + " (WGS84) "]);
  }

  function stateOf(key, outboxRows, results) {
    var pending = outboxRows.filter(function (r) { return key(r); });
    var done = results.filter(function (r) { return key(r.record); });
    return { pending: pending, done: done };
  }

  function resultLine(r) {
    var b = r.body || {};
    if (r.state === "synced") return T.synced + (r.record.kind === "photo" ? " · " + T.photo : "");
    if (r.state === "conflict") return T.conflict + ": " + (b.detail || "");
    return T.refused + ": " + (b.detail || r.status);
  }

  function photoInput(attrs) {
    var input = el("input", Object.assign({ type: "file", accept: "image/*", capture: "environment", class: "field-photo" }, attrs));
    var label = el("label", { class: "field-photo-label" }, [T.takePhoto + " ", input]);
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) return;
      var rec = { kind: "photo", blob: file, filename: file.name || "photo.jpg", caption: "" };
      ["inspection", "item", "lead"].forEach(function (k) { var v = input.getAttribute("data-" + k); if (v) rec[k] = +v; });
      queue(rec).then(function () { input.value = ""; });
    });
    return label;
  }

  function itemBlock(insp, item, outboxRows, results) {
    var st = stateOf(function (r) { return r.item === item.item; }, outboxRows, results);
    var answers = st.pending.filter(function (r) { return r.kind === "answer"; });
    var photosQueued = st.pending.filter(function (r) { return r.kind === "photo"; }).length;
    var state = answers.length ? "queued" : item.result !== "pending" ? "recorded" : "open";
    var doneAnswers = st.done.filter(function (r) { return r.record.kind === "answer"; });
    var last = doneAnswers[doneAnswers.length - 1];
    if (!answers.length && last && last.state !== "synced") state = last.state;
    var li = el("li", { class: "field-item", id: "field-item-" + item.item, "data-item-id": item.item, "data-state": state });
    li.appendChild(el("p", {}, [el("strong", { text: item.position + ". " }), item.dimension ? "〔" + item.dimension + "〕" : "", item.text]));
    if (item.requirement_number) li.appendChild(el("p", { class: "muted", text: T.clause + " " + item.requirement_number }));
    if (item.result !== "pending") {
      li.appendChild(el("p", { class: "field-server", text: T.onServer + ": " + item.result_label + (item.note ? " — " + item.note : "") + (item.checked_by ? " (" + item.checked_by + ")" : "") }));
    }
    if (item.photos && item.photos.length) {
      var ph = el("div", { class: "field-chips" });
      item.photos.forEach(function (p) {
        ph.appendChild(el("img", { src: p.url, alt: T.photo + " " + when(p.taken_at), class: "field-chip", loading: "lazy" }));
      });
      li.appendChild(ph);
    }
    answers.forEach(function (a) {
      li.appendChild(el("p", { class: "field-queued", text: T.queuedHere + ": " + T.results[a.result] + (a.note ? " — " + a.note : "") }));
    });
    if (photosQueued) li.appendChild(el("p", { class: "field-queued", text: fmt(T.photosQueued, { n: photosQueued }) }));
    st.done.forEach(function (r) {
      li.appendChild(el("p", { class: "field-result field-" + r.state, "data-result": r.state, text: resultLine(r) }));
      if (r.state === "conflict" && r.body && r.body.server) {
        var s = r.body.server;
        li.appendChild(el("p", { class: "field-conflict-detail", text: T.serverVersion + ": " + (s.result_label || s.status_label || "") + (s.note ? " — " + s.note : "") + (s.checked_by ? " (" + s.checked_by + " " + when(s.checked_at) + ")" : "") + " · " + T.mine + ": " + T.results[r.record.result] + (r.record.note ? " — " + r.record.note : "") }));
      }
    });
    if (item.result === "pending" && !answers.length && insp.status !== "completed") {
      var form = el("form", { class: "field-answer", "data-item": item.item });
      var fs = el("fieldset", {}, [el("legend", { text: T.result })]);
      ["pass", "fail", "note"].forEach(function (v) {
        fs.appendChild(el("label", {}, [el("input", { type: "radio", name: "result-" + item.item, value: v }), " " + T.results[v] + " "]));
      });
      form.appendChild(fs);
      form.appendChild(el("label", {}, [T.note, el("textarea", { name: "note", rows: "2" })]));
      form.appendChild(el("button", { type: "submit", text: T.save }));
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var chosen = form.querySelector("input[type=radio]:checked");
        var note = form.querySelector("textarea").value.trim();
        if (!chosen) { say(T.chooseResult); return; }
        if (chosen.value !== "pass" && !note) { say(T.noteRequired); return; }
        queue({ kind: "answer", inspection: insp.id, item: item.item, result: chosen.value, note: note });
      });
      li.appendChild(form);
    }
    li.appendChild(photoInput({ "data-inspection": insp.id, "data-item": item.item }));
    return li;
  }

  function inspectionBlock(insp, outboxRows, results, basemap) {
    var card = el("article", { class: "card field-inspection", "data-inspection-id": insp.id });
    card.appendChild(el("h3", { text: insp.target.name + " · " + insp.status_label }));
    card.appendChild(el("p", { class: "muted", text: insp.plan + " · " + insp.division + " · " + T.until + " " + insp.period_end }));
    if (insp.unit) card.appendChild(el("p", { text: T.unit + ": " + insp.unit.code + " " + insp.unit.name + " (" + insp.unit.unit_class_label + ")" }));
    var nav = navLink(insp.target.lonlat);
    if (nav) card.appendChild(nav);
    var mapDiv = el("div", { class: "field-map", id: "field-map-i" + insp.id });
    card.appendChild(mapDiv);
    var ol = el("ul", { class: "field-items" });
    insp.items.forEach(function (item) { ol.appendChild(itemBlock(insp, item, outboxRows, results)); });
    card.appendChild(ol);
    return { card: card, map: function () { miniMap(mapDiv, insp.unit, insp.target.lonlat, basemap); } };
  }

  function leadBlock(lead, outboxRows, results, basemap) {
    var st = stateOf(function (r) { return r.lead === lead.id; }, outboxRows, results);
    var card = el("article", { class: "card field-lead", "data-lead-id": lead.id });
    card.appendChild(el("h3", { text: "#" + lead.id + " " + lead.title + " · " + lead.status_label }));
    card.appendChild(el("p", { class: "muted", text: lead.source_label + " · " + lead.division + (lead.verification_due_at ? " · " + T.due + " " + when(lead.verification_due_at) : "") }));
    if (lead.reason) card.appendChild(el("p", { text: lead.reason }));
    if (lead.unit) card.appendChild(el("p", { text: T.unit + ": " + lead.unit.code + " " + lead.unit.name + " (" + lead.unit.unit_class_label + ")" }));
    var nav = navLink(lead.lonlat);
    if (nav) card.appendChild(nav);
    var mapDiv = el("div", { class: "field-map", id: "field-map-l" + lead.id });
    card.appendChild(mapDiv);
    if (lead.chips.length) {
      var chips = el("div", { class: "field-chips" });
      lead.chips.forEach(function (c) { chips.appendChild(el("img", { src: c.url, alt: c.caption || T.chip, loading: "lazy", class: "field-chip" })); });
      card.appendChild(chips);
    }
    st.pending.forEach(function (r) {
      card.appendChild(el("p", { class: "field-queued", text: T.queuedHere + ": " + (r.kind === "photo" ? T.photo : r.finding) }));
    });
    st.done.forEach(function (r) {
      card.appendChild(el("p", { class: "field-result field-" + r.state, "data-result": r.state, text: resultLine(r) }));
    });
    var form = el("form", { class: "field-finding", "data-lead": lead.id });
    form.appendChild(el("label", {}, [T.finding, el("textarea", { name: "finding", rows: "3" })]));
    form.appendChild(el("button", { type: "submit", text: T.save }));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var text = form.querySelector("textarea").value.trim();
      if (!text) { say(T.findingRequired); return; }
      queue({ kind: "finding", lead: lead.id, finding: text });
    });
    card.appendChild(form);
    card.appendChild(photoInput({ "data-lead": lead.id }));
    return { card: card, map: function () { miniMap(mapDiv, lead.unit, lead.geometry, basemap); } };
  }

  function render() {
    return Promise.all([S.getMeta("package"), S.outbox(), S.all("results")]).then(function (r) {
      // What another person took offline or queued on this device is not shown to this one.
      var pkg = r[0] && r[0].user === cfg.user ? r[0] : null;
      var mine = function (x) { return !x.user || x.user === cfg.user; };
      var outboxRows = r[1].filter(mine);
      var results = r[2].filter(function (x) { return mine(x.record); });
      var net = $("field-net");
      net.textContent = navigator.onLine ? T.online : T.offline;
      net.setAttribute("data-online", navigator.onLine ? "true" : "false");
      var box = $("field-outbox-info");
      box.textContent = outboxRows.length ? fmt(T.queued, { n: outboxRows.length }) : T.nothingQueued;
      box.setAttribute("data-count", outboxRows.length);
      var troubles = results.filter(function (x) { return x.state !== "synced"; });
      var list = $("field-conflict-list");
      list.textContent = "";
      troubles.forEach(function (x) {
        var rec = x.record, b = x.body || {};
        var what = rec.kind === "answer" ? fmt(T.itemLabel, { i: rec.inspection, n: rec.item }) : rec.kind === "finding" ? "#" + rec.lead : T.photo;
        var line = el("li", { "data-client-id": rec.client_id, "data-state": x.state, "data-code": b.code || "" }, [what + " — " + resultLine(x)]);
        if (b.server) line.appendChild(el("div", { class: "muted", text: T.serverVersion + ": " + (b.server.result_label || b.server.status_label || "") + (b.server.note ? " — " + b.server.note : "") }));
        list.appendChild(line);
      });
      $("field-conflicts").hidden = !troubles.length;
      maps.forEach(function (m) { m.remove(); });
      maps = [];
      var inspBox = $("field-inspections"), leadBox = $("field-leads");
      if (!pkg) return;
      $("field-package-info").textContent = fmt(T.packageAt, { at: when(pkg.generated_at) });
      $("field-package-info").setAttribute("data-generated", pkg.generated_at);
      inspBox.textContent = ""; leadBox.textContent = "";
      var later = [];
      if (!pkg.inspections.length) inspBox.appendChild(el("p", { class: "muted", text: T.noInspections }));
      pkg.inspections.forEach(function (insp) {
        var b = inspectionBlock(insp, outboxRows, results, pkg.basemap); inspBox.appendChild(b.card); later.push(b.map);
      });
      if (!pkg.leads.length) leadBox.appendChild(el("p", { class: "muted", text: T.noLeads }));
      pkg.leads.forEach(function (lead) {
        var b = leadBlock(lead, outboxRows, results, pkg.basemap); leadBox.appendChild(b.card); later.push(b.map);
      });
      later.forEach(function (fn) { fn(); });
      document.body.setAttribute("data-field-ready", "true");
    });
  }

  $("field-take-offline").addEventListener("click", function () { takeOffline(); });
  $("field-sync-now").addEventListener("click", function () { sync(); });
  window.addEventListener("online", function () { render(); sync(); });
  window.addEventListener("offline", function () { render(); });
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", function (ev) {
      if (ev.data && ev.data.type === "field-synced") render();
    });
  }
  window.FieldPage = { render: render, sync: sync, takeOffline: takeOffline };
  render().then(function () {
    return S.outbox().then(function (rows) { if (rows.length && navigator.onLine) return sync(); });
  });
})();
