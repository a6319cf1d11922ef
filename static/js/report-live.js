// Impact report: keep the headline figures current during the event.
// Listens on the event channel (/ws/events/{slug}, see docs/live-protocol.md) and, when a room's
// presence changes or someone reports an outcome or a follow-up task, refetches the JSON report
// (at most once every few seconds) and rewrites the figures. Charts and tables change on reload.
(function () {
  "use strict";
  var root = document.getElementById("report");
  if (!root || !window.WebSocket || !window.fetch) return;
  var reportUrl = root.getAttribute("data-report-url");
  var slug = root.getAttribute("data-event-slug");
  var REFRESH_ON = { presence: true, outcome: true, followup: true };
  var DEBOUNCE_MS = 3000;
  var lastSeq = null;
  var timer = null;
  var retry = 1000;

  function show(summary) {
    var cells = root.querySelectorAll("[data-figure]");
    for (var i = 0; i < cells.length; i++) {
      var key = cells[i].getAttribute("data-figure");
      if (Object.prototype.hasOwnProperty.call(summary, key)) {
        var value = summary[key];
        cells[i].textContent = value === null ? "\u2014" : String(value);
      }
    }
  }

  function refresh() {
    timer = null;
    fetch(reportUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body && body.summary) show(body.summary); })
      .catch(function () { /* the next message tries again */ });
  }

  function schedule() {
    if (timer === null) timer = setTimeout(refresh, DEBOUNCE_MS);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + "/ws/events/" + encodeURIComponent(slug);
    if (lastSeq !== null) url += "?after=" + lastSeq;
    var socket = new WebSocket(url);
    socket.onopen = function () { retry = 1000; };
    socket.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (!message || typeof message !== "object") return;
      if (typeof message.seq === "number" && !message.ephemeral) lastSeq = message.seq;
      if (REFRESH_ON[message.type]) schedule();
    };
    socket.onclose = function (event) {
      if (event.code >= 4400 && event.code < 4500) return; // refused: not for this user
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }

  connect();
})();
