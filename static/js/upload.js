/* Change-layer upload with progress: the file's upload (XHR progress), then the scan's states
 * (queued → running → done) polled from the layer's progress endpoint, then the layer page. */
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var box = document.getElementById("upload-progress");
  var bar = document.getElementById("upload-bar");
  var statusEl = document.getElementById("upload-status");
  var submit = document.getElementById("upload-submit");
  var seen = [];

  function setBar(pct, label) {
    pct = Math.max(0, Math.min(100, Math.round(pct)));
    bar.querySelector(".bar").style.width = pct + "%";
    bar.querySelector(".label").textContent = pct + "%" + (label ? " · " + label : "");
    bar.setAttribute("aria-valuenow", pct);
  }
  function step(name, label) {
    if (seen[seen.length - 1] !== name) seen.push(name);
    box.setAttribute("data-states", seen.join(","));
    try { window.sessionStorage.setItem("uploadStates", seen.join(",")); } catch (err) { /* private mode */ }
    var order = ["upload", "queued", "running", "done"];
    var idx = order.indexOf(name);
    box.querySelectorAll("#upload-steps li").forEach(function (li) {
      var i = order.indexOf(li.getAttribute("data-step"));
      li.className = i < idx || name === "done" ? "done" : i === idx ? "on" : "";
    });
    bar.setAttribute("data-status", name);
    if (label) statusEl.textContent = label;
  }
  function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function poll(progressUrl, detailUrl) {
    return fetch(progressUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (p) {
        // A scan that finished within the request (eager Celery) still shows each state in turn.
        var chain = Promise.resolve();
        var order = ["queued", "running", "done"];
        var target = p.status === "failed" ? "running" : p.status;
        var last = seen[seen.length - 1];
        var from = Math.max(0, order.indexOf(last) + 1);
        order.slice(from, order.indexOf(target) + 1).forEach(function (s) {
          chain = chain.then(function () {
            step(s, p.labels[s]);
            setBar(s === target ? p.progress : s === "queued" ? 0 : 50, p.labels[s]);
            return wait(250);
          });
        });
        return chain.then(function () {
          if (p.status === "done" || p.status === "failed") {
            if (p.status === "failed") { bar.setAttribute("data-status", "failed"); statusEl.textContent = p.error || p.labels.failed; }
            return wait(400).then(function () { window.location.href = detailUrl; });
          }
          return wait(800).then(function () { return poll(progressUrl, detailUrl); });
        });
      });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    box.hidden = false;
    submit.disabled = true;
    seen = [];
    step("upload", "");
    setBar(0);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.pathname);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", function (ev) {
      if (ev.lengthComputable) setBar((100 * ev.loaded) / ev.total);
    });
    xhr.upload.addEventListener("load", function () { setBar(100); step("queued", ""); });
    xhr.addEventListener("load", function () {
      var data = {};
      try { data = JSON.parse(xhr.responseText); } catch (err) { data = { error: xhr.statusText }; }
      if (xhr.status !== 201) {
        statusEl.textContent = data.error || xhr.statusText;
        bar.setAttribute("data-status", "failed");
        submit.disabled = false;
        return;
      }
      poll(data.url + "progress/", data.url);
    });
    xhr.addEventListener("error", function () { statusEl.textContent = "network error"; submit.disabled = false; });
    xhr.send(new FormData(form));
  });
})();
